from __future__ import annotations

from enum import Enum
from typing import cast

import strawberry


@strawberry.enum(description="Direction of an ordering.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Smallest (or first in the alphabet) first.")
    DESC = strawberry.enum_value("DESC", description="Largest (or last in the alphabet) first.")

    @property
    def sign(self) -> int:
        return 1 if self is OrderDirection.ASC else -1


class SortField(Enum):
    """The fields of an ``orderBy``: each value is the gold column it sorts on."""

    @property
    def column(self) -> str | None:
        """The gold column sorted on (None: the table's own key)."""
        return cast("str | None", self.value)


@strawberry.enum(description="What a revenue breakdown is sorted on; ties by name ascending.")
class RevenueOrderField(SortField):
    REVENUE = strawberry.enum_value("total_revenue", description="Total revenue.")
    ORDERS = strawberry.enum_value("total_orders", description="Number of orders.")
    NAME = strawberry.enum_value(None, description="Country or product name.")  # its key


@strawberry.input(description="Order of a revenue breakdown.")
class RevenueOrder:
    field: RevenueOrderField = RevenueOrderField.REVENUE
    direction: OrderDirection = OrderDirection.DESC
