"""Which ingested batches the lake holds now: the live batches, in export order.

``bronze.batches`` lists every batch ever ingested and ``bronze.retractions`` every
retraction (``kedro lake retract``) and its undoing. A batch is *live* when it is the
latest batch ingested from its landing file name (a file changed in place replaces its
earlier batch) and its latest retraction event, if any, is an undo. Silver is built from
the live batches only, in *export order*: by landing file name, then row in the file.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from narwhals.typing import IntoFrame

from medallion_kedro import frames
from medallion_kedro.schemas import _schema

#: One row per retraction (``retracted``) or undoing of one (not ``retracted``).
RETRACTIONS = _schema(
    {
        "table": pl.String,
        "batch_id": pl.String,
        "source_file": pl.String,
        "retracted": pl.Boolean,
        "at": pl.Datetime("us"),
    }
)


def _rows(frame: IntoFrame, schema: pl.Schema) -> pl.DataFrame:
    rows = frames.collect(frame)
    return rows if rows.width else pl.DataFrame(schema=schema)


def retracted(retractions: IntoFrame) -> set[str]:
    """The batch ids whose latest retraction event is a retraction."""
    events = _rows(retractions, RETRACTIONS)
    latest = events.sort("at", maintain_order=True).group_by("batch_id").last()
    return set(latest.filter(pl.col("retracted")).get_column("batch_id"))


def live_batches(ledger: IntoFrame, retractions: IntoFrame) -> dict[str, list[str]]:
    """Per table, the live batch ids in export order (landing file name order).

    Of the batches ingested from one file name, the latest is live (the file as it is
    now); a retracted batch is not.
    """
    rows = frames.collect(ledger)
    out: dict[str, list[str]] = {}
    if not rows.width:
        return out
    taken_back = retracted(retractions)
    latest = (
        rows.sort("ingested_at", maintain_order=True)
        .group_by("table", "source_file", maintain_order=True)
        .last()
        .filter(~pl.col("batch_id").is_in(list(taken_back)))
        .sort("source_file", "batch_id")
    )
    for table, batch_id in latest.select("table", "batch_id").iter_rows():
        out.setdefault(table, []).append(batch_id)
    return out


def retraction(ledger: IntoFrame, target: str, undo: bool, now: dt.datetime) -> pl.DataFrame:
    """The ``bronze.retractions`` row that takes back (or, ``undo``, brings back) the
    batch ``target``: a batch id, or the landing file name of a batch."""
    rows = frames.collect(ledger)
    found = (
        rows.filter((pl.col("batch_id") == target) | (pl.col("source_file") == target))
        if rows.width
        else rows
    )
    if found.is_empty():
        raise ValueError(
            f"No batch '{target}' in the lake: name a batch id or a landing file name as "
            "`kedro lake show bronze.batches` lists them."
        )
    last = found.sort("ingested_at", maintain_order=True).row(-1, named=True)
    entry: dict[str, Any] = {
        "table": last["table"],
        "batch_id": last["batch_id"],
        "source_file": last["source_file"],
        "retracted": not undo,
        "at": now,
    }
    return pl.DataFrame([entry], schema=RETRACTIONS, orient="row")


def record_retraction(request: dict[str, Any] | None, ledger: IntoFrame) -> pl.DataFrame:
    """The retraction asked for by ``params:retraction`` (``{"target": ..., "undo":
    bool}``, set by ``kedro lake retract``), or no row on an ordinary run."""
    if not request or not request.get("target"):
        return pl.DataFrame(schema=RETRACTIONS)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return retraction(ledger, str(request["target"]), bool(request.get("undo")), now)
