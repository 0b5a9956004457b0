from __future__ import annotations

import strawberry

from graphql_api.store import Document


@strawberry.type(description="Revenue of one product.")
class ProductRevenue:
    product: str = strawberry.field(description="Product name, title-cased.")
    total_revenue: float = strawberry.field(description="Sum of the product's order amounts.")
    total_orders: int = strawberry.field(description="Number of orders of the product.")
    avg_price: float = strawberry.field(description="Average amount of the product's orders.")
    document: strawberry.Private[Document]

    @classmethod
    def from_document(cls, doc: Document) -> ProductRevenue:
        return cls(
            product=str(doc["product"]),
            total_revenue=float(doc["total_revenue"]),
            total_orders=int(doc["total_orders"]),
            avg_price=float(doc["avg_price"]),
            document=doc,
        )
