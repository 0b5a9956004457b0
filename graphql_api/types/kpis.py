from __future__ import annotations

from datetime import date

import strawberry

from graphql_api.store import Document
from graphql_api.types.convert import opt_float, to_date


@strawberry.type(description="Headline figures of the whole business at the `asOf` date.")
class Kpis:
    total_revenue: float = strawberry.field(description="Sum of all valid order amounts.")
    total_orders: int = strawberry.field(description="Number of valid orders.")
    total_customers: int = strawberry.field(description="Number of known customers.")
    active_customers: int = strawberry.field(description="Customers with at least one order.")
    avg_basket: float = strawberry.field(description="Average order amount.")
    revenue_growth_last_month: float | None = strawberry.field(
        description="Revenue growth of the last full month over the month before, as a "
        "ratio (0.1 = +10 %); null when there is no earlier month to compare with."
    )
    as_of: date = strawberry.field(description="The reference date the data was built for.")
    document: strawberry.Private[Document]

    @classmethod
    def from_document(cls, doc: Document) -> Kpis:
        return cls(
            total_revenue=float(doc["total_revenue"]),
            total_orders=int(doc["total_orders"]),
            total_customers=int(doc["total_customers"]),
            active_customers=int(doc["active_customers"]),
            avg_basket=float(doc["avg_basket"]),
            revenue_growth_last_month=opt_float(doc.get("revenue_growth_last_month")),
            as_of=to_date(doc["as_of"]),
            document=doc,
        )
