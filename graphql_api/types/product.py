from __future__ import annotations

import strawberry

from graphql_api.store import Document
from graphql_api.types.gold import column, table_description

TABLE = "revenue_by_product"


@strawberry.type(description=table_description(TABLE))
class ProductRevenue:
    product: str = column(TABLE, "product")
    total_revenue: float = column(TABLE, "total_revenue")
    total_orders: int = column(TABLE, "total_orders")
    avg_price: float = column(TABLE, "avg_price")

    @classmethod
    def from_document(cls, doc: Document) -> ProductRevenue:
        return cls(
            product=str(doc["product"]),
            total_revenue=float(doc["total_revenue"]),
            total_orders=int(doc["total_orders"]),
            avg_price=float(doc["avg_price"]),
        )
