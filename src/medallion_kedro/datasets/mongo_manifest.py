"""Export runs published through a manifest: all collections of a run, or none.

An export run never writes a collection readers use. It writes each table to
``<table>__<run_id>``, builds its indexes there, checks the document count, then switches
readers with ONE single-document write: a compare-and-set of the manifest document, from
the run that was current when this run started to this run. Readers (the API) read the
manifest once per request and use the collection names it gives. No ``renameCollection``
is used, so this holds on any MongoDB-compatible server (nx-27017 refuses ``dropTarget``).

Collections of the database:

- ``_manifest``: one document per database (``_id`` ``"<database>:current"``; nx-27017 in
  single-file mode shares collection names across databases, so the database is in the
  key): run id, export time, sources, and per table the physical collection, document
  count and checksum; ``previous`` holds the run it replaced (kept for rollback).
- ``_manifest_history``: every committed manifest, ``_id`` = run id.
- ``_export_leases``: one document per running export (``_id`` = run id, host, pid,
  ``expires_at``), renewed by a heartbeat while the run writes; the next export deletes
  the leases of dead runs.

A manifest names the lake it was published from (``lake_id``, the id stored in the lake,
see :mod:`medallion_kedro.lake_identity`, and ``lake_uri``): an export from another lake
stops before writing anything (:class:`OtherLakeError`) unless it is told to replace it
(``replace_other_lake``).

Cleanup only ever drops (a) collections of a run named in an older committed manifest
(neither current nor previous), once the current manifest's predecessor has been
superseded for longer than ``grace_seconds`` (so a request that resolved an older manifest
finishes its reads), and (b) collections of a run whose lease is dead (expired, or its
process on this host is gone) and that never committed. A collection whose owner run is
unknown to this database is never touched.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl
from kedro.io.core import DatasetError
from pymongo.database import Database
from pymongo.errors import CollectionInvalid, DuplicateKeyError

from medallion_kedro.datasets import _mongo_write as mw
from medallion_kedro.errors import UserError
from medallion_kedro.export_manifest import FORMAT, HISTORY, LEASES, MANIFEST, manifest_id
from medallion_kedro.processes import alive
from medallion_kedro.public_errors import public_text, publishable

__all__ = ["FORMAT", "HISTORY", "LEASES", "MANIFEST", "Publisher", "manifest_id", "read_manifest"]

logger = logging.getLogger(__name__)

Document = dict[str, Any]
#: ``<UTC time to the microsecond>Z_<random>`` (ids of earlier releases, to the second, still
#: match), so ids sort in start order even for runs started within the same second.
_RUN = r"\d{8}T\d{6}(?:\d{6})?Z_[0-9a-f]{8}"
RUN_ID = re.compile(rf"^{_RUN}$")
STAGED = re.compile(rf"^(?P<table>.+)__(?P<run>{_RUN})$")


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique export run id, e.g. ``20261128T051500123456Z_1f2e3d4c``."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S%fZ}_{uuid.uuid4().hex[:8]}"


def physical_name(table: str, run_id: str) -> str:
    return f"{table}__{run_id}"


def read_manifest(db: Database[Document]) -> Document | None:
    """The current manifest of ``db``, or ``None`` when nothing was exported yet."""
    return db[MANIFEST].find_one({"_id": manifest_id(db.name)})


def live_collections(db: Database[Document]) -> dict[str, str]:
    """Table -> physical collection named by the current manifest (empty if none)."""
    manifest = read_manifest(db)
    if manifest is None:
        return {}
    return {t: c["name"] for t, c in manifest["collections"].items()}


class ExportConflict(DatasetError):
    """Another export committed while this one ran; this run published nothing."""


#: The run parameter that lets an export replace a manifest another lake published.
REPLACE_PARAMETER = "replace_other_lake"


class OtherLakeError(UserError, DatasetError):
    """The database publishes another lake's export; this export wrote nothing."""


def check_owner(
    manifest: Document | None, lake: Mapping[str, Any] | None, database: str, replace: bool
) -> None:
    """Refuse to publish ``lake`` (``{"id", "uri"}``) over a manifest that another lake
    published, unless ``replace``. A manifest without a lake id (adopted collections, or
    written before manifests named their lake) belongs to no lake and may be replaced."""
    theirs = str((manifest or {}).get("lake_id") or "")
    if lake is None or not theirs or theirs == lake.get("id") or replace:
        return
    writer = (manifest or {}).get("writer") or {}
    raise publishable(
        OtherLakeError(
            f"MongoDB database {database} publishes the export of another lake, "
            f"{theirs} ({(manifest or {}).get('lake_uri') or 'its path unknown'} on "
            f"{writer.get('host') or 'an unknown host'}), not of this lake, {lake.get('id')} "
            f"({lake.get('uri')}). Nothing was written. To replace it with this lake's gold, "
            f"run `kedro run --pipelines export --params {REPLACE_PARAMETER}=true`; to keep "
            "both, export this lake to a database of its own (MONGO_DB)."
        )
    )


