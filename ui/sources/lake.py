"""Read the gold tables straight from the lake, through the project's Kedro catalog.

The catalog is built once per process and per (project, environment), so the app follows
``--env minio`` exactly as ``kedro run`` does, and no request pays for a Kedro bootstrap.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import polars as pl

from ui.sources.base import Customer, Kpis, SourceError, SourceUnavailableError
from ui.sources.segments import summarise_segments

LABEL = "Lake (Parquet)"

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
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    try:
        bootstrap_project(project_path)
        with KedroSession.create(project_path=project_path, env=env) as session:
            return session.load_context().catalog
    except Exception as exc:  # any Kedro or configuration error: say where and why
        raise SourceUnavailableError(
            f"Cannot load the Kedro project at {project_path} (env {env or 'local'}): "
            f"{_first_line(exc)}. Run the app from the project folder or set "
            "KEDRO_PROJECT_PATH, and check conf/ and KEDRO_ENV."
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


class LakeSource:
    """Gold Parquet tables, loaded as ``gold.<table>`` from the Kedro catalog."""

    def __init__(self, project_path: Path, env: str | None = None) -> None:
        self._project_path = project_path
        self._env = env or None

    @property
    def label(self) -> str:
        return LABEL

    def describe(self) -> str:
        return f"gold Parquet of the Kedro project {self._project_path} (env {self._env or 'local'})"

    def _load(self, table: str) -> pl.DataFrame:
        catalog = kedro_catalog(self._project_path, self._env)
        name = f"gold.{table}"
        try:
            if not catalog.exists(name):
                raise FileNotFoundError(name)
            frame = catalog.load(name)
        except Exception as exc:
            run = "kedro run" + (f" --env {self._env}" if self._env else "")
            raise SourceUnavailableError(
                f"The lake has no gold table `{name}` yet ({self.describe()}): build it with "
                f"`{run} --pipeline generate` then `{run}`."
                + ("" if isinstance(exc, FileNotFoundError) else f" Cause: {_first_line(exc)}")
            ) from exc
        if not isinstance(frame, pl.DataFrame):
            raise SourceError(f"`{name}` loaded as {type(frame).__name__}, not a polars frame")
        return frame

    def kpis(self) -> Kpis:
        frame = self._load("kpis")
        if frame.height != 1:
            raise SourceError(f"gold.kpis has {frame.height} rows instead of one: rerun `kedro run`")
        return Kpis(**frame.row(0, named=True))

    def revenue_by_country(self) -> pl.DataFrame:
        return self._load("revenue_by_country")

    def revenue_by_product(self) -> pl.DataFrame:
        return self._load("revenue_by_product")

    def monthly_revenue(self) -> pl.DataFrame:
        return self._load("monthly_revenue").sort("month")

    def customer_by_id(self, customer_id: int) -> Customer | None:
        found = self._load("customer_metrics").filter(pl.col("customer_id") == customer_id)
        return Customer(**found.row(0, named=True)) if found.height else None

    def customer_by_email(self, email: str) -> Customer | None:
        wanted = email.strip().lower()
        found = self._load("customer_metrics").filter(pl.col("email").str.to_lowercase() == wanted)
        return Customer(**found.row(0, named=True)) if found.height else None

    def top_customers(
        self, n: int, country: str | None = None, segment: str | None = None
    ) -> pl.DataFrame:
        frame = self._load("customer_metrics")
        if country:
            frame = frame.filter(pl.col("country") == country)
        if segment:
            frame = frame.filter(pl.col("segment") == segment)
        return frame.sort(["total_spent", "customer_id"], descending=[True, False]).head(n)

    def segments(self) -> pl.DataFrame:
        return summarise_segments(self._load("customer_metrics"))
