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
    active_customers: int = strawberry.field(
        description="Customers whose last order is at most 90 days (gold's "
        "`active_window_days`) before `asOf`."
    )
    avg_basket: float = strawberry.field(description="Average order amount.")
    revenue_growth_last_month: float | None = strawberry.field(
        description="Revenue growth of the last full month before `asOf` over the month "
        "before it, in percent (8.5 = +8.5 %); null when that month had no revenue."
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
