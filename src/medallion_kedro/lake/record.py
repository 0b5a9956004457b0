"""The lake's commit record: which Delta version of every table readers see, and when each
was published.

``<lake>/_lake.json`` is replaced whole in one step (local: temporary file +
``os.replace``; S3: one PUT of one object), so the tables a commit names are published
together. It holds:

- ``tables``: per ``<layer>.<table>``, the entry readers get now (Delta ``version``,
  ``run_id``, ``rows``, ``batch_ids``, ``sources``: the versions it was built from, ...);
- ``previous``: per table, the entry published before the current one;
- ``history``: every commit in order (``at``, ``run_id``, ``op``, and per table it
  published its ``version``, ``run_id`` and ``rows``, or ``null`` for a table it
  withdrew). Time travel and restores resolve through it, so a Delta version no commit
  named (a killed run's) is never read.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fsspec

from medallion_kedro.lake.files import remove_stale_temps, replace_whole

log = logging.getLogger(__name__)

RECORD = "_lake.json"
Entry = dict[str, Any]
Record = dict[str, Any]

#: What the history keeps of each published entry: enough to publish it again.
HISTORY_FIELDS = ("version", "run_id", "rows")


def new_run_id() -> str:
    """A sortable, unique id for one run or one change of the lake."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def now_iso() -> str:
    """Now, in UTC, to the microsecond (commit times are compared with ``--as-of``)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def utc(when: str | dt.datetime) -> dt.datetime:
    """``when`` as an aware UTC time (an ISO text or a datetime; naive times are UTC)."""
    moment = dt.datetime.fromisoformat(when) if isinstance(when, str) else when
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


@dataclass(frozen=True)
class Lake:
    """A lake root: a local folder (absolute path) or ``bucket/prefix`` on S3."""

    protocol: str
    root: str
    fs: fsspec.AbstractFileSystem = field(compare=False, hash=False, repr=False)
    #: delta-rs ``storage_options`` for the tables of this lake (empty locally).
    storage_options: dict[str, str] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @property
    def uri(self) -> str:
        return self.root if self.protocol == "file" else f"{self.protocol}://{self.root}"

    def path(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def table_uri(self, key: str) -> str:
        """The Delta table of ``<layer>.<table>``, as delta-rs and polars take it."""
        return f"{self.uri}/{key.replace('.', '/', 1)}"

    def read_record(self) -> Record:
        """The commit record, or an empty one when nothing was committed yet."""
        try:
            raw = self.fs.cat_file(self.path(RECORD))
        except FileNotFoundError:
            return {"tables": {}, "previous": {}, "history": []}
        record: Record = json.loads(raw)
        record.setdefault("previous", {})
        record.setdefault("history", [])
        return record

    def write_record(self, record: Record) -> None:
        """Replace the record in one atomic step."""
        data = json.dumps(record, indent=1, sort_keys=True).encode()
        if self.protocol == "file":
            replace_whole(Path(self.path(RECORD)), lambda tmp: tmp.write_bytes(data))
        else:
            self.fs.pipe_file(self.path(RECORD), data)
            self.fs.invalidate_cache(self.path(RECORD))

    def remove_temps(self) -> None:
        """Locally: remove the temporary files killed writers left in the lake."""
        if self.protocol == "file":
            remove_stale_temps(Path(self.root))


def lake_of(
    protocol: str,
    table_path: str,
    fs: fsspec.AbstractFileSystem,
    storage_options: dict[str, str] | None = None,
) -> tuple[Lake, str]:
    """The lake and key (``layer.table``) of a table folder ``<root>/<layer>/<table>``."""
    path = os.path.abspath(table_path) if protocol == "file" else table_path.rstrip("/")
    root, layer, table = path.rsplit("/", 2)
    return Lake(protocol, root, fs, dict(storage_options or {})), f"{layer}.{table}"


def commit_entries(
    lake: Lake,
    entries: dict[str, Entry | None],
    run_id: str,
    op: str = "run",
    record: Record | None = None,
) -> Record:
    """Publish ``entries`` in one write of the record (the other tables unchanged); an
    entry of None withdraws the table (it reads as not built). Returns the record.

    ``record`` is the record to change (read now when not given: pass it when the caller
    read it under the lake lock and decided from it).
    """
    record = lake.read_record() if record is None else record
    tables, previous = record.setdefault("tables", {}), record.setdefault("previous", {})
    at = now_iso()
    for key, entry in entries.items():
        old = tables.get(key)
        # a run that published the same version again (it appended no rows) still makes
        # the version before it the previous one, so a rollback undoes the run as a whole
        new = (entry or {}).get("version"), (entry or {}).get("run_id")
        same_rows = op in ("realign", "compact")  # a new version of the same rows
        if not same_rows and old is not None and (old.get("version"), old.get("run_id")) != new:
            previous[key] = old
        if entry is None:
            tables.pop(key, None)
        else:
            # a new version of the same rows keeps the time its rows were published
            published_at = entry.get("committed_at", at) if same_rows else at
            tables[key] = {**entry, "committed_at": published_at}
    published = {
        k: None if e is None else {f: e[f] for f in HISTORY_FIELDS if f in e}
        for k, e in sorted(entries.items())
    }
    record.setdefault("history", []).append(
        {"at": at, "run_id": run_id, "op": op, "tables": published}
    )
    record["last_commit"] = {"run_id": run_id, "at": at, "tables": sorted(entries), "op": op}
    lake.write_record(record)
    log.info("lake: committed %s (%s %s)", ", ".join(sorted(entries)), op, run_id)
    return record
