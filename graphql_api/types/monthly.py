from __future__ import annotations

import strawberry

from graphql_api.store import Document
from graphql_api.types.gold import column, table_description

TABLE = "monthly_revenue"


@strawberry.type(description=table_description(TABLE))
class MonthlyRevenue:
    month: str = column(TABLE, "month")
    total_revenue: float = column(TABLE, "total_revenue")
    total_orders: int = column(TABLE, "total_orders")
    avg_basket: float = column(TABLE, "avg_basket")

    @classmethod
    def from_document(cls, doc: Document) -> MonthlyRevenue:
        return cls(
            month=str(doc["month"]),
            total_revenue=float(doc["total_revenue"]),
            total_orders=int(doc["total_orders"]),
            avg_basket=float(doc["avg_basket"]),
        )
