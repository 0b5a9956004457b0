from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from graphql_api.auth import PII_SCOPE, pii_note, require_scope
from graphql_api.context import AppInfo
from graphql_api.store import Document
from graphql_api.types.convert import opt_float, opt_int, to_date, to_datetime
from graphql_api.types.segment import Segment

if TYPE_CHECKING:
    from graphql_api.types.country import CountryRevenue


def _customer_id(node_id: str) -> int | None:
    """The business key inside a global id, or None when it cannot be one."""
    return int(node_id) if node_id.isdigit() and len(node_id) <= 18 else None


@strawberry.type(
    description="One customer with their purchase metrics and RFM segment. "
    + pii_note("`name` and `email` are personal data")
)
class Customer(relay.Node):
    customer_id: int = strawberry.field(description="The customer id (business key).")
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
    segment: Segment = strawberry.field(
        description="Segment derived from the RFM score; INACTIVE without orders."
    )
    document: strawberry.Private[Document]

    @classmethod
    def from_document(cls, doc: Document) -> Customer:
        return cls(
            customer_id=int(doc["customer_id"]),
            country=str(doc["country"]),
            signup_date=to_date(doc["signup_date"]),
            total_spent=float(doc["total_spent"]),
            order_count=int(doc["order_count"]),
            avg_basket=opt_float(doc.get("avg_basket")),
            first_order=to_datetime(doc.get("first_order")),
            last_order=to_datetime(doc.get("last_order")),
            recency_days=opt_int(doc.get("recency_days")),
            rfm_score=doc.get("rfm_score"),
            segment=Segment(str(doc["segment"])),
            document=doc,
        )

    @classmethod
    def resolve_id(cls, root: Customer, *, info: Any) -> str:
        return str(root.customer_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: AppInfo, node_ids: Iterable[str], required: bool = False
    ) -> list[Customer | None]:
        ids = [_customer_id(node_id) for node_id in node_ids]
        loader = info.context["loaders"].customer_by_id
        docs = await loader.load_many([i for i in ids if i is not None])
        found = iter(docs)
        return [
            None if i is None or (doc := next(found)) is None else cls.from_document(doc)
            for i in ids
        ]

    @strawberry.field(description="Full name. " + pii_note())
    def name(self, info: AppInfo) -> str:
        require_scope(info.context["principal"], PII_SCOPE, "`Customer.name`")
        return str(self.document["name"])

    @strawberry.field(description="Email address, lower-cased; unique. " + pii_note())
    def email(self, info: AppInfo) -> str:
        require_scope(info.context["principal"], PII_SCOPE, "`Customer.email`")
        return str(self.document["email"])

    @strawberry.field(
        description="Revenue figures of the customer's country (batched: one query per page)."
    )
    async def country_revenue(
        self, info: AppInfo
    ) -> Annotated[CountryRevenue, strawberry.lazy("graphql_api.types.country")] | None:
        from graphql_api.types.country import CountryRevenue

        doc = await info.context["loaders"].country_by_name.load(self.country)
        return None if doc is None else CountryRevenue.from_document(doc)
