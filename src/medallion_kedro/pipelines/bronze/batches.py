"""Bronze from a landing zone of batches: each new export file ingested exactly once.

A landing file is a batch; its id is the hash of its content (see
:class:`~medallion_kedro.datasets.LandingFolderDataset`), so a file dropped again with the
same content is skipped and a changed file is a new batch (which replaces the earlier batch
of its name, see :mod:`.ledger`). ``bronze.batches`` is the ledger of ingested batches; it
is appended to in the same commit as the bronze rows, so a batch is either in both or in
neither.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import polars as pl

from medallion_kedro.datasets._csv_text import _chunked_like
from medallion_kedro.datasets.landing_folder import LandingFile
from medallion_kedro.pipelines.bronze.nodes import (
    SourceLayoutError,
    check_layout,
    ingest,
    publish,
    source_file,
)
from medallion_kedro.public_errors import publishable
from medallion_kedro.schemas import (
    BATCH_ID,
    INGESTED_AT,
    MALFORMED,
    RAW_COLUMNS,
    SOURCE_FILE,
    SOURCE_ROW,
    _schema,
)

log = logging.getLogger(__name__)

#: One row per ingested batch.
LEDGER = _schema(
    {
        "table": pl.String,
        "batch_id": pl.String,
        "source_file": pl.String,
        "size": pl.Int64,
        "modified": pl.Float64,
        "rows": pl.Int64,
        "ingested_at": pl.Datetime("us"),
    }
)


def bronze_schema(table: str) -> pl.Schema:
    """The columns of ``bronze.<table>``: the raw text columns, lineage, row number."""
    return _schema(
        {
            **dict.fromkeys(RAW_COLUMNS[table], pl.String),
            INGESTED_AT: pl.Datetime("us"),
            SOURCE_FILE: pl.String,
            BATCH_ID: pl.String,
            MALFORMED: pl.Boolean,
            SOURCE_ROW: pl.Int64,
        }
    )


def _ledger(frame: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
    df = frame.lazy().collect()
    return df if df.width else pl.DataFrame(schema=LEDGER)


def new_files(
    files: dict[str, LandingFile], ledger: pl.LazyFrame | pl.DataFrame, table: str
) -> list[tuple[LandingFile, str]]:
    """The landing files of ``table`` not ingested yet, with their batch ids, in order.

    Every file is hashed: its content decides, whatever its size and modification time
    (a file changed in place is a new batch, which replaces the earlier batch of that
    name). A content already ingested, under any name, is skipped, as is a content that
    appears twice in this listing; so is a retracted batch's content, until the retraction
    is undone (``kedro lake retract <batch> --undo``).
    """
    done = _ledger(ledger).filter(pl.col("table") == table)
    known = set(done.get_column("batch_id"))
    fresh: list[tuple[LandingFile, str]] = []
    for name, file in files.items():
        batch_id = file.digest()
        if batch_id in known:
            log.debug("bronze.%s: %s is already in the ledger (batch %s): skipped", table, name,
                      batch_id)  # fmt: skip
            continue
        known.add(batch_id)
        fresh.append((file, batch_id))
    return fresh


def ingest_batches(
    files: dict[str, LandingFile],
    ledger: pl.LazyFrame | pl.DataFrame,
    source: dict[str, Any],
    batch: dict[str, str],
    table: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows of every new batch of ``table`` (see :func:`ingest`, one batch id per file,
    plus the row number in the file) and their ledger rows."""
    ingested_at = dt.datetime.fromisoformat(batch["ingested_at"])
    mapped = source.get("column_map") or dict.fromkeys(RAW_COLUMNS[table])
    check_layout([str(c) for c in mapped], source, table)  # the configuration, on every run
    fresh = new_files(files, ledger, table)
    if not files and _ledger(ledger).filter(pl.col("table") == table).is_empty():
        raise publishable(
            SourceLayoutError(
                f"Landing file {source_file(source, table)} does not exist: run `kedro run "
                f"--pipelines generate` or copy your export there, or drop export files into "
                f"the landing folder of {table} (one file per batch)."
            )
        )
    parts, entries = [], []
    for file, batch_id in fresh:
        rows = ingest(
            file.load(),
            {**source, "file": file.name},
            {"batch_id": batch_id, "ingested_at": batch["ingested_at"]},
            table,
        )
        numbers = pl.int_range(1, rows.height + 1, dtype=pl.Int64, eager=True).alias(SOURCE_ROW)
        parts.append(rows.with_columns(_chunked_like(numbers, rows.to_series(0))))
        entries.append(
            (table, batch_id, file.name, file.size, file.modified, rows.height, ingested_at)
        )
    schema = bronze_schema(table)
    rows = pl.concat(parts).cast(schema) if parts else pl.DataFrame(schema=schema)
    return rows, pl.DataFrame(entries, schema=LEDGER, orient="row")


def publish_batches(
    customers: pl.DataFrame,
    orders: pl.DataFrame,
    ledger_customers: pl.DataFrame,
    ledger_orders: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Release the new rows of both tables and their ledger rows together (see
    :func:`publish`): appended to bronze in one commit, or not at all."""
    ledger = pl.concat([ledger_customers, ledger_orders])
    if ledger.is_empty():
        log.info("bronze: no new landing file")
    for row in ledger.iter_rows(named=True):
        log.info("bronze.%s: batch %s from %s, %d rows", row["table"], row["batch_id"],
                 row["source_file"], row["rows"])  # fmt: skip
    customers, orders = publish(customers, orders)
    return customers, orders, ledger
