"""The root ``Query``: resolvers validate arguments and delegate reads to the store."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from graphql_api.auth import PII_SCOPE, require_scope
from graphql_api.context import AppInfo
from graphql_api.cursors import CursorKey, decode_cursor, encode_cursor
from graphql_api.errors import DataNotExported, UserInputError
from graphql_api.store import (
    COUNTRIES,
    PRODUCTS,
    QUALITY,
    RUNS,
    CustomerCriteria,
    Document,
    GoldStore,
)
from graphql_api.types.country import CountryRevenue
from graphql_api.types.customer import Customer
from graphql_api.types.customer_connection import (
    CustomerConnection,
    CustomerFilter,
    CustomerOrder,
    CustomerOrderField,
)
from graphql_api.types.kpis import Kpis
from graphql_api.types.monthly import MonthlyRevenue
from graphql_api.types.ordering import RevenueOrder
from graphql_api.types.product import ProductRevenue
from graphql_api.types.provenance import Dataset, PipelineRun, RunQuality
from graphql_api.types.segment import SegmentSummary
from graphql_api.validation import bounded_int, month, page_size

MAX_LIST_LIMIT = 1_000
#: Most runs ``runs`` and ``dataQuality`` return (the export publishes up to 100).
MAX_RUNS = 100
DEFAULT_PAGE_SIZE = 20
#: Type of the sort value a cursor carries, by sort field (None: customer id alone).
_VALUE_TYPES: dict[str | None, type | None] = {None: None, "total_spent": float, "name": str}


def _limit(limit: int | None) -> int | None:
    return None if limit is None else bounded_int("limit", limit, 1, MAX_LIST_LIMIT)


def _key(doc: Document, order: CustomerOrder) -> CursorKey:
    field = order.field.column
    value = None if field is None else _VALUE_TYPES[field](doc[field])  # type: ignore[misc]
    return CursorKey(order.key, value, int(doc["customer_id"]))


def _check_personal_arguments(
    info: AppInfo, filter: CustomerFilter | None, order: CustomerOrder
) -> None:
    """Refuse filters and orderings on personal data before anything reads the database."""
    principal = info.context["principal"]
    if order.field is CustomerOrderField.NAME:
        require_scope(principal, PII_SCOPE, "Ordering customers by name")
    if filter is not None and filter.email is not None:
        require_scope(principal, PII_SCOPE, "The filter `email`")
    if filter is not None and filter.name_prefix is not None:
        require_scope(principal, PII_SCOPE, "The filter `namePrefix`")


async def _revenue(
    info: AppInfo, collection: str, key: str, order_by: RevenueOrder | None, limit: int | None
) -> list[Document]:
    order = order_by or RevenueOrder()
    store: GoldStore = info.context["store"]
    return await store.revenue(
        collection, key, order.field.column, order.direction.sign, _limit(limit)
    )


@strawberry.type(description="Read-only access to the gold marts.")
class Query:
    @strawberry.field(description="Headline figures of the whole business.")
    async def kpis(self, info: AppInfo) -> Kpis:
        doc = await info.context["store"].kpis()
        if doc is None:
            raise DataNotExported(
                "The kpis collection is empty: run the export pipeline, then retry."
            )
        return Kpis.from_document(doc)

    @strawberry.field(description="Revenue by customer country; `limit` is 1 to 1000.")
    async def revenue_by_country(
        self, info: AppInfo, order_by: RevenueOrder | None = None, limit: int | None = None
    ) -> list[CountryRevenue]:
        docs = await _revenue(info, COUNTRIES, "country", order_by, limit)
        return [CountryRevenue.from_document(doc) for doc in docs]

    @strawberry.field(description="Revenue by product; `limit` is 1 to 1000.")
    async def revenue_by_product(
        self, info: AppInfo, order_by: RevenueOrder | None = None, limit: int | None = None
    ) -> list[ProductRevenue]:
        docs = await _revenue(info, PRODUCTS, "product", order_by, limit)
        return [ProductRevenue.from_document(doc) for doc in docs]

    @strawberry.field(
        description="Revenue by month, oldest first; `from` and `to` (YYYY-MM) are inclusive."
    )
    async def monthly_revenue(
        self,
        info: AppInfo,
        from_: Annotated[str | None, strawberry.argument(name="from")] = None,
        to: str | None = None,
    ) -> list[MonthlyRevenue]:
        first, last = month("from", from_), month("to", to)
        if first is not None and last is not None and first > last:
            raise UserInputError(f"`from` ({first}) must not be later than `to` ({last}).")
        docs = await info.context["store"].months(first, last)
        return [MonthlyRevenue.from_document(doc) for doc in docs]

    @strawberry.field(
        description="Any object with a global `id` (a `Customer`); null when none has it."
    )
    async def node(self, info: AppInfo, id: relay.GlobalID) -> relay.Node | None:
        if id.type_name != "Customer":
            raise UserInputError(
                "`id` is not the global id of a Customer: use an `id` returned by this API."
            )
        (customer,) = await Customer.resolve_nodes(info=info, node_ids=[id.node_id])
        return customer

    @strawberry.field(description="One customer by id; null when no customer has that id.")
    async def customer(self, info: AppInfo, customer_id: int) -> Customer | None:
        doc = await info.context["loaders"].customer_by_id.load(customer_id)
        return None if doc is None else Customer.from_document(doc)

    @strawberry.field(
        description="A page of customers: `first` (1 to 100) after the cursor `after`, or "
        "`last` before `before`; 20 from the start by default. Filtering or ordering by "
        f"name or email needs the scope `{PII_SCOPE}`."
    )
    async def customers(
        self,
        info: AppInfo,
        filter: CustomerFilter | None = None,
        order_by: CustomerOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> CustomerConnection:
        """A null ``orderBy`` means the default order (biggest spenders first)."""
        order = order_by or CustomerOrder()
        _check_personal_arguments(info, filter, order)
        backward = last is not None or before is not None
        if backward and (first is not None or after is not None):
            raise UserInputError(
                "Page forward with `first`/`after` or backward with `last`/`before`, "
                "not both in one query."
            )
        size_name, cursor_name = ("last", "before") if backward else ("first", "after")
        size = last if backward else first
        size = page_size(size_name, DEFAULT_PAGE_SIZE if size is None else size)
        criteria = filter.to_criteria() if filter is not None else CustomerCriteria()
        value_type = _VALUE_TYPES[order.field.column]
        cursor = before if backward else after
        key = (
            None
            if cursor is None
            else decode_cursor(cursor, order.key, value_type=value_type, argument=cursor_name)
        )
        store: GoldStore = info.context["store"]
        ordering = order.ordering
        docs, more = await store.customer_page(criteria, ordering, size, key, reverse=backward)
        if backward:
            docs.reverse()
        info.context["loaders"].prime_customers(docs)
        edges = [
            relay.Edge(cursor=encode_cursor(_key(doc, order)), node=Customer.from_document(doc))
            for doc in docs
        ]
        # The other side of the page: only asked when a cursor says there may be one.
        beyond = False
        if key is not None:
            edge = _key(docs[-1 if backward else 0], order) if docs else key
            beyond = bool(
                (await store.customer_page(criteria, ordering, 1, edge, reverse=not backward))[0]
            )
        page_info = relay.PageInfo(
            has_next_page=beyond if backward else more,
            has_previous_page=more if backward else beyond,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return CustomerConnection(edges=edges, page_info=page_info, criteria=criteria, store=store)

    @strawberry.field(description="Customers, total spent and average basket by segment.")
    async def segments(self, info: AppInfo) -> list[SegmentSummary]:
        docs = await info.context["store"].segments()
        return [SegmentSummary.from_document(doc) for doc in docs]

    @strawberry.field(
        description="The export run this response reads: its id, time, age, the `kedro run` "
        "that exported it and the lake version of the gold tables."
    )
    async def dataset(self, info: AppInfo) -> Dataset:
        store: GoldStore = info.context["store"]
        if store.failure is not None:
            raise store.failure
        if store.manifest is None:
            raise DataNotExported("No export manifest: run `kedro run --pipelines export`.")
        return Dataset.from_manifest(store.manifest)

    @strawberry.field(
        description="The last `last` (1 to 100) pipeline runs, newest first, with their "
        "nodes' seconds and rows, as published with the gold tables."
    )
    async def runs(self, info: AppInfo, last: int = 10) -> list[PipelineRun]:
        count = bounded_int("last", last, 1, MAX_RUNS)
        docs = await info.context["store"].history(RUNS, count)
        return [PipelineRun.from_document(doc) for doc in docs]

    @strawberry.field(
        description="Reconciliation counts and rejected rows by reason of the last `last` "
        "(1 to 100) runs that checked data, newest first."
    )
    async def data_quality(self, info: AppInfo, last: int = 10) -> list[RunQuality]:
        count = bounded_int("last", last, 1, MAX_RUNS)
        docs = await info.context["store"].history(QUALITY, count)
        return [RunQuality.from_document(doc) for doc in docs]
