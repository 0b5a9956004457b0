"""The paginated customer list: filter, order, and a Relay-style connection."""

from __future__ import annotations

from enum import Enum

import strawberry

from graphql_api.store import CustomerCriteria, GoldStore
from graphql_api.types.customer import Customer
from graphql_api.validation import non_negative, text


@strawberry.enum(description="Order of the customer list; ties are broken by customer id.")
class CustomerOrder(Enum):
    TOTAL_SPENT_DESC = strawberry.enum_value(
        "TOTAL_SPENT_DESC", description="Biggest spenders first."
    )
    TOTAL_SPENT_ASC = strawberry.enum_value(
        "TOTAL_SPENT_ASC", description="Smallest spenders first."
    )
    ID_ASC = strawberry.enum_value("ID_ASC", description="By customer id, ascending.")


@strawberry.input(description="Conditions a customer must meet; all given ones apply.")
class CustomerFilter:
    country: str | None = strawberry.field(
        default=None, description="Exact country name, e.g. 'France'."
    )
    segment: str | None = strawberry.field(
        default=None, description="Exact segment name, e.g. 'Champions'."
    )
    min_total_spent: float | None = strawberry.field(
        default=None, description="Only customers whose total spent is at least this."
    )
    email: str | None = strawberry.field(
        default=None, description="Exact email address (case-insensitive)."
    )
    name_prefix: str | None = strawberry.field(
        default=None, description="Start of the name, case-sensitive, e.g. 'Ann'."
    )

    def to_criteria(self) -> CustomerCriteria:
        email = text("filter.email", self.email, 254)
        return CustomerCriteria(
            country=text("filter.country", self.country, 100),
            segment=text("filter.segment", self.segment, 100),
            min_total_spent=non_negative("filter.minTotalSpent", self.min_total_spent),
            email=None if email is None else email.lower(),
            name_prefix=text("filter.namePrefix", self.name_prefix, 100),
        )


@strawberry.type(description="Where a page starts and ends, and whether more follow.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True if `endCursor` has successors.")
    has_previous_page: bool = strawberry.field(
        description="True when the page was requested with `after`."
    )
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last edge: pass it as `after` for the next page."
    )


@strawberry.type(description="One customer of a page and its position in the list.")
class CustomerEdge:
    cursor: str = strawberry.field(description="Opaque position; pass as `after`.")
    node: Customer


@strawberry.type(description="A page of customers (Relay cursor connection).")
class CustomerConnection:
    edges: list[CustomerEdge]
    page_info: PageInfo
    criteria: strawberry.Private[CustomerCriteria]
    store: strawberry.Private[GoldStore]

    @strawberry.field(
        description="Number of customers matching the filter, across all pages "
        "(one extra query, only when asked for)."
    )
    async def total_count(self) -> int:
        return await self.store.count_customers(self.criteria)
