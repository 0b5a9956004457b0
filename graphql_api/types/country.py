from __future__ import annotations

import strawberry

from graphql_api.context import AppInfo
from graphql_api.store import Document
from graphql_api.types.customer import Customer
from graphql_api.validation import page_size


@strawberry.type(description="Revenue of one country (the customer's country).")
class CountryRevenue:
    country: str = strawberry.field(description="Country name, one spelling per country.")
    total_revenue: float = strawberry.field(description="Sum of the country's order amounts.")
    total_orders: int = strawberry.field(description="Number of orders from the country.")
    avg_basket: float = strawberry.field(description="Average order amount in the country.")
    document: strawberry.Private[Document]

    @classmethod
    def from_document(cls, doc: Document) -> CountryRevenue:
        return cls(
            country=str(doc["country"]),
            total_revenue=float(doc["total_revenue"]),
            total_orders=int(doc["total_orders"]),
            avg_basket=float(doc["avg_basket"]),
            document=doc,
        )

    @strawberry.field(description="The country's best customers by total spent (1 to 100).")
    async def top_customers(self, info: AppInfo, first: int = 5) -> list[Customer]:
        page_size("first", first)
        docs = await info.context["store"].top_customers(self.country, first)
        info.context["loaders"].prime_customers(docs)
        return [Customer.from_document(doc) for doc in docs]
