"""Putting the lake's Delta tables back to published data: after a killed run (realign),
to a whole earlier commit (restore), or to the commit before the last change (rollback).

Every change is delta-rs' own ``DeltaTable.restore`` (a new Delta version with the rows
of the version restored), published through the commit record under the lake lock, so
the latest Delta version of every table is a published one: a Delta reader outside the
project (delta-rs, DuckDB, Spark, pandas) reads what the lake published.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from medallion_kedro.lake import history
from medallion_kedro.lake.lock import LakeLock, LakeLockedError
from medallion_kedro.lake.record import Entry, Lake, Record, commit_entries, new_run_id

log = logging.getLogger(__name__)


def _delta(lake: Lake, key: str) -> DeltaTable | None:
    try:
        return DeltaTable(lake.table_uri(key), storage_options=lake.storage_options or None)
    except TableNotFoundError:
        return None


def _published_tables(lake: Lake, record: Record) -> dict[str, DeltaTable]:
    """A ``DeltaTable`` of every table ``record`` publishes that has one, at its latest
    version (one open each: a realign and the restore after it share them)."""
    found = {}
    for key in sorted(record.get("tables", {})):
        table = _delta(lake, key)
        if table is not None:
            found[key] = table
    return found


def unpublished(
    lake: Lake, record: Record, tables: dict[str, DeltaTable] | None = None
) -> dict[str, int]:
    """Tables whose latest Delta version is not the published one: key -> latest version
    (``tables``: handles at their latest versions, else each table is opened)."""
    tables = _published_tables(lake, record) if tables is None else tables
    return {
        key: int(table.version())
        for key, table in sorted(tables.items())
        if table.version() != int(record["tables"][key]["version"])
    }


def restore_to(lake: Lake, key: str, version: int, table: DeltaTable | None = None) -> int:
    """Make a new Delta version of ``key`` with the rows of ``version``; return it (the
    latest version unchanged when it already is ``version``).

    ``table`` is the caller's handle on the table, already at its latest version (a
    dataset's, saving a new open of the table's log); it is left at the version returned.
    """
    table = _delta(lake, key) if table is None else table
    if table is None:
        raise TableNotFoundError(f"{lake.table_uri(key)} is not a Delta table")
    if table.version() == version:
        return version
    table.restore(version)
    table.update_incremental()
    return int(table.version())


def realign(
    lake: Lake, record: Record | None = None, tables: dict[str, DeltaTable] | None = None
) -> list[str]:
    """Under the lake lock (held by the caller): make the latest Delta version of every
    published table the published one again, and publish those new versions (same rows,
    run and batches) in one commit. Returns the tables realigned.

    ``tables``: a handle of every table ``record`` publishes, at its latest version (left
    at the version realigned); else each table is opened."""
    record = lake.read_record() if record is None else record
    tables = _published_tables(lake, record) if tables is None else tables
    stale = unpublished(lake, record, tables)
    if not stale:
        return []
    entries: dict[str, Entry | None] = {}
    for key in stale:
        entry = dict(record["tables"][key])
        named = int(entry["version"])
        log.info(
            "lake: %s is at Delta version %s, published is %s: restoring %s (a run that "
            "did not finish wrote the newer one)", key, stale[key], named, named,
        )  # fmt: skip
        entry["version"] = restore_to(lake, key, named, tables[key])
        entry["restored_from"] = named
        entries[key] = entry
    commit_entries(lake, entries, new_run_id(), op="realign", record=record)
    return sorted(stale)


def realign_if_needed(lake: Lake) -> list[str]:
    """:func:`realign` when a table's latest version is unpublished and no run holds the
    lake (a live run's versions are its own, in progress). Returns the tables realigned."""
    if not unpublished(lake, lake.read_record()):
        return []
    try:
        with LakeLock(lake, new_run_id(), wait=0):
            return realign(lake)
    except LakeLockedError:
        return []


@dataclass(frozen=True)
class Restored:
    """What a restore or rollback published: the commit it restored and the tables."""

    run_id: str
    published: dict[str, int]
    withdrawn: list[str]


def publish_state(lake: Lake, record: Record, state: dict[str, Entry | None], op: str) -> Restored:
    """Under the lake lock: publish every table as ``state`` has it, in one commit (a
    table ``state`` does not have, or has as None, is withdrawn: it reads as not built)."""
    tables = _published_tables(lake, record)
    realign(lake, record, tables)
    run_id = new_run_id()
    entries: dict[str, Entry | None] = {}
    for key in sorted(set(state) | set(record.get("tables", {}))):
        wanted = state.get(key)
        current = record["tables"].get(key)
        if wanted is None:
            if current is not None:
                entries[key] = None
            continue
        if current is not None and int(current["version"]) == int(wanted["version"]):
            if current.get("run_id") != wanted.get("run_id"):
                # the same rows, published again by a later run (it appended none)
                entries[key] = {**current, **wanted, "mode": op}
            continue
        version = restore_to(lake, key, int(wanted["version"]), tables.get(key))
        entries[key] = {
            "format": "delta",
            **wanted,
            "version": version,
            "restored_from": int(wanted["version"]),
            "mode": op,
        }
    if entries:
        commit_entries(lake, entries, run_id, op=op, record=record)
    return Restored(
        run_id,
        {k: int(e["version"]) for k, e in entries.items() if e is not None},
        sorted(k for k, e in entries.items() if e is None),
    )


def restore(
    lake: Lake, *, run_id: str | None = None, as_of: str | dt.datetime | None = None
) -> Restored:
    """Publish the whole lake as the commit of run ``run_id`` left it (or as readers saw it
    at ``as_of``), every table together, in one commit."""
    with LakeLock(lake, new_run_id()):
        record = lake.read_record()
        if run_id is not None:
            state = history.state_after(record, run_id)
        elif as_of is not None:
            state = history.state_at(record, as_of)
        else:
            raise ValueError("restore needs run_id or as_of")
        return publish_state(lake, record, state, "restore")


def rollback(lake: Lake) -> Restored:
    """Publish the whole lake as it was before its last change (a run, restore or
    rollback: a second rollback undoes the first), in one commit."""
    with LakeLock(lake, new_run_id()):
        record = lake.read_record()
        _, state = history.state_before_last(record)
        return publish_state(lake, record, state, "rollback")
