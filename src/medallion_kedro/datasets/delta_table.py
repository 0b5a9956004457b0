"""``DeltaTableDataset``: a Delta Lake table, published by the lake's commit record."""

from __future__ import annotations

import copy
import datetime as dt
import errno
import logging
import math
import threading
from pathlib import PurePosixPath
from typing import Any

import fsspec
import polars as pl
from deltalake import DeltaTable, Schema, WriterProperties, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError
from deltalake.transaction import (
    AddAction,
    CommitProperties,
    RemoveAction,
    create_table_with_add_actions,
)
from kedro.io.core import AbstractDataset, DatasetError, get_protocol_and_path
from kedro_datasets._typing import TablePreview

import medallion_kedro.lake as lakes
from medallion_kedro.datasets._preview import table_preview
from medallion_kedro.lake import Entry, build_command, delta_storage_options, fs_credentials
from medallion_kedro.lake.changes import KeyedChanges
from medallion_kedro.lake.delta_files import Layout, TableFiles, writes_plain
from medallion_kedro.lake.keyed import rewrite_keys
from medallion_kedro.schemas import BATCH_ID

log = logging.getLogger(__name__)

MODES = ("overwrite", "append", "merge")

#: How keyed changes are written (``save_args.keyed_writer``).
KEYED_WRITERS = ("polars", "delta-rs")
#: The merge metrics a commit record entry keeps.
MERGE_METRICS = (
    "num_source_rows", "num_target_rows_inserted", "num_target_rows_updated",
    "num_target_rows_deleted",
)  # fmt: skip
#: The ``write_deltalake`` options the polars writer honours too.
_PLAIN_OPTIONS = {"writer_properties", "configuration"}

#: What a save writes: a whole frame, or keyed changes (eager polars frames).
Written = pl.DataFrame | KeyedChanges


def is_delta(entry: Entry | None) -> bool:
    """Whether a commit record entry names a Delta version."""
    return entry is not None and entry.get("format") == "delta"


