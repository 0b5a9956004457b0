from __future__ import annotations

from datetime import date

import strawberry

from graphql_api.store import Document
from graphql_api.types.convert import opt_float, to_date
from graphql_api.types.gold import column, table_description

TABLE = "kpis"


@strawberry.type(description=table_description(TABLE))
class Kpis:
    total_revenue: float = column(TABLE, "total_revenue")
    total_orders: int = column(TABLE, "total_orders")
    total_customers: int = column(TABLE, "total_customers")
    active_customers: int = column(TABLE, "active_customers")
    avg_basket: float = column(TABLE, "avg_basket")
    revenue_growth_last_month: float | None = column(TABLE, "revenue_growth_last_month")
    as_of: date = column(TABLE, "as_of")

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
        )
