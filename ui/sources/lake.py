"""Read the gold tables straight from the lake, through the project's Kedro catalog.

The catalog is built once per process and per (project, environment), so the app follows
``--env minio`` exactly as ``kedro run`` does, and no request pays for a Kedro bootstrap.
Each call reads every table it needs from one commit record (a snapshot), and
:meth:`LakeSource.snapshot` holds one for several calls, so a run publishing in between
never gives the app tables of two commits.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl

import medallion_kedro.lake as lakes
from ui.sources.base import Customer, Kpis, SourceError, SourceUnavailableError

LABEL = "Lake (Delta)"

_CATALOGS: dict[tuple[Path, str | None], Any] = {}
_LOCK = threading.Lock()


def kedro_catalog(project_path: Path, env: str | None) -> Any:
    """The project's Kedro catalog for ``env``, built on first use and cached per process."""
    key = (project_path.resolve(), env or None)
    with _LOCK:
        if key not in _CATALOGS:
            _CATALOGS[key] = _build_catalog(*key)
        return _CATALOGS[key]


def _build_catalog(project_path: Path, env: str | None) -> Any:
    from medallion_kedro.project_catalog import build_catalog

    try:
        catalog = build_catalog(env, root=project_path)
    except Exception as exc:  # any Kedro or configuration error: say where and why
        raise SourceUnavailableError(
            f"Cannot load the Kedro project at {project_path} (env {env or 'local'}): "
            f"{_first_line(exc)}. Run the app from the project folder or set "
            "KEDRO_PROJECT_PATH, and check conf/ and KEDRO_ENV."
        ) from exc
    # Every request loads a gold table; Kedro would log each load at INFO.
    logging.getLogger("kedro.io.data_catalog").setLevel(logging.WARNING)
    return catalog


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _one_snapshot(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``method`` with every lake read in it from one commit record."""

    @functools.wraps(method)
    def wrapper(self: LakeSource, *args: Any, **kwargs: Any) -> Any:
        with self.snapshot():
            return method(self, *args, **kwargs)

    return wrapper


class LakeSource:
    """Gold Delta tables, loaded as ``gold.<table>`` from the Kedro catalog."""

    def __init__(self, project_path: Path, env: str | None = None) -> None:
        self._project_path = project_path
        self._env = env or None

    @property
    def label(self) -> str:
        return LABEL

    def describe(self) -> str:
        env = self._env or "local"
        return f"gold Delta tables of the Kedro project {self._project_path} (env {env})"

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Within the block, every table this source reads comes from one commit record."""
        catalog = kedro_catalog(self._project_path, self._env)
        try:
            lake = catalog.get("gold.kpis").lake
        except Exception:  # no lake table in this catalog: nothing to pin
            yield
            return
        with lakes.pinned(lake):
            yield

    def _scan(self, table: str) -> pl.LazyFrame:
        """``gold.<table>`` as a LazyFrame, whether the catalog loads it eager or lazy."""
        catalog = kedro_catalog(self._project_path, self._env)
        name = f"gold.{table}"
        try:
            if not catalog.exists(name):
                raise FileNotFoundError(name)
            frame = catalog.load(name)
        except Exception as exc:
            raise self._not_built(name, exc) from exc
        if isinstance(frame, pl.DataFrame):
            return frame.lazy()
        if isinstance(frame, pl.LazyFrame):
            return frame
        raise SourceError(f"`{name}` loaded as {type(frame).__name__}, not a polars frame")

    def _collect(self, table: str, query: pl.LazyFrame) -> pl.DataFrame:
        """``query`` collected, the lake's exact decimal money as the app's floats."""
        try:
            return query.with_columns(pl.col(pl.Decimal).cast(pl.Float64)).collect()
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise self._not_built(f"gold.{table}", exc) from exc

    def _load(self, table: str) -> pl.DataFrame:
        return self._collect(table, self._scan(table))

    def _not_built(self, name: str, exc: Exception) -> SourceUnavailableError:
        run = "kedro run" + (f" --env {self._env}" if self._env else "")
        cause = "" if isinstance(exc, FileNotFoundError) else f" Cause: {_first_line(exc)}"
        return SourceUnavailableError(
            f"The lake has no readable gold table `{name}` ({self.describe()}): build it "
            f"with `{run} --pipelines generate` then `{run}`.{cause}"
        )

    @_one_snapshot
    def kpis(self) -> Kpis:
        frame = self._load("kpis")
        if frame.height != 1:
            raise SourceError(
                f"gold.kpis has {frame.height} rows instead of one: rebuild it with `kedro run`"
            )
        return Kpis(**frame.row(0, named=True))

    @_one_snapshot
    def revenue_by_country(self) -> pl.DataFrame:
        return self._load("revenue_by_country")

    @_one_snapshot
    def revenue_by_product(self) -> pl.DataFrame:
        return self._load("revenue_by_product")

    @_one_snapshot
    def monthly_revenue(self) -> pl.DataFrame:
        return self._load("monthly_revenue").sort("month")

    def _one_customer(self, condition: pl.Expr) -> Customer | None:
        found = self._collect("customer_metrics", self._scan("customer_metrics").filter(condition))
        return Customer(**found.row(0, named=True)) if found.height else None

    @_one_snapshot
    def customer_by_id(self, customer_id: int) -> Customer | None:
        return self._one_customer(pl.col("customer_id") == customer_id)

    @_one_snapshot
    def customer_by_email(self, email: str) -> Customer | None:
        return self._one_customer(pl.col("email").str.to_lowercase() == email.strip().lower())

    @_one_snapshot
    def top_customers(
        self, n: int, country: str | None = None, segment: str | None = None
    ) -> pl.DataFrame:
        query = self._scan("customer_metrics")
        if country:
            query = query.filter(pl.col("country") == country)
        if segment:
            query = query.filter(pl.col("segment") == segment)
        query = query.sort(["total_spent", "customer_id"], descending=[True, False]).head(n)
        return self._collect("customer_metrics", query)

    @_one_snapshot
    def segments(self) -> pl.DataFrame:
        return self._load("segments")
