"""The paginated customer list: filter, order, and a Relay connection."""

from __future__ import annotations

import strawberry
from strawberry import relay

from graphql_api.auth import pii_note
from graphql_api.store import CustomerCriteria, CustomerOrdering, GoldStore, customer_ordering
from graphql_api.types.customer import Customer
from graphql_api.types.ordering import OrderDirection, SortField
from graphql_api.types.segment import Segment
from graphql_api.validation import non_negative, text


@strawberry.enum(description="What the customer list is sorted on; ties by customer id.")
class CustomerOrderField(SortField):
    TOTAL_SPENT = strawberry.enum_value("total_spent", description="Total spent.")
    CUSTOMER_ID = strawberry.enum_value(None, description="Customer id.")  # the key alone
    NAME = strawberry.enum_value("name", description="Full name. " + pii_note("Sorting by name"))


@strawberry.input(description="Order of the customer list.")
class CustomerOrder:
    field: CustomerOrderField = CustomerOrderField.TOTAL_SPENT
    direction: OrderDirection = OrderDirection.DESC

    @property
    def key(self) -> str:
        """The name of this ordering written in its cursors."""
        return f"{self.field.name}_{self.direction.name}"

    @property
    def ordering(self) -> CustomerOrdering:
        return customer_ordering(self.field.column, self.direction.sign)


@strawberry.input(description="Conditions a customer must meet; all given ones apply.")
class CustomerFilter:
    country: str | None = strawberry.field(
        default=None, description="Exact country name, e.g. 'France'."
    )
    segment: Segment | None = strawberry.field(default=None, description="The segment.")
    min_total_spent: float | None = strawberry.field(
        default=None, description="Only customers whose total spent is at least this."
    )
    email: str | None = strawberry.field(
        default=None,
        description="Exact email address (case-insensitive). " + pii_note("Filtering by email"),
    )
    name_prefix: str | None = strawberry.field(
        default=None,
        description="Start of the name, case-sensitive, e.g. 'Ann'. "
        + pii_note("Filtering by name"),
    )

    def to_criteria(self) -> CustomerCriteria:
        email = text("filter.email", self.email, 254)
        return CustomerCriteria(
            country=text("filter.country", self.country, 100),
            segment=None if self.segment is None else self.segment.value,
            min_total_spent=non_negative("filter.minTotalSpent", self.min_total_spent),
            email=None if email is None else email.lower(),
            name_prefix=text("filter.namePrefix", self.name_prefix, 100),
        )


@strawberry.type(description="A page of customers (Relay cursor connection).")
class CustomerConnection(relay.Connection[Customer]):
    criteria: strawberry.Private[CustomerCriteria]
    store: strawberry.Private[GoldStore]

    @strawberry.field(
        description="Number of customers matching the filter, across all pages "
        "(one extra query, only when asked for)."
    )
    async def total_count(self) -> int:
        return await self.store.count_customers(self.criteria)
