"""The Sources tab: load the same views from every source, time them, compare the values."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from ui.sources.base import Customer, DataSource, Kpis, SourceError, SourceUnavailableError

#: The views compared, in the order they are loaded (``customer`` reuses the id of the
#: first of ``top_customers``).
VIEWS: tuple[str, ...] = (
    "kpis",
    "revenue_by_country",
    "revenue_by_product",
    "monthly_revenue",
    "segments",
    "top_customers",
    "customer",
)
TOP_N = 20
MAX_DIFFERENCES = 8

Record = dict[Any, dict[str, Any]]


@dataclass(frozen=True)
class Latency:
    """Latencies of one view from one source, in milliseconds."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p25(self) -> float:
        return self._quartiles()[0]

    @property
    def p75(self) -> float:
        return self._quartiles()[2]

    @property
    def spread(self) -> float:
        """Interquartile range (p75 - p25)."""
        return self.p75 - self.p25

    def _quartiles(self) -> list[float]:
        if len(self.samples) < 2:
            return [self.samples[0]] * 3
        return statistics.quantiles(self.samples, n=4, method="inclusive")


@dataclass
class ViewComparison:
    view: str
    latency: dict[str, Latency] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    #: Sources whose error says they are down (not merely failing on this view).
    unavailable: set[str] = field(default_factory=set)
    differences: list[str] = field(default_factory=list)
    differing_fields: list[str] = field(default_factory=list)

    @property
    def compared(self) -> bool:
        """Both sides answered, so agreement means something."""
        return not self.errors and len(self.latency) >= 2

    @property
    def agree(self) -> bool:
        return self.compared and not self.differences


def load_view(source: DataSource, view: str, customer_id: int | None) -> Any:
    loaders: dict[str, Callable[[], Any]] = {
        "kpis": source.kpis,
        "revenue_by_country": source.revenue_by_country,
        "revenue_by_product": source.revenue_by_product,
        "monthly_revenue": source.monthly_revenue,
        "segments": source.segments,
        "top_customers": lambda: source.top_customers(TOP_N),
        "customer": lambda: None if customer_id is None else source.customer_by_id(customer_id),
    }
    return loaders[view]()


def to_records(value: Any) -> Record:
    """Key every row of a view by its business key, for a field-by-field comparison."""
    if value is None:
        return {}
    if isinstance(value, Kpis):
        return {"kpis": asdict(value)}
    if isinstance(value, Customer):
        return {value.customer_id: asdict(value)}
    if isinstance(value, pl.DataFrame):
        key = "customer_id" if "customer_id" in value.columns else value.columns[0]
        rows = value.with_row_index("rank", offset=1) if key == "customer_id" else value
        return {row[key]: row for row in rows.iter_rows(named=True)}
    raise TypeError(f"cannot compare a {type(value).__name__}")


def differences(left: Record, right: Record, names: tuple[str, str]) -> tuple[list[str], list[str]]:
    """Human-readable differences (up to a few) and the differing field names."""
    found: list[str] = []
    fields: list[str] = []
    for key in sorted(set(left) | set(right), key=str):
        if key not in right or key not in left:
            where = names[0] if key in left else names[1]
            found.append(f"{key}: only in {where}")
            if "(rows)" not in fields:
                fields.append("(rows)")
            continue
        a, b = left[key], right[key]
        for name in sorted(set(a) | set(b)):
            if a.get(name) != b.get(name):
                found.append(f"{key} · {name}: {a.get(name)!r} vs {b.get(name)!r}")
                if name not in fields:
                    fields.append(name)
    return found, fields


def compare_sources(
    sources: Sequence[DataSource],
    repeats: int,
    on_step: Callable[[int, int, str], None] | None = None,
) -> list[ViewComparison]:
    """Load every view ``repeats`` times from each source (interleaved) and compare them."""
    results: list[ViewComparison] = []
    customer_id: int | None = None
    down: dict[str, str] = {}  # sources found unavailable are not asked again
    total, step = len(VIEWS) * repeats * len(sources), 0
    for view in VIEWS:
        comparison = ViewComparison(view)
        samples: dict[str, list[float]] = {s.label: [] for s in sources}
        last: dict[str, Any] = {}
        for _ in range(repeats):
            for source in sources:
                step += 1
                if on_step is not None:
                    on_step(step, total, f"{view} from {source.label}")
                if source.label in down:
                    comparison.errors[source.label] = down[source.label]
                    comparison.unavailable.add(source.label)
                if source.label in comparison.errors:
                    continue
                started = time.perf_counter()
                try:
                    last[source.label] = load_view(source, view, customer_id)
                except SourceError as exc:
                    comparison.errors[source.label] = str(exc)
                    if isinstance(exc, SourceUnavailableError):
                        down[source.label] = str(exc)
                        comparison.unavailable.add(source.label)
                    continue
                samples[source.label].append((time.perf_counter() - started) * 1000)
        comparison.latency = {k: Latency(tuple(v)) for k, v in samples.items() if v}
        if view == "top_customers" and customer_id is None:
            customer_id = _first_customer_id(last.values())
        if comparison.compared:
            first, second = (s.label for s in sources[:2])
            comparison.differences, comparison.differing_fields = differences(
                to_records(last[first]), to_records(last[second]), (first, second)
            )
        results.append(comparison)
    return results


def _first_customer_id(frames: Any) -> int | None:
    for frame in frames:
        if isinstance(frame, pl.DataFrame) and frame.height:
            return int(frame["customer_id"][0])
    return None


def latency_frame(results: Sequence[ViewComparison]) -> pl.DataFrame:
    """One row per view and source: runs, median, p25, p75, min, max (ms)."""
    rows: list[Mapping[str, Any]] = [
        {
            "view": r.view,
            "source": label,
            "runs": len(lat.samples),
            "median_ms": round(lat.median, 2),
            "p25_ms": round(lat.p25, 2),
            "p75_ms": round(lat.p75, 2),
            "min_ms": round(min(lat.samples), 2),
            "max_ms": round(max(lat.samples), 2),
        }
        for r in results
        for label, lat in r.latency.items()
    ]
    schema = {
        "view": pl.String,
        "source": pl.String,
        "runs": pl.Int64,
        **{c: pl.Float64 for c in ("median_ms", "p25_ms", "p75_ms", "min_ms", "max_ms")},
    }
    return pl.DataFrame(rows, schema=schema)
