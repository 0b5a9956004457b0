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
from graphql_api.types.gold import column, column_description, table_description
from graphql_api.types.segment import Segment

if TYPE_CHECKING:
    from graphql_api.types.country import CountryRevenue

TABLE = "customer_metrics"


def _customer_id(node_id: str) -> int | None:
    """The business key inside a global id, or None when it cannot be one."""
    return int(node_id) if node_id.isdigit() and len(node_id) <= 18 else None


@strawberry.type(
    description=table_description(TABLE, pii_note("`name` and `email` are personal data"))
)
class Customer(relay.Node):
    customer_id: int = column(TABLE, "customer_id")
    country: str = column(TABLE, "country")
    signup_date: date = column(TABLE, "signup_date")
    total_spent: float = column(TABLE, "total_spent")
    order_count: int = column(TABLE, "order_count")
    avg_basket: float | None = column(TABLE, "avg_basket")
    first_order: datetime | None = column(TABLE, "first_order")
    last_order: datetime | None = column(TABLE, "last_order")
    recency_days: int | None = column(TABLE, "recency_days")
    rfm_score: str | None = column(TABLE, "rfm_score")
    segment: Segment = column(TABLE, "segment")
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

    @strawberry.field(description=column_description(TABLE, "name", pii_note()))
    def name(self, info: AppInfo) -> str:
        require_scope(info.context["principal"], PII_SCOPE, "`Customer.name`")
        return str(self.document["name"])

    @strawberry.field(description=column_description(TABLE, "email", pii_note()))
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
