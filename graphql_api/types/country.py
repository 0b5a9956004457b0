from __future__ import annotations

import strawberry

from graphql_api.context import AppInfo
from graphql_api.store import Document
from graphql_api.types.customer import Customer
from graphql_api.types.gold import column, table_description
from graphql_api.validation import page_size

TABLE = "revenue_by_country"


@strawberry.type(description=table_description(TABLE))
class CountryRevenue:
    country: str = column(TABLE, "country")
    total_revenue: float = column(TABLE, "total_revenue")
    total_orders: int = column(TABLE, "total_orders")
    avg_basket: float = column(TABLE, "avg_basket")

    @classmethod
    def from_document(cls, doc: Document) -> CountryRevenue:
        return cls(
            country=str(doc["country"]),
            total_revenue=float(doc["total_revenue"]),
            total_orders=int(doc["total_orders"]),
            avg_basket=float(doc["avg_basket"]),
        )

    @strawberry.field(description="The country's best customers by total spent (1 to 100).")
    async def top_customers(self, info: AppInfo, first: int = 5) -> list[Customer]:
        page_size("first", first)
        docs = await info.context["store"].top_customers(self.country, first)
        info.context["loaders"].prime_customers(docs)
        return [Customer.from_document(doc) for doc in docs]