class DeltaTableDataset(AbstractDataset[pl.DataFrame | pl.LazyFrame, pl.LazyFrame]):
    """A lake table stored as a Delta Lake table, read lazily with polars.

    ``filepath`` names the table's folder ``<lake>/<layer>/<table>`` (local or ``s3://``).
    Each save writes a new Delta version (``mode``: ``overwrite``, ``append`` or ``merge``)
    that nobody reads yet; the lake's commit record (``<lake>/_lake.json``) names the Delta
    version readers get, so several tables are published together. During a ``kedro run``
    the project's hooks stage what the run writes and commit a stage's tables together;
    later nodes of the same run read the staged version. Outside a run, a save commits its
    one table at once, under the lake lock.

    A Delta version that the record does not name (a killed or failed run wrote it) is
    never read, and the next command puts the table back to the published version
    (``medallion_kedro.lake.realign``), so it is never built upon either.

    ``load_args``: ``version`` (an int) or ``as_of`` (an ISO timestamp or datetime) read
    that version through the lake's published history (time travel: a version no commit
    published is refused); ``missing: empty`` reads a table that has no published version
    yet as an empty frame (the incremental stages' "what is there already").

    ``save_args``: ``mode`` and, for ``merge``, ``keys`` (the business key columns) or
    ``predicate`` (a delta-rs SQL predicate over ``s`` the new rows and ``t`` the table,
    run by ``DeltaTable.merge``); ``compression`` (``lz4``, ``zstd``, ``snappy``);
    the layout, ``cluster_by`` (columns each write sorts its files by) and
    ``target_file_rows`` (rows per file, default 1,000,000); ``keyed_writer``; and any
    other ``write_deltalake`` option (e.g. ``configuration``).

    Every write is one Delta commit made by delta-rs, with the run id and batch ids as
    commit metadata (``CommitProperties``). Frames of plain column types are written by
    polars as Parquet files with full statistics (row count, min, max and null count per
    column) and committed through delta-rs' transaction API; others by ``write_deltalake``.
    A merge by ``keys``, and a :class:`~medallion_kedro.lake.KeyedChanges` a node returns,
    rewrite only the files that hold a changed key and add files for new keys
    (``keyed_writer: polars``, :mod:`medallion_kedro.lake.keyed`), or run
    ``DeltaTable.merge`` (``keyed_writer: delta-rs``). An ``append`` or ``merge`` of no
    rows writes nothing: the run publishes the same Delta version. The entry a save stages
    has the version's ``rows``, ``mode``, ``batch_ids``, merge metrics and
    ``rows_written`` (the rows of the files the version added).

    Example catalog entry (the layout: docs/design/lake-layout.md)::

        silver.orders:
          type: medallion_kedro.datasets.DeltaTableDataset
          filepath: ${globals:lake}/silver/orders
          save_args: {mode: merge, keys: [order_id], compression: lz4,
                      cluster_by: [order_id], target_file_rows: 25000}
    """

    def __init__(
        self,
        *,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(str(filepath).rstrip("/"))
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **fs_credentials(credentials), **(fs_args or {}))
        folder = path.removesuffix(".parquet")
        self._filepath = PurePosixPath(folder)
        self._storage_options = delta_storage_options(credentials) if protocol != "file" else {}
        self.lake, self.key = lakes.lake_of(protocol, folder, self._fs, self._storage_options)
        self._uri = self.lake.path(self.key.replace(".", "/", 1))
        if protocol != "file":
            self._uri = f"{protocol}://{self._uri}"
        self._load_args = dict(load_args or {})
        self._save_args = dict(save_args or {})
        self._mode = str(self._save_args.pop("mode", "overwrite"))
        self._keys: list[str] = list(self._save_args.pop("keys", []) or [])
        self._predicate: str | None = self._save_args.pop("predicate", None)
        compression = self._save_args.pop("compression", None)
        codec = str(compression or "snappy").lower()
        self._files = TableFiles(self._uri, self._storage_options, codec, self._fs)
        if compression:
            codec = {"lz4": "LZ4_RAW"}.get(str(compression).lower(), str(compression).upper())
            self._save_args["writer_properties"] = WriterProperties(compression=codec)  # type: ignore[arg-type]
        try:
            self._layout = Layout.from_save_args(self._save_args)
        except ValueError as exc:
            raise DatasetError(f"Lake table {self.key}: {exc}; fix it in the catalog.") from exc
        self._keyed_writer = str(self._save_args.pop("keyed_writer", "polars"))
        if self._keyed_writer not in KEYED_WRITERS:
            raise DatasetError(
                f"Lake table {self.key}: save_args.keyed_writer '{self._keyed_writer}' is not "
                f"one of {', '.join(KEYED_WRITERS)}; fix it in the catalog."
            )
        if self._mode not in MODES:
            raise DatasetError(
                f"Lake table {self.key}: save mode '{self._mode}' is not one of "
                f"{', '.join(MODES)}; fix save_args.mode in the catalog."
            )
        if self._mode == "merge" and not (self._keys or self._predicate):
            raise DatasetError(
                f"Lake table {self.key}: save mode 'merge' needs save_args.keys (the business "
                "key columns) or save_args.predicate in the catalog."
            )
        self.metadata = metadata
        #: The Delta version the last :meth:`load` read (the run's provenance names it).
        self.last_read: int | None = None
        #: The one ``DeltaTable`` this dataset opens (see :meth:`_delta`), and its guard.
        self._handle: DeltaTable | None = None
        self._handle_lock = threading.RLock()

    @property
    def layer(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def uri(self) -> str:
        """The Delta table's location, as delta-rs and polars take it."""
        return self._uri

    @property
    def storage_options(self) -> dict[str, str]:
        return dict(self._storage_options)

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._uri,
            "mode": self._mode,
            "keys": self._keys,
            "load_args": self._load_args,
        }

    # -- reading ----------------------------------------------------------------------------

    def current_entry(self) -> Entry | None:
        """The version this process reads: staged by the running session, else committed."""
        return lakes.current_entry(self.lake, self.key)

    def _exists(self) -> bool:
        return is_delta(self.current_entry())

    def table(self, version: int | None = None) -> DeltaTable:
        """The table's ``deltalake.DeltaTable`` at ``version``, else brought up to its
        latest, for maintenance: the dataset's one handle, so use it before the next call
        that moves it (a load, a save or another :meth:`table`)."""
        table = self._delta(version)
        if table is None:
            raise DatasetError(
                f"Lake table {self.key} has no Delta table at {self._uri}: build it with "
                f"`{build_command(self.layer)}`."
            )
        return table

    def _delta(self, version: int | None = None) -> DeltaTable | None:
        """The dataset's one ``DeltaTable``, at ``version`` (``load_as_version``) or else
        brought up to the latest version any process committed (``update_incremental``,
        which reads only the log entries after the handle's version); None if there is
        no table yet.

        Opening a table reads its whole ``_delta_log`` (on S3, several requests): each
        dataset opens it once and then moves that handle.
        """
        with self._handle_lock:
            if self._handle is None:
                try:
                    self._handle = DeltaTable(
                        self._uri, version=version, storage_options=self._storage_options
                    )
                except TableNotFoundError:
                    return None
            elif version is None:
                self._handle.update_incremental()
            elif self._handle.version() != version:
                self._handle.load_as_version(version)
            return self._handle

    def load(self) -> pl.LazyFrame:
        version = self._load_args.get("version")
        as_of = self._load_args.get("as_of")
        if version is not None or as_of is not None:
            return self.load_version(version=version, as_of=as_of)
        entry = self.current_entry()
        if is_delta(entry):
            assert entry is not None
            return self._read(int(entry["version"]))
        if self._load_args.get("missing") == "empty":
            return pl.LazyFrame()  # a table not built yet reads as no rows (load_args.missing)
        raise DatasetError(
            f"Lake table {self.key} has no published version in {self.lake.uri}: build "
            f"it with `{build_command(self.layer)}`."
        )

    def load_version(
        self, version: int | None = None, as_of: str | dt.datetime | None = None
    ) -> pl.LazyFrame:
        """The table as it was published at time ``as_of``, or its published Delta
        ``version`` (time travel through the lake's published history: a version a run
        wrote but never published is refused)."""
        if version is None and as_of is None:
            return self.load()
        return self._read(self.published_version(version=version, as_of=as_of))

    def published_version(
        self, version: int | None = None, as_of: str | dt.datetime | None = None
    ) -> int:
        """The Delta version readers got at time ``as_of`` (naive times are UTC), or
        ``version`` once checked to be published; logs which version is used."""
        record = lakes.record_for_reading(self.lake)
        try:
            if as_of is not None:
                version = lakes.version_at(record, self.key, as_of)
            else:
                assert version is not None
                lakes.check_published(record, self.key, int(version))
        except lakes.LakeHistoryError as exc:
            raise DatasetError(f"Lake table {self.key}: {exc}") from exc
        when = f", the version published at {as_of}" if as_of is not None else ""
        log.info("lake: reading %s at Delta version %s%s", self.key, version, when)
        return int(version)

    def _read(self, version: int) -> pl.LazyFrame:
        """:meth:`scan_version`, noting the version for the run's provenance."""
        self.last_read = version
        return self.scan_version(version)

    def scan_version(self, version: int) -> pl.LazyFrame:
        """Delta ``version`` of the table, read lazily (no check that it was published:
        callers resolve the version through the commit record)."""
        try:
            with self._handle_lock:
                table = self._delta(version) if version >= 0 else None
                files = self._plain_files(table) if table and self._protocol == "file" else None
        except DeltaError:
            table = None
        if table is None:
            raise DatasetError(
                f"Cannot read version {version} of lake table {self.key}: it has versions "
                f"0 to {self.latest_version()}. See `kedro lake history {self.key}`."
            )
        try:
            if files:
                return pl.scan_parquet(files)
            return pl.scan_delta(
                self._uri, version=version, storage_options=self._storage_options or None
            )
        except (DeltaError, OSError, pl.exceptions.PolarsError) as exc:
            raise DatasetError(
                f"Cannot read version {version} of lake table {self.key} at {self._uri}: "
                f"{exc}. See `kedro lake history {self.key}` for the versions it has "
                "(a vacuum removes the files of old versions)."
            ) from exc

    def _plain_files(self, table: DeltaTable) -> list[str] | None:
        """The data files of ``table``'s version when a plain Parquet scan reads it exactly.

        Our tables use no partitions, deletion vectors or column mapping, so the version
        is the union of its files: polars then scans them natively (column and row-group
        pruning, row counts from the footers) instead of through a Python dataset.
        """
        features = set(table.protocol().reader_features or [])
        if features - {"timestampNtz"} or table.metadata().partition_columns:
            return None
        return [uri.removeprefix("file://") for uri in table.file_uris()] or None

    # -- writing ----------------------------------------------------------------------------

    def latest_version(self) -> int | None:
        """The newest Delta version of the table (named by the record or not); None if none."""
        table = self._delta()
        return None if table is None else int(table.version())

    def _align(self, entry: Entry | None) -> bool:
        """Make the Delta table's latest version the one ``entry`` names; False if no table.

        Versions after it were written by a run that was killed or failed (never named by
        the record): an ``append`` or ``merge`` must not build on them. (Each command
        realigns the whole lake first: this guards a save outside a command.)
        """
        if self.latest_version() is None or not is_delta(entry):
            return False
        assert entry is not None
        from medallion_kedro.lake.recovery import restore_to

        restore_to(self.lake, self.key, int(entry["version"]), self._handle)
        return True

    def save(self, data: pl.DataFrame | pl.LazyFrame | KeyedChanges) -> None:
        if isinstance(data, KeyedChanges):
            written: Written = self._checked_changes(data)
        else:
            written = data.collect() if isinstance(data, pl.LazyFrame) else data
        transaction = lakes.active(self.lake)
        if transaction is not None:
            self._write_and_stage(written, transaction)
        else:
            self._commit_alone(written, lakes.new_run_id())

    def _checked_changes(self, changes: KeyedChanges) -> KeyedChanges:
        """``changes`` as eager polars frames, checked: the table merges by keys, and
        ``rows`` names each key once."""
        if self._mode != "merge" or not self._keys:
            raise DatasetError(
                f"Lake table {self.key}: a node returned changes to some keys, which needs "
                "save_args.mode 'merge' and save_args.keys in the catalog."
            )
        rows = changes.rows.collect() if isinstance(changes.rows, pl.LazyFrame) else changes.rows
        keys = changes.keys.lazy() if isinstance(changes.keys, pl.DataFrame) else changes.keys
        _refuse_repeated_keys(rows, self._keys, self.key)
        return KeyedChanges(rows, keys.select(self._keys).collect())

    def _write_and_stage(
        self, data: Written, transaction: lakes.Transaction, mode: str | None = None
    ) -> None:
        current = self.current_entry()
        mode = "merge" if isinstance(data, KeyedChanges) else (mode or self._mode)
        if _nothing(data) and mode != "overwrite" and is_delta(current):
            # appending or merging no rows: the same Delta version, published by this run
            assert current is not None
            kept = ("sources", "committed_at", "rows_written", "merge")
            entry = {k: v for k, v in current.items() if k not in kept}
            transaction.stage(self.key, {**entry, "run_id": transaction.run_id, "rows_written": 0})
            return
        entry = self._write(data, transaction.run_id, current, mode)
        transaction.stage(self.key, entry)

    def _commit_alone(
        self,
        frame: Written,
        run_id: str,
        extra: dict[str, Any] | None = None,
        mode: str | None = None,
    ) -> Entry:
        """Publish this one table now (a save outside a run), under the lake lock."""
        with lakes.LakeLock(self.lake, run_id):
            current = self.lake.read_record()["tables"].get(self.key)
            entry = self._write(frame, run_id, current, mode)
            entry.update(extra or {})
            lakes.commit_entries(self.lake, {self.key: entry}, run_id)
        return entry

    # -- time travel and maintenance (``kedro lake``) ---------------------------------------

    def _aligned(self, run_id: str) -> lakes.LakeLock:
        """The lake lock, taken, with every table's latest version the published one."""
        lock = lakes.LakeLock(self.lake, run_id)
        lock.acquire()
        try:
            lakes.realign(self.lake)
        except BaseException:
            lock.release()
            raise
        return lock

    def vacuum(self, retention_hours: float, dry_run: bool = False) -> list[str]:
        """Remove data files that no version newer than ``retention_hours`` uses.

        Runs under the lake lock after undoing unnamed versions, so the published version's
        files are never removed. The previous version (for ``rollback``) and older ones
        stay readable only while their files are within the retention period.
        """
        lock = self._aligned(lakes.new_run_id())
        try:
            hours = max(0, math.ceil(retention_hours), self._hours_to_keep_previous())
            removed = self.table().vacuum(
                retention_hours=hours,
                enforce_retention_duration=False,
                dry_run=dry_run,
            )
        finally:
            lock.release()
        return list(removed)

    def _hours_to_keep_previous(self) -> int:
        """Retention (hours) that keeps the files of the record's previous version."""
        previous = self.lake.read_record().get("previous", {}).get(self.key)
        if previous is None or not is_delta(previous):
            return 0
        after = int(previous["version"]) + 1  # its files were removed by this version
        for item in self.table().history():
            if item.get("version") == after:
                age = dt.datetime.now(dt.UTC).timestamp() - item["timestamp"] / 1000
                return math.ceil(age / 3600) + 1
        return 0

    def compact(self, z_order: bool = False) -> str:
        """Rewrite small files into files of about ``target_file_rows`` rows (delta-rs'
        ``optimize.compact``), or with ``z_order`` the whole table sorted again by the
        layout's ``cluster_by`` columns (``optimize.z_order``): a new Delta version with
        the same rows, published in place of the current one (the record's ``previous``
        is unchanged)."""
        if z_order and not self._layout.cluster_by:
            return "no save_args.cluster_by in the catalog: nothing to sort by"
        lock = self._aligned(lakes.new_run_id())
        try:
            record = self.lake.read_record()
            entry = record["tables"].get(self.key)
            if entry is None or not is_delta(entry):
                return "not a published Delta table: nothing to compact"
            table = self.table()
            size = self._target_file_bytes(table)
            if z_order:
                metrics = table.optimize.z_order(self._layout.cluster_by, target_size=size)
            else:
                metrics = table.optimize.compact(target_size=size)
            latest = self.latest_version()
            if latest is not None and latest != entry["version"]:
                compacted = {**entry, "compacted_from": entry["version"], "version": latest}
                lakes.commit_entries(self.lake, {self.key: compacted}, lakes.new_run_id(),
                                     op="compact", record=record)  # fmt: skip
        finally:
            lock.release()
        return (
            f"{metrics.get('numFilesRemoved', 0)} files rewritten into "
            f"{metrics.get('numFilesAdded', 0)}"
        )

    def _target_file_bytes(self, table: DeltaTable) -> int | None:
        """The file size (bytes) of ``target_file_rows`` rows of the table, from the sizes
        and row counts of its files (None, delta-rs' default, for an empty table)."""
        files = pl.DataFrame(table.get_add_actions(flatten=True))
        rows = int(files["num_records"].sum()) if files.height else 0
        if not rows:
            return None
        return max(1, int(files["size_bytes"].sum() / rows * self._layout.target_file_rows))

    def _write(
        self, data: Written, run_id: str, entry: Entry | None, mode: str | None = None
    ) -> Entry:
        """Write one Delta version on top of the version ``entry`` names (with save mode
        ``mode``, else the catalog's; :class:`KeyedChanges` merge by keys); return its
        entry (with ``rows_written``, the rows of the files the version added)."""
        has_table = self._align(entry)
        if not has_table and isinstance(data, KeyedChanges):
            data = data.rows  # the first version of the table: the rows, whole
        mode = "merge" if isinstance(data, KeyedChanges) else (mode or self._mode)
        mode = mode if has_table else "overwrite"
        frame = data.rows if isinstance(data, KeyedChanges) else data
        batches: list[str] = []
        if BATCH_ID in frame.columns:
            batches = sorted(str(b) for b in frame.get_column(BATCH_ID).unique().drop_nulls())
            if mode != "overwrite" and entry is not None:
                batches = sorted(set(batches) | {str(b) for b in entry.get("batch_ids", [])})
        props = CommitProperties(custom_metadata={"run_id": run_id, "batch_ids": batches})
        before = self._file_rows() if has_table else {}
        try:
            metrics = self._write_version(data, mode, props)
        except CommitFailedError as exc:
            raise DatasetError(
                f"Lake table {self.key}: another writer changed the Delta table while this "
                f"write ran (writers outside a run take no lake lock): {exc}. Nothing was "
                "published; run again."
            ) from exc
        except (OSError, DeltaError, pl.exceptions.PolarsError) as exc:
            disk_full = getattr(exc, "errno", None) == errno.ENOSPC or (
                f"os error {errno.ENOSPC}" in str(exc) or "No space left" in str(exc)
            )
            full = " (the disk is full)" if disk_full else ""
            raise DatasetError(
                f"Cannot write lake table {self.key} to {self._uri}{full}: {exc}. Nothing was "
                "published: readers still see the previous version. Free space or fix the "
                "lake's permissions, then run again."
            ) from exc
        table = self.table()
        after = self._file_rows(table)
        new: Entry = {
            "format": "delta",
            "version": int(table.version()),
            "run_id": run_id,
            "mode": mode,
            "rows": sum(after.values()),
            "rows_written": sum(n for path, n in after.items() if path not in before),
            "written_at": lakes.now_iso(),
        }
        if metrics:
            new["merge"] = {k: int(metrics[k]) for k in MERGE_METRICS if k in metrics}
        if BATCH_ID in frame.columns:
            new["batch_ids"] = batches
        self._fs.invalidate_cache(str(self._filepath))
        return new

    def _held(self) -> DeltaTable:
        """The handle as this save's one :meth:`latest_version` left it (in :meth:`_align`):
        the writes of a save build on that version, not on one they look up again."""
        return self._handle if self._handle is not None else self.table()

    def _write_version(self, data: Written, mode: str, props: CommitProperties) -> dict[str, Any]:
        """Commit ``data`` as one new Delta version; the merge's metrics (none otherwise)."""
        if isinstance(data, KeyedChanges):
            return self._write_keyed(data.rows, data.keys, props)
        if mode == "merge" and not self._predicate:  # an upsert: keyed changes, no delete
            _refuse_repeated_keys(data, self._keys, self.key)
            return self._write_keyed(data, data.select(self._keys), props)
        if mode == "merge":
            merger = self._held().merge(
                data.to_arrow(compat_level=pl.CompatLevel.oldest()),
                predicate=self._predicate or "",
                source_alias="s",
                target_alias="t",
                writer_properties=self._save_args.get("writer_properties"),
                commit_properties=props,
            )
            return dict(merger.when_matched_update_all().when_not_matched_insert_all().execute())
        if self._writes_plain(data, mode):
            self._write_plain(data, mode, props)
        else:
            write_deltalake(
                self._uri if self._handle is None else self._handle,
                data.to_arrow(compat_level=pl.CompatLevel.oldest()),
                mode="overwrite" if mode == "overwrite" else "append",
                schema_mode="overwrite" if mode == "overwrite" else None,
                storage_options=self._storage_options or None,
                commit_properties=props,
                **self._save_args,
            )
        return {}

    def _write_keyed(
        self, rows: pl.DataFrame, keys: pl.DataFrame, props: CommitProperties
    ) -> dict[str, Any]:
        """Apply keyed changes (``rows`` replace or add their keys, the other ``keys`` are
        deleted) in one Delta commit; the merge's metrics.

        ``keyed_writer: polars`` (the default) rewrites only the files that hold a changed
        key and adds files for new keys (:func:`medallion_kedro.lake.keyed.rewrite_keys`),
        committed by delta-rs; ``delta-rs`` runs ``DeltaTable.merge``.
        """
        table = self._held()
        schema = pl.scan_delta(table).collect_schema()
        rows = rows.select(schema.names()).cast(dict(schema))  # type: ignore[arg-type]
        keys = keys.cast({k: schema[k] for k in self._keys})
        if self._keyed_writer == "delta-rs" or not writes_plain(schema, self._files.codec):
            return self._merge_keyed(table, rows, keys, props)
        done = rewrite_keys(table, self._files, self._layout, self._keys, rows, keys)
        if done.actions:
            table.create_write_transaction(
                done.actions, "append", table.schema(), commit_properties=props
            )
        return done.metrics

    def _merge_keyed(
        self, table: DeltaTable, rows: pl.DataFrame, keys: pl.DataFrame, props: CommitProperties
    ) -> dict[str, Any]:
        """Keyed changes as one ``DeltaTable.merge``: the source is ``rows`` and, marked
        for deletion, the keys of ``keys`` without a row."""
        gone = keys.unique().join(rows.select(self._keys), on=self._keys, how="anti")
        source = pl.concat(
            [rows.with_columns(_delete=pl.lit(False)), gone.with_columns(_delete=pl.lit(True))],
            how="diagonal_relaxed",
        )
        columns = {c: f's."{c}"' for c in rows.columns}
        merger = table.merge(
            source.to_arrow(compat_level=pl.CompatLevel.oldest()),
            predicate=self._merge_predicate(),
            source_alias="s",
            target_alias="t",
            writer_properties=self._save_args.get("writer_properties"),
            commit_properties=props,
        )
        return dict(
            merger.when_matched_delete(predicate="s._delete")
            .when_matched_update(columns, predicate="NOT s._delete")
            .when_not_matched_insert(columns, predicate="NOT s._delete")
            .execute()
        )

    def _file_rows(self, table: DeltaTable | None = None) -> dict[str, int]:
        """Each data file of the table's latest version and its rows (from the Delta log)."""
        files = pl.DataFrame((table or self._held()).get_add_actions(flatten=True))
        if files.is_empty():
            return {}
        return {p: int(n or 0) for p, n in files.select("path", "num_records").iter_rows()}

    def _writes_plain(self, frame: pl.DataFrame, mode: str) -> bool:
        """Whether :meth:`_write_plain` can write ``frame``: plain column types, no
        delta-rs option but the codec, and for an append the table's own schema;
        otherwise delta-rs writes it."""
        if set(self._save_args) - _PLAIN_OPTIONS or not writes_plain(
            frame.schema, self._files.codec
        ):
            return False
        if mode == "append":
            return bool(self._held().schema() == _delta_schema(frame))
        return True

    def _write_plain(self, frame: pl.DataFrame, mode: str, props: CommitProperties) -> None:
        """Write ``frame`` as Parquet files with polars (laid out as ``cluster_by`` and
        ``target_file_rows`` say, each ``add`` action with full statistics) and commit them
        through delta-rs: an append, or for an ``overwrite`` the table's new schema and the
        removal of the files it replaces.

        polars' Parquet writer is faster than delta-rs' and needs no Arrow copy of the frame.
        """
        adds = self._files.write_all(frame, self._layout)
        schema = _delta_schema(frame)
        if mode == "append":
            actions: list[AddAction | RemoveAction] = [*adds]
            self._held().create_write_transaction(
                actions, "append", schema, commit_properties=props
            )
            return
        create_table_with_add_actions(
            self._uri,
            schema,
            adds,
            mode="error" if self._handle is None else "overwrite",
            configuration=self._save_args.get("configuration"),
            storage_options=self._storage_options or None,
            commit_properties=props,
        )

    def _merge_predicate(self) -> str:
        if self._predicate:
            return self._predicate
        return " AND ".join(f's."{k}" = t."{k}"' for k in self._keys)

    def file_stats(self) -> dict[str, int] | None:
        """Rows, columns and bytes of the version this process reads (from the Delta log)."""
        entry = self.current_entry()
        if entry is None or not is_delta(entry):
            return None
        table = self.table(int(entry["version"]))
        files = pl.DataFrame(table.get_add_actions(flatten=True))
        return {
            "rows": int(files["num_records"].sum()) if files.height else 0,
            "columns": len(table.schema().fields),
            "file_size": int(files["size_bytes"].sum()) if files.height else 0,
        }

    def preview(self, nrows: int = 10) -> TablePreview:
        """The first ``nrows`` rows, in the split layout Kedro-Viz shows as a table."""
        return table_preview(self.load().head(nrows).collect())

    def with_load_args(self, **load_args: Any) -> DeltaTableDataset:
        """A copy of this dataset that reads with ``load_args`` (e.g. ``version=3``)."""
        clone = copy.copy(self)
        clone._load_args = {**self._load_args, **load_args}
        return clone