@dataclass(frozen=True)
class TablePlan:
    """One table of a run: its BSON-ready rows and the indexes to build."""

    frame: pl.DataFrame
    indexes: list[mw.IndexSpec] = field(default_factory=list)


@dataclass(frozen=True)
class PublishOptions:
    batch_size: int = 5_000
    writers: int = 2
    transactions: Any = "auto"
    #: A running export renews its lease every third of this; a lease older is dead.
    lease_seconds: float = 60.0
    #: How long an older run stays readable after it was superseded (longer than the API's
    #: request budget), before cleanup may drop it.
    grace_seconds: float = 60.0
    #: Publish over a manifest another lake published (see :func:`check_owner`).
    replace_other_lake: bool = False


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def lease_is_dead(lease: Document, now: datetime | None = None) -> bool:
    """Expired, or held by a process of this host that no longer exists."""
    if float(lease["expires_at"]) <= (now or _now()).timestamp():
        return True
    return lease.get("host") == socket.gethostname() and not alive(int(lease["pid"]))


class Lease:
    """This run's claim on its staged collections, renewed by a daemon thread."""

    def __init__(self, db: Database[Document], run_id: str, seconds: float) -> None:
        self.db, self.run_id, self.seconds = db, run_id, seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{run_id}", daemon=True)

    def acquire(self) -> None:
        self.db[LEASES].insert_one(
            {
                "_id": self.run_id,
                "database": self.db.name,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "started_at": _now(),
                "expires_at": time.time() + self.seconds,  # epoch seconds: see renew
            }
        )
        self._thread.start()

    def renew(self) -> bool:
        """Extend the lease; ``False`` if it had expired or was taken away."""
        # a number, not a date: nx-27017 stores a date given to $set as a string
        now = time.time()
        result = self.db[LEASES].update_one(
            {"_id": self.run_id, "expires_at": {"$gt": now}},
            {"$set": {"expires_at": now + self.seconds}},
        )
        return result.matched_count == 1

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                self.renew()
            except Exception:  # noqa: BLE001 - the writer itself reports database errors
                logger.debug("Could not renew the export lease %s", self.run_id)

    def stop(self) -> None:
        """Stop renewing: the lease then expires and cleanup may drop the run's leftovers."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def release(self) -> None:
        self.stop()
        self.db[LEASES].delete_one({"_id": self.run_id})


@dataclass
class Publisher:
    """Writes one export run of several tables and publishes it through the manifest."""

    db: Database[Document]
    uri: str
    options: PublishOptions = field(default_factory=PublishOptions)

    def publish(
        self, tables: Mapping[str, TablePlan], meta: Mapping[str, Any] | None = None
    ) -> Document:
        """Write every table, then commit the manifest; return it. All or nothing."""
        run_id = new_run_id()
        lease = Lease(self.db, run_id, self.options.lease_seconds)
        lease.acquire()
        written: list[str] = []
        lake = (meta or {}).get("lake")
        try:
            self.collect_garbage(own=run_id)
            base = read_manifest(self.db)
            check_owner(base, lake, self.db.name, self.options.replace_other_lake)
            collections = {}
            for table, plan in tables.items():
                written.append(physical_name(table, run_id))
                collections[table] = self._write(table, run_id, plan)
            manifest = self._manifest(run_id, base, collections, meta or {})
            if not lease.renew():
                raise DatasetError(
                    f"Export run {run_id} lost its lease (it stalled for more than "
                    f"{self.options.lease_seconds} s); another export may have dropped its "
                    "collections. Nothing was published; run the export again."
                )
            self._check_counts(collections)
            self._commit(manifest, base)
        except BaseException as exc:
            if self._drop_quietly(written):
                self._release_quietly(lease)
            else:  # leave the lease to expire, so a later run drops what is left
                lease.stop()
            others = self._other_live_runs(run_id) if isinstance(exc, Exception) else []
            if others and not isinstance(exc, ExportConflict | OtherLakeError):
                conflict = (
                    f"Export run {run_id} failed while another export ({', '.join(others)}) "
                    f"was writing to {self.db.name}: {{}}. This run published nothing and "
                    "dropped its collections; readers still see the last published run. Run "
                    "one export at a time, or run it again."
                )
                raise publishable(
                    ExportConflict(conflict.format(f"{type(exc).__name__}: {exc}")),
                    conflict.format(public_text(exc)),
                ) from exc
            raise
        self._record_history(manifest)
        self._release_quietly(lease)
        try:
            self.collect_garbage(own=run_id)
        except Exception as exc:  # noqa: BLE001 - published already; the next run retries
            logger.warning("Cleanup after export run %s failed: %s", run_id, exc)
        return manifest

    # -- writing ---------------------------------------------------------------------------

    def _write(self, table: str, run_id: str, plan: TablePlan) -> Document:
        started = time.perf_counter()
        name = physical_name(table, run_id)
        try:
            target = self.db.create_collection(name)
        except CollectionInvalid:  # nx-27017 creates a collection a reader merely counts
            target = self.db[name]
            if target.estimated_document_count():
                raise
        opts = self.options
        checksum = mw.insert_frame(
            target,
            plan.frame,
            batch_size=opts.batch_size,
            writers=opts.writers,
            transactions=mw.uses_transactions(target, opts.transactions, self.uri),
        )
        for keys, index_options in plan.indexes:  # one by one: some servers refuse batches
            target.create_index(keys, **index_options)
        elapsed = time.perf_counter() - started
        logger.info(
            "Wrote %d documents to MongoDB %s.%s (%s) in %.2f s (%.0f docs/s)",
            plan.frame.height,
            self.db.name,
            table,
            name,
            elapsed,
            plan.frame.height / elapsed if elapsed else 0.0,
        )
        return {
            "name": name,
            "documents": plan.frame.height,
            "checksum": mw.format_checksum(checksum),
            "indexes": [[list(k) for k in keys] for keys, _ in plan.indexes],
        }

    def _check_counts(self, collections: Mapping[str, Document]) -> None:
        for table, entry in collections.items():
            held = self.db[entry["name"]].count_documents({})
            if held != entry["documents"]:
                raise DatasetError(
                    f"Export of {table}: {self.db.name}.{entry['name']} holds {held} documents, "
                    f"{entry['documents']} were written. Something else changed it during the "
                    "run; nothing was published. Run the export again."
                )

    @staticmethod
    def _previous(base: Document | None) -> Document | None:
        if base is None:
            return None
        return {
            "run_id": base["run_id"],
            "exported_at": base["exported_at"],
            "collections": base["collections"],
        }

    def _manifest(
        self,
        run_id: str,
        base: Document | None,
        collections: Mapping[str, Document],
        meta: Mapping[str, Any],
    ) -> Document:
        return {
            "_id": manifest_id(self.db.name),
            "format": FORMAT,
            "database": self.db.name,
            "run_id": run_id,
            "exported_at": _now(),
            "collections": dict(collections),
            "sources": dict(meta.get("sources") or {}),
            "lake_version": meta.get("lake_version"),
            "pipeline_run_id": meta.get("pipeline_run_id"),
            "lake_id": (meta.get("lake") or {}).get("id"),
            "lake_uri": (meta.get("lake") or {}).get("uri"),
            "writer": {"host": socket.gethostname(), "pid": os.getpid()},
            "previous": self._previous(base),
        }

    def _commit(self, manifest: Document, base: Document | None, attempts: int = 10) -> None:
        """The one write that switches readers: a compare-and-set on the base run id.

        When another export was published meanwhile, the newer run wins: run ids start
        with their start time, so if the published run started before this one, this run
        is published on top of it (it becomes ``previous``); if it started after, this
        run's data is older and it publishes nothing. Two exports at once thus both finish
        when the older one lands first, and an older export never replaces a newer one.
        """
        table = self.db[MANIFEST]
        for _ in range(attempts):
            if base is None:
                try:
                    table.insert_one(manifest)
                    return
                except DuplicateKeyError:
                    pass
            else:
                filter_ = {"_id": manifest["_id"], "run_id": base["run_id"]}
                if table.replace_one(filter_, manifest).matched_count == 1:
                    return
            current = read_manifest(self.db)
            lake = {"id": manifest["lake_id"], "uri": manifest["lake_uri"]}
            check_owner(
                current,
                lake if manifest["lake_id"] else None,
                self.db.name,
                self.options.replace_other_lake,
            )
            if current is not None and current["run_id"] > manifest["run_id"]:
                raise ExportConflict(
                    f"A newer export (run {current['run_id']}, started after this one) was "
                    f"published in {self.db.name} while run {manifest['run_id']} was writing; "
                    "this run published nothing and dropped its collections. Readers see the "
                    "newer run."
                )
            logger.info(
                "Export run %s was published meanwhile; publishing %s on top of it",
                current and current["run_id"],
                manifest["run_id"],
            )
            base = current
            manifest["previous"] = self._previous(base)
        raise ExportConflict(
            f"Export run {manifest['run_id']} could not publish in {self.db.name}: the "
            f"manifest changed {attempts} times while it tried; it published nothing."
        )

    def _record_history(self, manifest: Document) -> None:
        entry = {**manifest, "_id": manifest["run_id"]}
        try:
            self.db[HISTORY].insert_one(entry)
        except DuplicateKeyError:
            pass
        except Exception as exc:  # noqa: BLE001 - the next run records it (collect_garbage)
            logger.warning("Could not record manifest %s in history: %s", manifest["run_id"], exc)

    def _other_live_runs(self, own: str) -> list[str]:
        try:
            leases = self.db[LEASES].find({"database": self.db.name, "_id": {"$ne": own}})
            return sorted(str(doc["_id"]) for doc in leases if not lease_is_dead(doc))
        except Exception:  # noqa: BLE001 - only used to explain a failure
            return []

    # -- cleanup ---------------------------------------------------------------------------

    def collect_garbage(self, own: str | None = None) -> list[str]:
        """Drop collections of dead or superseded runs of this database; return their names.

        Order matters: collections are listed first, then leases, then the manifest, so a
        run that starts or commits meanwhile is seen as alive or current.
        """
        staged: dict[str, list[str]] = {}
        for name in self.db.list_collection_names():
            match = STAGED.match(name)
            if match and match["run"] != own:
                staged.setdefault(match["run"], []).append(name)
        self._drop_dead_leases(keep={*staged, own} if own else set(staged))
        if not staged:
            return []
        leases = {doc["_id"]: doc for doc in self.db[LEASES].find({"_id": {"$in": list(staged)}})}
        manifest = read_manifest(self.db)
        keep: set[str] = set()
        superseded_long_ago = True
        if manifest is not None:
            keep.add(manifest["run_id"])
            self._record_history(manifest)  # in case its writer died right after commit
            previous = manifest.get("previous")
            if previous:
                keep.add(previous["run_id"])
                age = _now() - _aware(manifest["exported_at"])
                superseded_long_ago = age.total_seconds() > self.options.grace_seconds
        committed = {
            doc["_id"]
            for doc in self.db[HISTORY].find(
                {"_id": {"$in": list(staged)}, "database": self.db.name}, {"_id": 1}
            )
        }
        dropped: list[str] = []
        for run, names in staged.items():
            lease = leases.get(run)
            if run in keep or (lease is not None and lease.get("database") != self.db.name):
                continue
            if lease is not None and not lease_is_dead(lease):
                continue
            if lease is None and run not in committed:
                continue  # not a run of this database, or not known: never touched
            if run in committed and not superseded_long_ago:
                continue
            why = "an older export" if run in committed else "a dead export"
            for name in names:
                logger.info("Dropping %s.%s, left by %s (run %s)", self.db.name, name, why, run)
                self.db.drop_collection(name)
                dropped.append(name)
            if lease is not None:
                self.db[LEASES].delete_one({"_id": run})
        return dropped

    def _drop_dead_leases(self, keep: set[str]) -> None:
        """Delete the dead leases of this database whose runs left no collection (a run
        killed before it wrote, or whose collections were dropped); the leases of runs in
        ``keep`` are left to the collection cleanup."""
        for lease in self.db[LEASES].find({"database": self.db.name, "_id": {"$nin": list(keep)}}):
            if lease_is_dead(lease):
                logger.info("Deleting the lease of dead export run %s", lease["_id"])
                self.db[LEASES].delete_one({"_id": lease["_id"], "expires_at": lease["expires_at"]})

    def _drop_quietly(self, names: list[str]) -> bool:
        """Drop this run's collections after a failure; ``False`` if some could not be."""
        try:
            for name in names:
                self.db.drop_collection(name)
        except Exception:  # noqa: BLE001 - the server may be gone; its lease expires
            logger.warning("Could not drop the collections of a failed export in %s", self.db.name)
            return False
        return True

    @staticmethod
    def _release_quietly(lease: Lease) -> None:
        try:
            lease.release()
        except Exception:  # noqa: BLE001 - the lease then expires on its own
            logger.debug("Could not release the export lease %s", lease.run_id)


def adopt(db: Database[Document], collections: Mapping[str, str], run_id: str | None = None) -> str:
    """Publish collections written by other means (fixtures, a restore) as the live run.

    ``collections`` maps each table to an existing collection. The manifest is replaced
    unconditionally, with the count and checksum of what each collection holds now;
    returns the run id.
    """
    run_id = run_id or new_run_id()
    entries = {
        table: {
            "name": name,
            "documents": db[name].count_documents({}),
            "checksum": mw.collection_checksum(db[name]),
            "indexes": [],
        }
        for table, name in collections.items()
    }
    manifest = {
        "_id": manifest_id(db.name),
        "format": FORMAT,
        "database": db.name,
        "run_id": run_id,
        "exported_at": _now(),
        "collections": entries,
        "sources": {},
        "lake_version": None,
        "pipeline_run_id": None,
        "writer": {"host": socket.gethostname(), "pid": os.getpid(), "adopted": True},
        "previous": None,
    }
    db[MANIFEST].replace_one({"_id": manifest["_id"]}, manifest, upsert=True)
    return run_id
