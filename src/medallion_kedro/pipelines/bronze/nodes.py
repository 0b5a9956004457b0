"""Bronze: every source row as text, under the project's column names, plus lineage."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import narwhals as nw
import polars as pl
from narwhals.typing import IntoDataFrameT

from medallion_kedro.datasets._csv_text import excerpt
from medallion_kedro.errors import UserError
from medallion_kedro.public_errors import publishable
from medallion_kedro.schemas import BATCH_ID, INGESTED_AT, MALFORMED, RAW_COLUMNS, SOURCE_FILE


class SourceLayoutError(UserError, ValueError):
    """A landing file's columns do not match its ``column_map``.

    The message may quote the file's header, which is data when a file comes without one;
    the ``public`` form (:mod:`medallion_kedro.public_errors`) names the file, the line and
    the rule only.
    """


def start_batch() -> dict[str, str]:
    """Identify this ingestion: one batch id and timestamp shared by every table."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return {"batch_id": uuid.uuid4().hex[:12], "ingested_at": now.isoformat()}


def source_file(source: dict[str, Any], table: str) -> str:
    """The landing file name recorded in ``_source_file`` and named in errors."""
    return str(source.get("file", f"{table}.csv"))


def check_layout(columns: list[str], source: dict[str, Any], table: str) -> dict[str, str]:
    """Return the validated ``column_map`` of ``table``; raise with the fix when it is wrong."""
    where = f"parameters_bronze.yml bronze.sources.{table}.column_map"
    given = source.get("column_map")
    if given is None:  # no map: the source uses the project's column names
        given = {c: c for c in RAW_COLUMNS[table]}
    column_map = {str(k): str(v) for k, v in given.items()}
    expected = set(RAW_COLUMNS[table])
    targets = set(column_map.values())
    if targets != expected or len(column_map) != len(expected):
        unmapped = ", ".join(f"{table}.{c}" for c in sorted(expected - targets))
        raise publishable(
            SourceLayoutError(
                f"{where} maps to {sorted(targets)}, but table '{table}' needs exactly "
                f"{sorted(expected)}"
                + (f" (nothing maps to {unmapped})" if unmapped else "")
                + ": map one source column to each of them."
            )
        )
    file = source_file(source, table)
    missing = [c for c in column_map if c not in columns]
    if missing:
        raise publishable(
            SourceLayoutError(
                f"Landing file {file} has no column {excerpt(str(missing))} (it has "
                f"{excerpt(str(columns))}): fix the export, or map its real header names in "
                f"{where}."
            ),
            f"Landing file {file}, line 1 (the header): no column {excerpt(str(missing))} "
            f"(rule: the header names of {where}). Fix the export, or map its real header "
            "names there.",
        )
    extra = [c for c in columns if c not in column_map]
    if extra:
        raise publishable(
            SourceLayoutError(
                f"Landing file {file} has column(s) {excerpt(str(extra))} that {where} does "
                "not know: map each to a project column, or remove it from the export."
            ),
            f"Landing file {file}, line 1 (the header): {len(extra)} column(s) that {where} "
            "does not know (rule: the header names of the column_map). Map each to a project "
            "column, or remove it from the export.",
        )
    return column_map


def ingest(
    raw: IntoDataFrameT, source: dict[str, Any], batch: dict[str, str], table: str
) -> IntoDataFrameT:
    """Rename the source columns, keep every value as text and add the lineage columns.

    ``_malformed`` (the row had too few or too many fields) comes from the landing dataset;
    a frame without it has only well-formed rows. Any eager frame (polars, pandas, Arrow):
    the result has the input's type.
    """
    frame = nw.from_native(raw)
    columns = frame.collect_schema().names()
    column_map = check_layout([c for c in columns if c != MALFORMED], source, table)
    malformed = nw.col(MALFORMED) if MALFORMED in columns else nw.lit(False, dtype=nw.Boolean)
    return (
        frame.select(
            *(nw.col(src).cast(nw.String).alias(dst) for src, dst in column_map.items()),
            malformed.alias(MALFORMED),
        )
        .select(
            *RAW_COLUMNS[table],
            nw.lit(dt.datetime.fromisoformat(batch["ingested_at"]), dtype=nw.Datetime("us")).alias(
                INGESTED_AT
            ),
            nw.lit(source_file(source, table), dtype=nw.String).alias(SOURCE_FILE),
            nw.lit(batch["batch_id"], dtype=nw.String).alias(BATCH_ID),
            nw.col(MALFORMED),
        )
        .to_native()
    )


def publish(customers: pl.DataFrame, orders: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Release both tables together, once every source has been read and checked.

    Nothing reaches the lake's bronze layer when any landing file is refused, so bronze
    never mixes two batches.
    """
    return customers, orders
