"""Gold expectations computed in plain Python from hand-written silver rows.

Written from the documented gold rules (exact decimal money rounded half to even once,
RFM recency bands of ``active_window_days``), independently of the project's code.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

CENT = Decimal("0.01")
UNKNOWN = "Unknown"


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def revenue_by(orders: list[tuple[Any, ...]], key: Any) -> dict[str, dict[str, Any]]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    for order in orders:
        sums[key(order)] += order[3]
        counts[key(order)] += 1
    return {
        k: {
            "total_revenue": money(sums[k]),
            "total_orders": counts[k],
            "avg": money(sums[k] / counts[k]),
        }
        for k in sums
    }


def recency_score(days: int, window: int) -> int:
    if 3 * days <= window:
        return 5
    if days <= window:
        return 4
    if days <= 2 * window:
        return 3
    if days <= 4 * window:
        return 2
    return 1


def quintile(values: dict[int, Any]) -> dict[int, int]:
    """1..5 by "min" rank, higher value better."""
    n = len(values)
    ordered = sorted(values.values())
    return {cid: (ordered.index(v) * 5) // n + 1 for cid, v in values.items()}


def segment(r: int, f: int) -> str:
    if r >= 4 and f >= 4:
        return "Champions"
    if r >= 3 and f >= 3:
        return "Loyal"
    if r >= 4:
        return "New"
    if r <= 2 and f >= 3:
        return "At Risk"
    if r <= 2:
        return "Hibernating"
    return "Needs Attention"


def customer_metrics(
    customers: list[tuple[Any, ...]],
    orders: list[tuple[Any, ...]],
    as_of: dt.date,
    window: int = 90,
) -> dict[int, dict[str, Any]]:
    by_customer: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for order in orders:
        by_customer[order[1]].append(order)
    out: dict[int, dict[str, Any]] = {}
    for cid, name, email, signup, country, *_ in customers:  # later columns: not in gold
        mine = by_customer.get(cid, [])
        spent = sum((o[3] for o in mine), Decimal(0))
        last = max((o[2] for o in mine), default=None)
        out[cid] = {
            "name": name,
            "email": email,
            "signup_date": signup,
            "country": country or UNKNOWN,
            "total_spent": money(spent),
            "order_count": len(mine),
            "avg_basket": money(spent / len(mine)) if mine else None,
            "first_order": min((o[2] for o in mine), default=None),
            "last_order": last,
            "recency_days": (as_of - last.date()).days if last else None,
        }
    scored = {c: m for c, m in out.items() if m["order_count"]}
    r = {c: recency_score(m["recency_days"], window) for c, m in scored.items()}
    f = quintile({c: m["order_count"] for c, m in scored.items()})
    m_ = quintile({c: m["total_spent"] for c, m in scored.items()})
    for cid, metrics in out.items():
        if cid in scored:
            metrics["rfm_score"] = f"{r[cid]}{f[cid]}{m_[cid]}"
            metrics["segment"] = segment(r[cid], f[cid])
        else:
            metrics["rfm_score"] = None
            metrics["segment"] = "Inactive"
    return out


def segments(metrics: dict[int, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per segment, biggest total spent first (ties by name): customers, the exact sum of
    their total spent, and that sum over their orders rounded half to even."""
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in metrics.values():
        members[m["segment"]].append(m)
    out = {}
    for name, rows in members.items():
        spent = sum((m["total_spent"] for m in rows), Decimal(0))
        orders = sum(m["order_count"] for m in rows)
        out[name] = {
            "segment": name,
            "customers": len(rows),
            "total_spent": money(spent),
            "avg_basket": money(spent / orders) if orders else None,
        }
    return dict(sorted(out.items(), key=lambda kv: (-kv[1]["total_spent"], kv[0])))


def kpis(
    customers: list[tuple[Any, ...]],
    orders: list[tuple[Any, ...]],
    as_of: dt.date,
    active_days: int = 90,
) -> dict[str, Any]:
    total = sum((o[3] for o in orders), Decimal(0))
    metrics = customer_metrics(customers, orders, as_of, active_days)
    last_month_end = as_of.replace(day=1) - dt.timedelta(days=1)
    prev_month_end = last_month_end.replace(day=1) - dt.timedelta(days=1)
    monthly = revenue_by(orders, lambda o: o[2].strftime("%Y-%m"))
    last = monthly.get(last_month_end.strftime("%Y-%m"), {}).get("total_revenue", Decimal(0))
    prev = monthly.get(prev_month_end.strftime("%Y-%m"), {}).get("total_revenue")
    growth = (
        float(((last / prev - 1) * 100).quantize(CENT, rounding=ROUND_HALF_EVEN)) if prev else None
    )
    return {
        "total_revenue": money(total),
        "total_orders": len(orders),
        "total_customers": len(customers),
        "active_customers": sum(
            1
            for m in metrics.values()
            if m["recency_days"] is not None and m["recency_days"] <= active_days
        ),
        "avg_basket": money(total / len(orders)),
        "revenue_growth_last_month": growth,
        "as_of": as_of,
    }
