from __future__ import annotations

import strawberry

from graphql_api.store import Document


@strawberry.type(description="Revenue of one calendar month.")
class MonthlyRevenue:
    month: str = strawberry.field(description="The month, written YYYY-MM.")
    total_revenue: float = strawberry.field(description="Sum of the month's order amounts.")
    total_orders: int = strawberry.field(description="Number of orders in the month.")
    avg_basket: float = strawberry.field(description="Average order amount in the month.")
    document: strawberry.Private[Document]

    @classmethod
    def from_document(cls, doc: Document) -> MonthlyRevenue:
        return cls(
            month=str(doc["month"]),
            total_revenue=float(doc["total_revenue"]),
            total_orders=int(doc["total_orders"]),
            avg_basket=float(doc["avg_basket"]),
            document=doc,
        )
