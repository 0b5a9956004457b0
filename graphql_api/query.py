"""The root ``Query``: resolvers validate arguments and delegate reads to the store."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graphql_api.context import AppInfo
from graphql_api.cursors import CursorKey, decode_cursor, encode_cursor
from graphql_api.errors import DataNotExported, UserInputError
from graphql_api.store import (
    COUNTRIES,
    CUSTOMER_ORDERINGS,
    PRODUCTS,
    CustomerCriteria,
    Document,
)
from graphql_api.types.country import CountryRevenue
from graphql_api.types.customer import Customer
from graphql_api.types.customer_connection import (
    CustomerConnection,
    CustomerEdge,
    CustomerFilter,
    CustomerOrder,
    PageInfo,
)
from graphql_api.types.kpis import Kpis
from graphql_api.types.monthly import MonthlyRevenue
from graphql_api.types.ordering import RevenueOrder
from graphql_api.types.product import ProductRevenue
from graphql_api.types.segment import SegmentSummary
from graphql_api.validation import bounded_int, month, page_size

MAX_LIST_LIMIT = 1_000
DEFAULT_PAGE_SIZE = 20


def _limit(limit: int | None) -> int | None:
    return None if limit is None else bounded_int("limit", limit, 1, MAX_LIST_LIMIT)


def _cursor(doc: Document, order: CustomerOrder) -> str:
    field = CUSTOMER_ORDERINGS[order.name].field
    value = None if field is None else float(doc[field])
    return encode_cursor(CursorKey(order.name, value, int(doc["customer_id"])))


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
        self,
        info: AppInfo,
        order_by: RevenueOrder | None = RevenueOrder.REVENUE_DESC,
        limit: int | None = None,
    ) -> list[CountryRevenue]:
        order = (order_by or RevenueOrder.REVENUE_DESC).name
        docs = await info.context["store"].revenue(COUNTRIES, "country", order, _limit(limit))
        return [CountryRevenue.from_document(doc) for doc in docs]

    @strawberry.field(description="Revenue by product; `limit` is 1 to 1000.")
    async def revenue_by_product(
        self,
        info: AppInfo,
        order_by: RevenueOrder | None = RevenueOrder.REVENUE_DESC,
        limit: int | None = None,
    ) -> list[ProductRevenue]:
        order = (order_by or RevenueOrder.REVENUE_DESC).name
        docs = await info.context["store"].revenue(PRODUCTS, "product", order, _limit(limit))
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

    @strawberry.field(description="One customer by id; null when no customer has that id.")
    async def customer(self, info: AppInfo, id: int) -> Customer | None:
        doc = await info.context["loaders"].customer_by_id.load(id)
        return None if doc is None else Customer.from_document(doc)

    @strawberry.field(
        description="A page of customers: `first` (1 to 100) after the cursor `after`."
    )
    async def customers(
        self,
        info: AppInfo,
        filter: CustomerFilter | None = None,
        order_by: CustomerOrder | None = CustomerOrder.TOTAL_SPENT_DESC,
        first: int | None = 20,
        after: str | None = None,
    ) -> CustomerConnection:
        """A null ``orderBy`` or ``first`` means the default."""
        order_by = order_by or CustomerOrder.TOTAL_SPENT_DESC
        first = page_size("first", DEFAULT_PAGE_SIZE if first is None else first)
        criteria = filter.to_criteria() if filter is not None else CustomerCriteria()
        needs_value = CUSTOMER_ORDERINGS[order_by.name].field is not None
        key = (
            None if after is None else decode_cursor(after, order_by.name, needs_value=needs_value)
        )
        store = info.context["store"]
        docs, has_next = await store.customer_page(criteria, order_by.name, first, key)
        info.context["loaders"].prime_customers(docs)
        edges = [
            CustomerEdge(cursor=_cursor(doc, order_by), node=Customer.from_document(doc))
            for doc in docs
        ]
        page_info = PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return CustomerConnection(edges=edges, page_info=page_info, criteria=criteria, store=store)

    @strawberry.field(description="Customers, total spent and average basket by segment.")
    async def segments(self, info: AppInfo) -> list[SegmentSummary]:
        docs = await info.context["store"].segments()
        return [SegmentSummary.from_document(doc) for doc in docs]
