from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from graphql_api.context import AppInfo
from graphql_api.store import Document
from graphql_api.types.convert import opt_float, opt_int, to_date, to_datetime

if TYPE_CHECKING:
    from graphql_api.types.country import CountryRevenue


@strawberry.type(description="One customer with their purchase metrics and RFM segment.")
class Customer:
    id: int = strawberry.field(description="The customer id (business key).")
    name: str = strawberry.field(description="Full name.")
    email: str = strawberry.field(description="Email address, lower-cased; unique.")
    country: str = strawberry.field(description="Country name, one spelling per country.")
    signup_date: date = strawberry.field(description="Day the customer signed up.")
    total_spent: float = strawberry.field(description="Sum of the customer's order amounts.")
    order_count: int = strawberry.field(description="Number of valid orders.")
    avg_basket: float | None = strawberry.field(
        description="Average order amount; null for a customer without orders."
    )
    first_order: datetime | None = strawberry.field(
        description="Time of the first order; null without orders."
    )
    last_order: datetime | None = strawberry.field(
        description="Time of the last order; null without orders."
    )
    recency_days: int | None = strawberry.field(
        description="Days from the last order to the `asOf` date; null without orders."
    )
    rfm_score: str | None = strawberry.field(
        description="Recency, frequency and monetary scores (1 to 5 each), e.g. '545'; "
        "null without orders."
    )
    segment: str = strawberry.field(
        description="Segment derived from the RFM score; 'Inactive' without orders."
    )
    document: strawberry.Private[Document]

    @classmethod
    def from_document(cls, doc: Document) -> Customer:
        return cls(
            id=int(doc["customer_id"]),
            name=str(doc["name"]),
            email=str(doc["email"]),
            country=str(doc["country"]),
            signup_date=to_date(doc["signup_date"]),
            total_spent=float(doc["total_spent"]),
            order_count=int(doc["order_count"]),
            avg_basket=opt_float(doc.get("avg_basket")),
            first_order=to_datetime(doc.get("first_order")),
            last_order=to_datetime(doc.get("last_order")),
            recency_days=opt_int(doc.get("recency_days")),
            rfm_score=doc.get("rfm_score"),
            segment=str(doc["segment"]),
            document=doc,
        )

    @strawberry.field(
        description="Revenue figures of the customer's country (batched: one query per page)."
    )
    async def country_revenue(
        self, info: AppInfo
    ) -> Annotated[CountryRevenue, strawberry.lazy("graphql_api.types.country")] | None:
        from graphql_api.types.country import CountryRevenue

        doc = await info.context["loaders"].country_by_name.load(self.country)
        return None if doc is None else CountryRevenue.from_document(doc)
