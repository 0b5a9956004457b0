"""The lake: Delta tables published together through one commit record, one writer at a time.

The public API of the lake protocol; datasets, hooks, the CLI, the app and notebooks use
these names only:

- the commit record and its published history (:mod:`.record`, :mod:`.history`);
- a run's staged versions and what a reader gets (:mod:`.transaction`);
- the lake lock (:mod:`.lock`) and the pre-flight checks (:mod:`.checks`);
- snapshot reads (:mod:`.snapshot`);
- what a node hands a keyed table to change some of its keys (:mod:`.changes`);
- realign, restore and rollback (:mod:`.recovery`, imported on use: it loads delta-rs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from medallion_kedro.lake.changes import KeyedChanges
from medallion_kedro.lake.checks import (
    BUILT_BY,
    LakeMixedError,
    LakeUnavailableError,
    build_command,
    check_consistent,
    check_lake,
)
from medallion_kedro.lake.history import LakeHistoryError, check_published, version_at
from medallion_kedro.lake.lock import LakeLock, LakeLockedError
from medallion_kedro.lake.record import (
    RECORD,
    Entry,
    Lake,
    Record,
    commit_entries,
    lake_of,
    new_run_id,
    now_iso,
)
from medallion_kedro.lake.snapshot import Snapshot, load_together, read_table, read_tables
from medallion_kedro.lake.storage import delta_storage_options, fs_credentials, lake_at
from medallion_kedro.lake.transaction import (
    Sources,
    Transaction,
    active,
    begin,
    current_entry,
    end,
    pinned,
    record_for_reading,
)

if TYPE_CHECKING:
    from medallion_kedro.lake.recovery import Restored

__all__ = [
    "BUILT_BY",
    "RECORD",
    "Entry",
    "KeyedChanges",
    "Lake",
    "LakeHistoryError",
    "LakeLock",
    "LakeLockedError",
    "LakeMixedError",
    "LakeUnavailableError",
    "Record",
    "Restored",
    "Snapshot",
    "Sources",
    "Transaction",
    "active",
    "begin",
    "build_command",
    "check_consistent",
    "check_lake",
    "check_published",
    "commit_entries",
    "current_entry",
    "delta_storage_options",
    "end",
    "fs_credentials",
    "lake_at",
    "lake_of",
    "load_together",
    "new_run_id",
    "now_iso",
    "pinned",
    "read_table",
    "read_tables",
    "realign",
    "realign_if_needed",
    "record_for_reading",
    "restore",
    "rollback",
    "version_at",
]

_RESTORE = {"Restored", "realign", "realign_if_needed", "restore", "rollback"}


def __getattr__(name: str) -> Any:
    if name in _RESTORE:
        from medallion_kedro.lake import recovery as module

        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
