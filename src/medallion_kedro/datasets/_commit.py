"""The lake's commit record: which version of every table readers see, replaced in one write.

A lake table is a folder of versions (``<layer>/<table>/<run_id>.parquet``). Writing a
version publishes nothing; ``<lake>/_lake.json`` names the version of each table that
readers get, and is replaced whole (local: temporary file + ``os.replace``; S3: one PUT of
one object). A run stages the versions it writes in a :class:`Transaction` and commits a
stage's tables together, so readers see all of them or none. The record also keeps each
table's previous version (for rollback); older versions are removed.

The record names versions, not files, so another table format uses it unchanged: a Delta
table stages ``{"format": "delta", "version": 7}`` (its Delta version) instead of a file.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fsspec

from medallion_kedro.datasets._files import remove_stale_temps, replace_whole

log = logging.getLogger(__name__)

RECORD = "_lake.json"
Entry = dict[str, Any]

#: A version file: ``<run_id>.parquet`` with the run id of :func:`new_run_id`. Cleanup never
#: touches another name, so files kept beside the tables (the append-only run history in
#: ``quality/runs`` and ``quality/node_runs``, ``_lineage/``) are safe even if a table
#: folder were named like them.
VERSION_FILE = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{8}\.parquet$")


def new_run_id() -> str:
    """A sortable, unique id for one run (also the version name of what it writes)."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Lake:
    """A lake root: a local folder (absolute path) or ``bucket/prefix`` on S3."""

    protocol: str
    root: str
    fs: fsspec.AbstractFileSystem = field(compare=False, hash=False, repr=False)

    @property
    def uri(self) -> str:
        return self.root if self.protocol == "file" else f"{self.protocol}://{self.root}"

    def path(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def read_record(self) -> dict[str, Any]:
        """The commit record, or an empty one when nothing was committed yet."""
        try:
            raw = self.fs.cat_file(self.path(RECORD))
        except FileNotFoundError:
            return {"tables": {}, "previous": {}}
        record: dict[str, Any] = json.loads(raw)
        return record

    def write_record(self, record: dict[str, Any]) -> None:
        """Replace the record in one atomic step."""
        data = json.dumps(record, indent=1, sort_keys=True).encode()
        if self.protocol == "file":
            replace_whole(Path(self.path(RECORD)), lambda tmp: tmp.write_bytes(data))
        else:
            self.fs.pipe_file(self.path(RECORD), data)
            self.fs.invalidate_cache(self.path(RECORD))

    def prune(self, keys: set[str], record: dict[str, Any], keep: set[str]) -> None:
        """Remove versions of ``keys`` that neither the record nor ``keep`` names.

        Only version files (:data:`VERSION_FILE`) in the folders of ``keys`` are candidates.
        Also removes a table's single-file layout of older releases (``<table>.parquet``)
        once the record names a version of it, and, locally, temporary files of dead runs.
        """
        named = {
            e["file"]
            for part in ("tables", "previous")
            for e in record.get(part, {}).values()
            if "file" in e
        }
        for key in keys:
            layer, table = key.split(".", 1)
            folder = self.path(f"{layer}/{table}")
            try:
                files = self.fs.ls(folder, detail=False, refresh=True)
            except FileNotFoundError:
                files = []
            for path in files:
                name = str(path).rsplit("/", 1)[-1]
                relative = f"{layer}/{table}/{name}"
                if VERSION_FILE.match(name) and relative not in named and relative not in keep:
                    log.info("lake: removing unpublished version %s", relative)
                    self.fs.rm_file(path)
            legacy = self.path(f"{layer}/{table}.parquet")
            if key in record.get("tables", {}) and self.fs.exists(legacy):
                self.fs.rm_file(legacy)
        if self.protocol == "file":
            remove_stale_temps(Path(self.root))


def lake_of(protocol: str, table_path: str, fs: fsspec.AbstractFileSystem) -> tuple[Lake, str]:
    """The lake and key (``layer.table``) of a table folder ``<root>/<layer>/<table>``."""
    path = os.path.abspath(table_path) if protocol == "file" else table_path.rstrip("/")
    root, layer, table = path.rsplit("/", 2)
    return Lake(protocol, root, fs), f"{layer}.{table}"


class Transaction:
    """The versions one run has written: visible to the run, published by :meth:`commit`."""

    def __init__(self, lake: Lake, run_id: str, sources: dict[str, str]) -> None:
        self.lake = lake
        self.run_id = run_id
        self.sources = sources
        self.staged: dict[str, Entry] = {}
        self.committed: set[str] = set()
        self._mutex = threading.RLock()  # ThreadRunner stages and commits from threads

    def stage(self, key: str, entry: Entry) -> None:
        with self._mutex:
            self.staged[key] = {**entry, "sources": self.sources}

    def pending(self) -> set[str]:
        with self._mutex:
            return set(self.staged) - self.committed

    def commit_complete(self, units: list[set[str]]) -> None:
        """Commit every unit whose tables are all staged and not yet committed."""
        with self._mutex:
            for unit in units:
                if unit <= set(self.staged) and not unit <= self.committed:
                    self.commit(unit)

    def commit(self, keys: set[str]) -> None:
        """Publish the staged versions of ``keys`` in one write of the record."""
        with self._mutex:
            record = commit_entries(self.lake, {k: self.staged[k] for k in keys}, self.run_id)
            self.committed |= keys
            keep = {
                e["file"] for k, e in self.staged.items() if k not in self.committed and "file" in e
            }
        self.lake.prune(keys, record, keep)

    def discard(self) -> None:
        """Remove the versions staged but not committed (the run failed).

        A staged Delta version is left where it is: the record never names it, so nobody
        reads it, and the next write to that table first restores the named version.
        """
        with self._mutex:
            for key in set(self.staged) - self.committed:
                if "file" not in self.staged[key]:
                    continue
                path = self.lake.path(self.staged[key]["file"])
                if self.lake.fs.exists(path):
                    self.lake.fs.rm_file(path)
            self.staged = {k: e for k, e in self.staged.items() if k in self.committed}


def commit_entries(lake: Lake, entries: dict[str, Entry], run_id: str) -> dict[str, Any]:
    """Write a record naming ``entries`` (the rest unchanged); return it."""
    record = lake.read_record()
    tables, previous = record.setdefault("tables", {}), record.setdefault("previous", {})
    for key, entry in entries.items():
        old = tables.get(key)
        # a run that published the same version again (it appended no rows) still makes
        # the version before it the previous one, so a rollback undoes the run as a whole
        if old is not None and (old.get("file"), old.get("version"), old.get("run_id")) != (
            entry.get("file"),
            entry.get("version"),
            entry.get("run_id"),
        ):
            previous[key] = old
        tables[key] = {**entry, "committed_at": now_iso()}
    record["last_commit"] = {"run_id": run_id, "at": now_iso(), "tables": sorted(entries)}
    lake.write_record(record)
    log.info("lake: committed %s (run %s)", ", ".join(sorted(entries)), run_id)
    return record


_ACTIVE: dict[Lake, Transaction] = {}
_ACTIVE_MUTEX = threading.Lock()


def begin(transaction: Transaction) -> None:
    with _ACTIVE_MUTEX:
        _ACTIVE[transaction.lake] = transaction


def end(lake: Lake) -> None:
    with _ACTIVE_MUTEX:
        _ACTIVE.pop(lake, None)


def active(lake: Lake) -> Transaction | None:
    """The transaction of the run in progress on ``lake`` in this process, if any."""
    with _ACTIVE_MUTEX:
        return _ACTIVE.get(lake)


def current_entry(lake: Lake, key: str) -> Entry | None:
    """The version of table ``key`` this process reads: the one the running session staged,
    else the one the commit record names."""
    transaction = active(lake)
    if transaction is not None and key in transaction.staged:
        return transaction.staged[key]
    entry: Entry | None = lake.read_record()["tables"].get(key)
    return entry
