from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="Order of a revenue breakdown.")
class RevenueOrder(Enum):
    REVENUE_DESC = strawberry.enum_value("REVENUE_DESC", description="Highest revenue first.")
    REVENUE_ASC = strawberry.enum_value("REVENUE_ASC", description="Lowest revenue first.")
    ORDERS_DESC = strawberry.enum_value("ORDERS_DESC", description="Most orders first.")
    NAME_ASC = strawberry.enum_value(
        "NAME_ASC", description="Alphabetically by country or product name."
    )