def _nothing(data: Written) -> bool:
    """Whether ``data`` changes no row: no rows, or keyed changes of no key."""
    if isinstance(data, KeyedChanges):
        return bool(data.rows.height == 0 and data.keys.height == 0)
    return bool(data.height == 0)


def _refuse_repeated_keys(frame: pl.DataFrame, keys: list[str], table: str) -> None:
    """A MERGE source must name each key once; say which key repeats, and what to do."""
    repeated = frame.lazy().group_by(keys).len().filter(pl.col("len") > 1).head(3).collect()
    if repeated.height:
        raise repeated_keys_error(table, keys, [row[:-1] for row in repeated.iter_rows()])


def repeated_keys_error(
    table: str, keys: list[str], examples: list[tuple[Any, ...]]
) -> DatasetError:
    """The error for a MERGE source that repeats ``keys`` (``examples``: some repeated
    keys), whichever engine found them."""
    shown = ", ".join(str(example) for example in examples)
    return DatasetError(
        f"Cannot merge into lake table {table}: the new rows repeat keys {keys} (e.g. "
        f"{shown}); a merge needs one row per key. Keep one row per key before saving "
        "(silver's flag_duplicates keeps the last one). Nothing was written."
    )


def _delta_schema(frame: pl.DataFrame) -> Schema:
    """The Delta schema of ``frame``'s columns, from polars' schema through the Arrow C
    interface (no data copied, and no pyarrow: a write of plain columns never loads it)."""
    return Schema.from_arrow(frame.schema)
