"""Writing a :class:`~medallion_kedro.lake.changes.KeyedChanges` where its keys live.

Copy-on-write by file: the files that hold a changed key are found from their key
statistics (min/max in the Delta log) and then their key column; each is rewritten
without the changed keys and with the new rows of the keys it held, and the rows of new
keys go into new files. The result is one list of ``add`` and ``remove`` actions that
delta-rs commits as one Delta version; files without a changed key are left as they are.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import polars as pl
from deltalake import DeltaTable
from deltalake.transaction import AddAction, RemoveAction

from medallion_kedro.lake.delta_files import Layout, TableFiles


@dataclass(frozen=True)
class KeyedWrite:
    """The actions of one Delta commit applying some keys' changes, and what they did."""

    actions: list[AddAction | RemoveAction]
    metrics: dict[str, int]


def rewrite_keys(
    table: DeltaTable,
    files: TableFiles,
    layout: Layout,
    keys: list[str],
    rows: pl.DataFrame,
    changed: pl.DataFrame,
) -> KeyedWrite:
    """The actions that make ``table`` hold ``rows`` for their keys, no row for the other
    keys of ``changed``, and every other row as it is.

    ``rows`` has the table's columns and types and names each key once; ``changed`` has
    the key columns.
    """
    changed = pl.concat([changed.select(keys), rows.select(keys)]).unique()
    listed = pl.DataFrame(table.get_add_actions(flatten=True))
    candidates = _candidates(listed, changed, keys) if changed.height else []
    located = (
        files.scan(candidates).select(*keys, "_file").join(changed.lazy(), on=keys, how="semi")
        .collect()
        if candidates
        else pl.DataFrame(schema={**rows.select(keys).schema, "_file": pl.String})
    )  # fmt: skip
    found = located.select(keys).unique()
    updates = rows.join(found, on=keys, how="semi", nulls_equal=True)
    inserts = rows.join(found, on=keys, how="anti", nulls_equal=True)
    sizes = dict(zip(listed["path"], listed["size_bytes"], strict=True)) if listed.height else {}
    now = int(time.time() * 1000)
    actions: list[AddAction | RemoveAction] = []
    copied = 0
    for path in sorted(located["_file"].unique()):
        old = files.scan([path]).drop("_file").collect()
        kept = old.join(changed, on=keys, how="anti", nulls_equal=True)
        held = located.filter(pl.col("_file") == path).select(keys)
        here = updates.join(held, on=keys, how="semi", nulls_equal=True).select(old.columns)
        copied += kept.height
        actions.extend(files.write_all(pl.concat([kept, here]), layout))
        actions.append(RemoveAction(path, True, now, int(sizes.get(path, 0)) or None, {}))
    actions.extend(files.write_all(inserts, layout))
    added = [a for a in actions if isinstance(a, AddAction)]
    metrics = {
        "num_source_rows": rows.height,
        "num_target_rows_inserted": inserts.height,
        "num_target_rows_updated": updates.height,
        "num_target_rows_deleted": found.height - updates.height,
        "num_target_rows_copied": copied,
        "num_target_files_scanned": len(candidates),
        "num_target_files_skipped_during_scan": listed.height - len(candidates),
        "num_target_files_removed": len(actions) - len(added),
        "num_target_files_added": len(added),
    }
    return KeyedWrite(actions, metrics)


def _candidates(listed: pl.DataFrame, changed: pl.DataFrame, keys: list[str]) -> list[str]:
    """The files that may hold a key of ``changed``: for each key column, some changed
    value lies within the file's min/max (a file without statistics may hold any)."""
    if listed.is_empty():
        return []
    keep = pl.Series([True] * listed.height)
    for key in keys:
        low, high = f"min.{key}", f"max.{key}"
        if low not in listed.columns or high not in listed.columns:
            continue
        values = changed.get_column(key).drop_nulls().sort()
        if changed.get_column(key).null_count():
            continue  # a null key: every file may hold it
        lows, highs = listed.get_column(low), listed.get_column(high)
        try:
            inside = values.search_sorted(highs, "right") - values.search_sorted(lows, "left")
        except pl.exceptions.PolarsError:
            continue  # statistics of another type than the key: no pruning
        keep &= (inside > 0) | lows.is_null() | highs.is_null()
    return listed.filter(keep).get_column("path").to_list()
