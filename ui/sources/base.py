"""The one interface the app reads through, its result types and its errors.

Two implementations: :class:`ui.sources.lake.LakeSource` (gold Delta tables through the Kedro
catalog) and :class:`ui.sources.graphql.GraphQLSource` (the GraphQL API). Frames are
polars, with the gold column names of ``medallion_kedro.schemas.GOLD`` whichever source
they come from, so the app and the Sources tab can compare them value by value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, runtime_checkable

import polars as pl

from medallion_kedro.schemas import GOLD as LAKE_GOLD

#: The gold tables as the app holds them: the lake's exact ``Decimal(18, 2)`` money as
#: floats (an amount below 10**13 prints the same cents), other columns as in the lake.
GOLD: dict[str, pl.Schema] = {
    name: pl.Schema({c: pl.Float64 if isinstance(t, pl.Decimal) else t for c, t in s.items()})
    for name, s in LAKE_GOLD.items()
}

#: Columns of :meth:`DataSource.segments` (``gold.segments``).
SEGMENT_COLUMNS = tuple(GOLD["segments"].names())


class SourceError(RuntimeError):
    """A source cannot answer; the message says what happened and what to do."""


class SourceUnavailableError(SourceError):
    """The source itself is missing or down (lake not built, API not running)."""


@dataclass(frozen=True)
class Kpis:
    """The one row of ``gold.kpis``."""

    total_revenue: float
    total_orders: int
    total_customers: int
    active_customers: int
    avg_basket: float
    revenue_growth_last_month: float | None
    as_of: date


@dataclass(frozen=True)
class Customer:
    """One row of ``gold.customer_metrics``."""

    customer_id: int
    name: str
    email: str
    signup_date: date
    country: str
    total_spent: float
    order_count: int
    avg_basket: float | None
    first_order: datetime | None
    last_order: datetime | None
    recency_days: int | None
    rfm_score: str | None
    segment: str


@runtime_checkable
class DataSource(Protocol):
    """What every source answers. Methods raise :class:`SourceError` when they cannot."""

    @property
    def label(self) -> str:
        """The name shown in the source switch."""
        ...

    def describe(self) -> str:
        """Where the data comes from (a lake path or an URL), without secrets."""
        ...

    def kpis(self) -> Kpis: ...

    def revenue_by_country(self) -> pl.DataFrame: ...

    def revenue_by_product(self) -> pl.DataFrame: ...

    def monthly_revenue(self) -> pl.DataFrame: ...

    def customer_by_id(self, customer_id: int) -> Customer | None:
        """The customer, or ``None`` when no customer has this id."""
        ...

    def customer_by_email(self, email: str) -> Customer | None:
        """The customer with this email (case-insensitive), or ``None``."""
        ...

    def top_customers(
        self, n: int, country: str | None = None, segment: str | None = None
    ) -> pl.DataFrame:
        """The ``n`` biggest spenders (``customer_metrics`` columns), optionally filtered."""
        ...

    def segments(self) -> pl.DataFrame:
        """``gold.segments``: one row per segment, biggest total spent first."""
        ...
