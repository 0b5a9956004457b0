"""A small hand-made shop, the gold documents derived from it, and a seeding helper.

The expected figures are computed here from the raw orders, independently of the gold
pipeline, and stored in the shape the exporter writes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

import pymongo

from medallion_kedro.datasets.mongo_manifest import adopt

#: The gold collections ``seed`` writes, published under their own names.
GOLD_COLLECTIONS = (
    "kpis",
    "revenue_by_country",
    "revenue_by_product",
    "monthly_revenue",
    "customer_metrics",
)

AS_OF = date(2024, 6, 30)
DB_NAME = "gql_api"

# customer_id: (name, email, country, signup_date, rfm_score, segment)
CUSTOMERS: dict[int, tuple[str, str, str, date, str | None, str]] = {
    1: ("Alice Martin", "alice@example.com", "France", date(2023, 1, 10), "545", "Champions"),
    2: ("Bruno Keller", "bruno@example.com", "Germany", date(2023, 2, 1), "434", "Loyal"),
    3: ("Carla Rossi", "carla@example.com", "Italy", date(2023, 3, 5), "415", "Loyal"),
    4: ("Alina Dupont", "alina@example.com", "France", date(2023, 4, 9), "232", "At Risk"),
    5: ("Dieter Braun", "dieter@example.com", "Germany", date(2023, 5, 1), "553", "Champions"),
    6: ("Elena Conti", "elena@example.com", "Italy", date(2023, 6, 30), "314", "At Risk"),
    7: ("Fanny Morel", "fanny@example.com", "France", date(2023, 7, 14), "512", "Loyal"),
    8: ("Günter Vogel", "guenter@example.com", "Germany", date(2023, 8, 8), "322", "At Risk"),
    9: ("Hugo Petit", "hugo@example.com", "France", date(2024, 1, 2), None, "Inactive"),
    10: ("Ines Moro", "ines@example.com", "Italy", date(2024, 2, 3), None, "Inactive"),
    11: ("Jules Blanc", "jules@example.com", "France", date(2024, 3, 4), None, "Inactive"),
    12: ("Alex Stone", "alex@example.com", "Germany", date(2023, 9, 9), "111", "At Risk"),
}

# (customer_id, order time, amount, product)
ORDERS: list[tuple[int, datetime, float, str]] = [
    (1, datetime(2024, 1, 5, 10, 0), 120.50, "Laptop Sleeve"),
    (1, datetime(2024, 3, 10, 14, 30), 80.25, "Mouse"),
    (1, datetime(2024, 6, 20, 9, 15), 300.00, "Monitor"),
    (2, datetime(2024, 2, 11, 8, 0), 45.99, "Mouse"),
    (2, datetime(2024, 5, 2, 18, 45), 210.00, "Keyboard"),
    (3, datetime(2024, 4, 18, 12, 0), 999.99, "Laptop"),
    (4, datetime(2024, 1, 22, 16, 20), 100.00, "Keyboard"),
    (4, datetime(2024, 2, 14, 11, 11), 50.00, "Mouse"),
    (5, datetime(2024, 6, 1, 7, 30), 75.10, "Mouse"),
    (5, datetime(2024, 6, 15, 19, 0), 24.90, "Cable"),
    (5, datetime(2024, 6, 28, 21, 5), 60.00, "Cable"),
    (6, datetime(2024, 3, 3, 13, 13), 410.40, "Monitor"),
    (7, datetime(2024, 5, 30, 10, 10), 150.00, "Keyboard"),  # ties with customer 4
    (8, datetime(2024, 2, 29, 9, 0), 33.33, "Cable"),
    (8, datetime(2024, 4, 1, 17, 0), 66.67, "Mouse"),
    (12, datetime(2023, 12, 24, 15, 0), 250.00, "Laptop Sleeve"),
]


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


def customer_documents() -> list[dict[str, Any]]:
    by_customer: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
    for cid, ts, amount, _ in ORDERS:
        by_customer[cid].append((ts, amount))
    docs = []
    for cid, (name, email, country, signup, rfm, segment) in CUSTOMERS.items():
        orders = sorted(by_customer.get(cid, []))
        spent = round(sum(a for _, a in orders), 2)
        last = orders[-1][0] if orders else None
        docs.append(
            {
                "_id": cid,
                "customer_id": cid,
                "name": name,
                "email": email,
                "signup_date": _midnight(signup),
                "country": country,
                "total_spent": spent,
                "order_count": len(orders),
                "avg_basket": round(spent / len(orders), 2) if orders else None,
                "first_order": orders[0][0] if orders else None,
                "last_order": last,
                "recency_days": (AS_OF - last.date()).days if last else None,
                "rfm_score": rfm,
                "segment": segment,
            }
        )
    return docs


def _revenue(key_of: Any, key_name: str, avg_name: str) -> list[dict[str, Any]]:
    totals: dict[str, list[float]] = defaultdict(list)
    for order in ORDERS:
        totals[key_of(order)].append(order[2])
    return [
        {
            "_id": key,
            key_name: key,
            "total_revenue": round(sum(amounts), 2),
            "total_orders": len(amounts),
            avg_name: round(sum(amounts) / len(amounts), 2),
        }
        for key, amounts in totals.items()
    ]


def country_documents() -> list[dict[str, Any]]:
    return _revenue(lambda o: CUSTOMERS[o[0]][2], "country", "avg_basket")


def product_documents() -> list[dict[str, Any]]:
    return _revenue(lambda o: o[3], "product", "avg_price")


def month_documents() -> list[dict[str, Any]]:
    return _revenue(lambda o: o[1].strftime("%Y-%m"), "month", "avg_basket")


def kpis_document() -> dict[str, Any]:
    total = sum(o[2] for o in ORDERS)
    months = {d["month"]: d["total_revenue"] for d in month_documents()}
    growth = (months["2024-06"] - months["2024-05"]) / months["2024-05"]
    return {
        "_id": "kpis",
        "total_revenue": round(total, 2),
        "total_orders": len(ORDERS),
        "total_customers": len(CUSTOMERS),
        "active_customers": len({o[0] for o in ORDERS}),
        "avg_basket": round(total / len(ORDERS), 2),
        "revenue_growth_last_month": round(growth, 4),
        "as_of": _midnight(AS_OF),
    }


def create_customer_indexes(collection: Any) -> None:
    """The exporter's indexes (its contract) plus the one the API's ordering uses."""
    collection.create_index("email", unique=True)
    collection.create_index("country")
    collection.create_index("segment")
    collection.create_index([("total_spent", pymongo.DESCENDING), ("customer_id", 1)])


def seed(uri: str, db_name: str = DB_NAME) -> None:
    """Replace the gold collections of ``db_name`` with the documents above, published
    through the export manifest as the API expects."""
    with pymongo.MongoClient[dict[str, Any]](uri) as client:
        db = client[db_name]
        for name, docs in (
            ("kpis", [kpis_document()]),
            ("revenue_by_country", country_documents()),
            ("revenue_by_product", product_documents()),
            ("monthly_revenue", month_documents()),
            ("customer_metrics", customer_documents()),
        ):
            db.drop_collection(name)
            db[name].insert_many(docs)
        create_customer_indexes(db["customer_metrics"])
        adopt(db, {name: name for name in GOLD_COLLECTIONS})
