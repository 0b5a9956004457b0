"""What a run has written but not yet published, and which version of a table a reader in
this process gets: the run's own staged version, else the pinned snapshot's, else the
published one."""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable, Iterator

from medallion_kedro.lake.record import Entry, Lake, Record, commit_entries

#: The sources of a group of tables: the Delta version of each lake table it was built from.
Sources = dict[str, int]


class Transaction:
    """The versions one run has written: visible to the run, published by :meth:`commit`."""

    def __init__(self, lake: Lake, run_id: str) -> None:
        self.lake = lake
        self.run_id = run_id
        self.staged: dict[str, Entry] = {}
        self.committed: set[str] = set()
        self._mutex = threading.RLock()  # ThreadRunner stages and commits from threads

    def stage(self, key: str, entry: Entry) -> None:
        with self._mutex:
            self.staged[key] = dict(entry)

    def pending(self) -> set[str]:
        with self._mutex:
            return set(self.staged) - self.committed

    def commit_complete(
        self, units: list[set[str]], sources: Callable[[set[str]], Sources]
    ) -> None:
        """Commit every unit whose tables are all staged and not yet committed."""
        with self._mutex:
            for unit in units:
                if unit <= set(self.staged) and not unit <= self.committed:
                    self.commit(unit, sources(unit))

    def commit(self, keys: set[str], sources: Sources | None = None) -> None:
        """Publish the staged versions of ``keys`` in one write of the record, each naming
        ``sources`` (the versions it was built from)."""
        with self._mutex:
            entries: dict[str, Entry | None] = {
                k: {**self.staged[k], "sources": dict(sources or {})} for k in keys
            }
            commit_entries(self.lake, entries, self.run_id)
            self.committed |= keys

    def discard(self) -> None:
        """Forget what was staged and not committed (the run failed): the record never
        names it, and the next command puts those tables back to their published version."""
        with self._mutex:
            self.staged = {k: e for k, e in self.staged.items() if k in self.committed}


_ACTIVE: dict[Lake, Transaction] = {}
_ACTIVE_MUTEX = threading.Lock()
_PINNED: contextvars.ContextVar[dict[str, Record] | None] = contextvars.ContextVar(
    "lake_pinned_records", default=None
)


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


@contextlib.contextmanager
def pinned(lake: Lake) -> Iterator[Record]:
    """Within the block, every read of ``lake``'s tables in this thread or task uses one
    commit record, read once here: tables read together come from one commit."""
    outer = _PINNED.get() or {}
    if lake.uri in outer:  # nested: keep the outer snapshot
        yield outer[lake.uri]
        return
    record = lake.read_record()
    token = _PINNED.set({**outer, lake.uri: record})
    try:
        yield record
    finally:
        _PINNED.reset(token)


def record_for_reading(lake: Lake) -> Record:
    """The commit record a reader in this context uses: the pinned one, else read now."""
    pinned_records = _PINNED.get() or {}
    return pinned_records.get(lake.uri) or lake.read_record()


def current_entry(lake: Lake, key: str) -> Entry | None:
    """The version of table ``key`` this process reads: the one the running session staged,
    else the one the (pinned, else current) commit record names."""
    transaction = active(lake)
    if transaction is not None and key in transaction.staged:
        return transaction.staged[key]
    entry: Entry | None = record_for_reading(lake)["tables"].get(key)
    return entry
