"""``MongoExportDataset``: several tables published to MongoDB as one run, all or none."""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, TypeAlias

import pandas as pd
import polars as pl
from kedro.io.core import AbstractDataset, DatasetError

from medallion_kedro.datasets import _mongo_client as mc
from medallion_kedro.datasets import _mongo_write as mw
from medallion_kedro.datasets import mongo_manifest as mm
from medallion_kedro.datasets._mongo_convert import as_polars, bson_ready, to_pandas
from medallion_kedro.datasets.export_batch import ExportBatch
from medallion_kedro.runs.hooks import RUN_ID_VARIABLE
from medallion_kedro.schemas import export_collections

log = logging.getLogger(__name__)

Frame: TypeAlias = pd.DataFrame | pl.DataFrame | pl.LazyFrame


class MongoExportDataset(AbstractDataset[ExportBatch | Mapping[str, Frame], dict[str, Any]]):
    """Tables saved as one export run: every collection, then one manifest write, or nothing.

    ``save()`` takes an :class:`ExportBatch` (or a plain ``{table: frame}`` mapping) and
    hands it to :class:`~medallion_kedro.datasets.mongo_manifest.Publisher`: each table goes
    to a run-specific collection ``<table>__<run_id>`` with its indexes, then a
    compare-and-set of the ``_manifest`` document switches readers to the whole run at
    once. A run that fails, or that another export overtook, publishes nothing and drops
    what it wrote; the previous run stays readable. ``load()`` returns the live tables
    (``{table: pandas.DataFrame}``) named by the manifest.

    ``collections`` maps each table to its ``key`` (or ``fixed_id``) and ``indexes``, like
    ``MongoDBDataset``'s ``save_args``, and ``nested: true`` to keep list and struct
    columns as arrays and sub-documents. The gold contract's tables
    (:func:`medallion_kedro.schemas.export_collections`: every gold table under its business
    key, with the indexes the API reads through) are always known; ``collections`` adds or
    overrides entries. Every table saved must be known. After a save, ``published_run_id``
    is the export run it published (the manifest's ``run_id``); the manifest's
    ``pipeline_run_id`` is the batch's, else ``$MEDALLION_RUN_ID``.
    ``save_args``: ``batch_size``, ``writers``, ``transactions``, ``lease_seconds`` (a
    run whose heartbeat stops for that long is dead and its collections may be dropped)
    and ``grace_seconds`` (how long a superseded run stays readable before cleanup).

    ``skip_unchanged: true`` publishes only when the batch's tables differ from what the
    database publishes now: when every table of the batch's ``sources`` has the rows and
    fingerprint the current manifest records (and the manifest's collections still exist),
    the save writes no collection and no new manifest and logs one line naming the export
    run it keeps. That manifest's ``sources`` and ``lake_version`` are brought to the
    batch's (the lake versions the same content now comes from, so readers comparing the
    served gold run with the lake's see the same); ``confirmed`` keeps when, by which
    ``kedro run``, and the lake version the collections were first written from. The
    comparison is with the committed manifest, so an export that failed or was killed is
    published by the next save. A batch without ``sources`` (a plain mapping) is always
    published, and so is every save with ``force: true`` (the catalog sets it from
    ``--params force_export=true``). After a skipped save ``published_run_id`` is ``None``
    and ``kept_run_id`` the export run that stays current.

    A batch's ``lake`` (the id stored in the lake it comes from) is recorded in the
    manifest. When the database publishes a manifest of another lake, the save stops
    before writing anything with an error naming both lakes, unless
    ``replace_other_lake: true`` (the catalog sets it from
    ``--params replace_other_lake=true``).

    Example catalog entry (``conf/base/catalog_export.yml``)::

        mongo.gold:
          type: medallion_kedro.datasets.MongoExportDataset
          database: ${oc.env:MONGO_DB,medallion}
          credentials: mongo    # collections: those of the gold contract

    Example (with a server on 127.0.0.1:27017, e.g. ``medallion-mongo start``)::

        >>> import polars as pl
        >>> from medallion_kedro.datasets import MongoExportDataset
        >>> ds = MongoExportDataset(
        ...     database="demo", credentials={"uri": "mongodb://127.0.0.1:27017"},
        ...     collections={"cities": {"key": "city"}},
        ... )
        >>> ds.save({"cities": pl.DataFrame({"city": ["Lyon"], "population": [522_000]})})
        >>> ds.load()["cities"]
           city  population
        0  Lyon      522000
    """

    DEFAULT_SAVE_ARGS: dict[str, Any] = {
        "batch_size": 5_000,
        "writers": 2,
        "transactions": "auto",
        "lease_seconds": 60.0,
        "grace_seconds": 60.0,
        "skip_unchanged": False,
        "force": False,
        mm.REPLACE_PARAMETER: False,
    }

    def __init__(
        self,
        *,
        database: str,
        collections: Mapping[str, Mapping[str, Any]] | None = None,
        credentials: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._uri, self._client_args = mc.split_credentials(
            credentials, f"MongoExportDataset {database}"
        )
        self._database = database
        merged = {**export_collections(), **(collections or {})}
        self._collections = {t: dict(spec or {}) for t, spec in merged.items()}
        self._save_args = {**copy.deepcopy(self.DEFAULT_SAVE_ARGS), **(save_args or {})}
        self.metadata = metadata
        #: The export run the last successful save published (``None`` before).
        self.published_run_id: str | None = None
        #: The export run a skipped save left current (``None`` after a publishing save).
        self.kept_run_id: str | None = None

    def _db(self) -> Any:
        return mc.get_client(self._uri, self._client_args)[self._database]

    def _driver_errors(self, action: str) -> AbstractContextManager[None]:
        return mc.driver_errors(self._uri, action)

    def _describe(self) -> dict[str, Any]:
        return {
            "database": self._database,
            "collections": sorted(self._collections),
            "save_args": self._save_args,
        }

    def _plans(self, tables: Mapping[str, Frame]) -> dict[str, mm.TablePlan]:
        unknown = sorted(set(tables) - set(self._collections))
        if unknown:
            raise DatasetError(
                f"Export to {self._database}: tables {unknown} have no entry in `collections` "
                f"(known: {sorted(self._collections)}). Nothing was written."
            )
        plans = {}
        for table, data in tables.items():
            spec = self._collections[table]
            frame = bson_ready(
                as_polars(data),
                spec.get("key"),
                spec.get("fixed_id"),
                nested=bool(spec.get("nested", False)),
            )
            indexes = mw.index_specs(
                f"{self._database}.{table}", spec.get("indexes"), frame.columns
            )
            plans[table] = mm.TablePlan(frame, indexes)
        return plans

    def save(self, data: ExportBatch | Mapping[str, Frame]) -> None:
        batch = data if isinstance(data, ExportBatch) else ExportBatch(tables=data)
        plans = self._plans(batch.tables)  # every table checked before anything is written
        args = self._save_args
        self.published_run_id = self.kept_run_id = None
        replace = _flag(args[mm.REPLACE_PARAMETER])
        if batch.lake is not None and not replace:
            with self._driver_errors(f"reading the export manifest of {self._database}"):
                manifest = mm.read_manifest(self._db())
            mm.check_owner(manifest, batch.lake, self._database, replace)
        if _flag(args["skip_unchanged"]) and not _flag(args["force"]) and batch.sources:
            with self._driver_errors(f"reading the export manifest of {self._database}"):
                kept = self._keep_if_unchanged(batch)
            if kept is not None:
                self.kept_run_id = kept
                return
        options = mm.PublishOptions(
            batch_size=int(args["batch_size"]),
            writers=int(args["writers"]),
            transactions=args["transactions"],
            lease_seconds=float(args["lease_seconds"]),
            grace_seconds=float(args["grace_seconds"]),
            replace_other_lake=replace,
        )
        meta = {
            "lake": dict(batch.lake) if batch.lake is not None else None,
            "sources": dict(batch.sources),
            "lake_version": batch.lake_version,
            # the Kedro run saving this (set by the run-record hook), unless the node said
            "pipeline_run_id": batch.pipeline_run_id or os.environ.get(RUN_ID_VARIABLE),
        }
        with self._driver_errors(f"exporting {sorted(plans)} to {self._database}"):
            manifest = mm.Publisher(self._db(), self._uri, options).publish(plans, meta)
        self.published_run_id = str(manifest["run_id"])

    def _keep_if_unchanged(self, batch: ExportBatch) -> str | None:
        """The current export run when it publishes the batch's tables as they are (then
        noted in its manifest and logged in one line); ``None`` when the batch must be
        published."""
        db = self._db()
        manifest = mm.read_manifest(db)
        if manifest is None or not publishes(manifest, batch.sources, batch.tables):
            return None
        names = {str(c["name"]) for c in manifest["collections"].values()}
        if not names <= set(db.list_collection_names()):
            return None  # a published collection is gone: publish again
        run_id = str(manifest["run_id"])
        confirmed = manifest.get("confirmed") or {}
        update = {
            # the same content, now known to come from these lake versions too
            "sources": {t: dict(facts) for t, facts in batch.sources.items()},
            "lake_version": batch.lake_version,
            "confirmed": {
                "at": datetime.now(UTC).isoformat(),
                "pipeline_run_id": batch.pipeline_run_id or os.environ.get(RUN_ID_VARIABLE),
                "exported_from": confirmed.get("exported_from", manifest.get("lake_version")),
            },
        }
        kept = db[mm.MANIFEST].update_one(
            {"_id": manifest["_id"], "run_id": run_id}, {"$set": update}
        )
        if kept.matched_count != 1:
            return None  # another export was published meanwhile: publish this one
        log.info(
            "Export skipped: the gold tables are unchanged since export run %s (exported %s); "
            "MongoDB %s keeps that manifest. Run with --params force_export=true to publish "
            "anyway.",
            run_id,
            manifest.get("exported_at"),
            self._database,
        )
        return run_id

    def refresh(self, run_id: str, tables: Mapping[str, Frame]) -> bool:
        """Bring ``tables`` of export run ``run_id`` to these frames, if that run is served.

        For the collections that describe the runs rather than hold gold (the run history
        and data quality): the ``kedro run`` that exported finishes after its save, and its
        final state replaces the documents published while it ran. Documents are replaced
        by ``_id`` and those no longer in a frame are removed; the manifest's ``documents``
        and ``checksum`` of each collection are updated. Returns ``False`` (and writes
        nothing) when the manifest no longer names ``run_id``.
        """
        plans = self._plans(tables)
        with self._driver_errors(f"refreshing {sorted(plans)} of export run {run_id}"):
            db = self._db()
            manifest = mm.read_manifest(db)
            if manifest is None or manifest["run_id"] != run_id:
                return False
            missing = sorted(set(plans) - set(manifest["collections"]))
            if missing:
                raise DatasetError(
                    f"Export run {run_id} in {self._database} has no collections {missing}: "
                    "only the collections it published can be refreshed."
                )
            update: dict[str, Any] = {}
            for table, plan in plans.items():
                target = db[manifest["collections"][table]["name"]]
                docs = plan.frame.to_dicts()
                for doc in docs:
                    target.replace_one({"_id": doc["_id"]}, doc, upsert=True)
                target.delete_many({"_id": {"$nin": [doc["_id"] for doc in docs]}})
                update[f"collections.{table}.documents"] = target.count_documents({})
                update[f"collections.{table}.checksum"] = mw.collection_checksum(target)
            db[mm.MANIFEST].update_one({"_id": manifest["_id"], "run_id": run_id}, {"$set": update})
        return True

    def current_manifest(self) -> dict[str, Any] | None:
        """The manifest readers use now (``None`` when nothing was exported yet)."""
        with self._driver_errors(f"reading the export manifest of {self._database}"):
            return mm.read_manifest(self._db())

    def load(self) -> dict[str, Any]:
        with self._driver_errors(f"reading the export manifest of {self._database}"):
            db = self._db()
            live = mm.live_collections(db)
            if not live:
                raise DatasetError(
                    f"No export manifest in MongoDB database {self._database}: nothing was "
                    "exported yet. Run `kedro run --pipelines export`."
                )
            return {
                table: to_pandas(list(db[name].find({}, {"_id": 0})))
                for table, name in live.items()
            }

    def _exists(self) -> bool:
        return self.current_manifest() is not None


#: The facts of a source table that say its content is the same (``source_facts``).
_CONTENT = ("rows", "fingerprint")


def publishes(
    manifest: Mapping[str, Any], sources: Mapping[str, Any], tables: Mapping[str, Any]
) -> bool:
    """Whether ``manifest`` already publishes these tables with this content: the same
    source tables with the same rows and fingerprint, and a collection for every table."""
    published = manifest.get("sources") or {}
    if manifest.get("format") != mm.FORMAT or set(published) != set(sources):
        return False
    if not set(tables) <= set(manifest.get("collections") or {}):
        return False
    return all(
        isinstance(published[t], Mapping)
        and all(published[t].get(k) == facts.get(k) for k in _CONTENT)
        for t, facts in sources.items()
    )


def _flag(value: Any) -> bool:
    """A catalog flag: a bool, or its text (``${runtime_params:...}`` may give either)."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)
