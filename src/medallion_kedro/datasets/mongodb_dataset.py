"""``MongoDBDataset``: a DataFrame stored as one MongoDB collection, replaced safely on save."""

from __future__ import annotations

import copy
import logging
import time
import uuid
from contextlib import AbstractContextManager
from typing import Any

import pandas as pd
import polars as pl
from kedro.io.core import AbstractDataset
from kedro_datasets._typing import TablePreview
from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import OperationFailure

from medallion_kedro.datasets import _mongo_client as mc
from medallion_kedro.datasets import _mongo_write as mw
from medallion_kedro.datasets._mongo_convert import ID, as_polars, bson_ready, to_pandas
from medallion_kedro.datasets._mongo_write import IndexSpec
from medallion_kedro.datasets._preview import table_preview

logger = logging.getLogger(__name__)

Document = dict[str, Any]


class MongoDBDataset(AbstractDataset[pd.DataFrame | pl.DataFrame | pl.LazyFrame, pd.DataFrame]):
    """A table stored as one MongoDB collection: load to pandas, save pandas or polars.

    ``save()`` never leaves readers with a half-written collection: it writes the rows to
    a fresh ``<collection>__staging_<token>`` in batches, builds the indexes declared in
    ``save_args.indexes`` there, then swaps it into place with
    ``renameCollection(dropTarget=True)``, which is atomic on MongoDB. Servers that refuse
    that (nx-27017) get a drop of the live collection followed by the rename, and a
    warning says the swap was not atomic (should the process die between the two, the
    collection is missing until the next save). A failure before the swap leaves the previous
    collection as it was; a staging collection left by a failed run is dropped by the
    next save, so re-running is idempotent. (The staging name is new on every save
    because nx-27017 keeps serving a renamed collection under its old name.) One writer
    per collection at a time: a save drops other saves' staging collections.

    Each document carries its business key in ``_id`` (``save_args.key``, a column that
    is also kept as a normal field) or, for a one-row table, ``save_args.fixed_id``.
    Dates become BSON dates (midnight), decimals and floats doubles, ints stay ints and
    nulls stay nulls; nested, binary, time and duration columns are refused before
    anything is written. ``load()`` leaves ``_id`` out unless ``load_args.include_id``;
    a column whose values are all null has no type in BSON, so ``load_args.dtypes``
    (column -> pandas dtype) can state it. Rows come in the server's natural order
    (the saved order with one writer); set ``load_args.sort`` when order matters.

    ``save_args``: ``key`` or ``fixed_id``, ``indexes`` (``{keys: {field: 1 | -1}, unique:
    true, name: ...}`` or a field name), ``batch_size`` (documents per ``insert_many``,
    default 5000), ``transactions`` (``auto``: one transaction per batch where the server
    has them, i.e. nx-27017 or a replica set, else plain inserts; ``true``/``false``) and
    ``writers`` (batches in flight without transactions, default 2). The next batch is
    built while the previous one is written.

    Clients are created on first use and shared by every dataset with the same URI, so
    building a catalog opens no socket. Timeouts default to 5 s for server selection and
    connection (60 s per operation) unless the URI sets them; every driver error becomes
    a ``DatasetError`` that names the host and says what to check.

    The export pipeline publishes the gold tables with ``MongoExportDataset`` (all tables
    as one run, switched by a manifest); this class serves a plain single collection.

    Example catalog entries (the factory is in ``conf/base/catalog_export.yml``)::

        "mongo.{collection}":
          type: medallion_kedro.datasets.MongoDBDataset
          database: ${oc.env:MONGO_DB,medallion}
          collection: "{collection}"
          credentials: mongo

        mongo.customer_metrics:
          type: medallion_kedro.datasets.MongoDBDataset
          database: ${oc.env:MONGO_DB,medallion}
          collection: customer_metrics
          credentials: mongo
          load_args:
            filter: {segment: champions}
            projection: {customer_id: 1, total_spent: 1}
            sort: [[total_spent, -1]]
            limit: 100
          save_args:
            key: customer_id
            indexes:
              - {keys: {customer_id: 1}, unique: true}
              - {keys: {segment: 1, total_spent: -1}}

    Credentials entry (``conf/base/credentials.yml``; a real password goes in
    ``conf/local/credentials.yml`` or the environment)::

        mongo:
          uri: ${oc.env:MONGO_URI,mongodb://127.0.0.1:27017}
          # e.g. mongodb://user:pass@host:27017/?authSource=admin

    Example (with a server on 127.0.0.1:27017, e.g. ``medallion-mongo start``)::

        >>> import polars as pl
        >>> from medallion_kedro.datasets import MongoDBDataset
        >>> ds = MongoDBDataset(
        ...     database="demo", collection="cities",
        ...     credentials={"uri": "mongodb://127.0.0.1:27017"},
        ...     save_args={"key": "city", "indexes": [{"keys": {"city": 1}, "unique": True}]},
        ... )
        >>> ds.save(pl.DataFrame({"city": ["Lyon", "Porto"], "population": [522_000, 232_000]}))
        >>> ds.load()
            city  population
        0   Lyon      522000
        1  Porto      232000
    """

    DEFAULT_LOAD_ARGS: dict[str, Any] = {
        "filter": None,
        "projection": None,
        "sort": None,
        "limit": 0,
        "batch_size": 10_000,
        "include_id": False,
        "dtypes": None,
    }
    DEFAULT_SAVE_ARGS: dict[str, Any] = {
        "key": None,
        "fixed_id": None,
        "indexes": [],
        "batch_size": 5_000,
        "writers": 2,
        "transactions": "auto",
        "staging_suffix": "__staging",
    }

    def __init__(
        self,
        *,
        database: str,
        collection: str,
        credentials: dict[str, Any] | None = None,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        # any option besides the uri is a MongoClient option (tls, timeouts, ...)
        self._uri, self._client_args = mc.split_credentials(
            credentials, f"MongoDBDataset {database}.{collection}"
        )
        self._database = database
        self._collection = collection
        self._load_args = {**copy.deepcopy(self.DEFAULT_LOAD_ARGS), **(load_args or {})}
        self._save_args = {**copy.deepcopy(self.DEFAULT_SAVE_ARGS), **(save_args or {})}
        self.metadata = metadata

    # -- plumbing -------------------------------------------------------------------------

    def _db(self) -> Database[Document]:
        return mc.get_client(self._uri, self._client_args)[self._database]

    def _driver_errors(self, action: str) -> AbstractContextManager[None]:
        return mc.driver_errors(self._uri, action)

    @property
    def _name(self) -> str:
        return f"{self._database}.{self._collection}"

    def _describe(self) -> dict[str, Any]:
        return {
            "database": self._database,
            "collection": self._collection,
            "load_args": self._load_args,
            "save_args": self._save_args,
        }

    # -- load -----------------------------------------------------------------------------

    def _find_args(self, limit: int | None = None) -> dict[str, Any]:
        args = self._load_args
        projection = args["projection"]
        if isinstance(projection, list | tuple):
            projection = dict.fromkeys(projection, 1)
        if not args["include_id"] and ID not in (projection or {}):
            projection = {**(projection or {}), ID: 0}
        sort = args["sort"]
        if isinstance(sort, dict):
            sort = list(sort.items())
        elif isinstance(sort, str):
            sort = [(sort, ASCENDING)]
        return {
            "filter": args["filter"] or {},
            "projection": projection,
            "sort": [tuple(s) for s in sort] if sort else None,
            "limit": args["limit"] if limit is None else limit,
            "batch_size": args["batch_size"],
        }

    def _find(self, limit: int | None = None) -> list[Document]:
        with self._driver_errors(f"reading {self._name}"):
            return list(self._db()[self._collection].find(**self._find_args(limit)))

    def load(self) -> pd.DataFrame:
        return to_pandas(self._find(), self._load_args["dtypes"])

    def _exists(self) -> bool:
        with self._driver_errors(f"checking whether {self._name} exists"):
            return self._collection in self._db().list_collection_names()

    def preview(self, nrows: int = 10) -> TablePreview:
        """The first ``nrows`` documents as a table for Kedro-Viz."""
        return table_preview(pl.from_dicts(self._find(limit=nrows), infer_schema_length=None))

    # -- save -----------------------------------------------------------------------------

    def _index_specs(self, columns: list[str]) -> list[IndexSpec]:
        return mw.index_specs(self._name, self._save_args["indexes"], columns)

    def save(self, data: pd.DataFrame | pl.DataFrame | pl.LazyFrame) -> None:
        started = time.perf_counter()
        args = self._save_args
        frame = bson_ready(as_polars(data), args["key"], args["fixed_id"])
        indexes = self._index_specs(frame.columns)
        prefix = f"{self._collection}{args['staging_suffix']}"
        staging = f"{prefix}_{uuid.uuid4().hex[:12]}"
        db = self._db()
        with self._driver_errors(f"dropping leftover staging collections {prefix}_*"):
            self._drop_leftovers(db, prefix)
        try:
            with self._driver_errors(f"writing {self._database}.{staging}"):
                self._write_staging(db, staging, frame, indexes)
        except BaseException:
            self._drop_quietly(db, staging)
            raise
        with self._driver_errors(f"swapping {self._database}.{staging} into {self._name}"):
            self._swap(db, staging)
        elapsed = time.perf_counter() - started
        logger.info(
            "Wrote %d documents to MongoDB %s in %.2f s (%.0f docs/s)",
            frame.height,
            self._name,
            elapsed,
            frame.height / elapsed if elapsed else 0.0,
        )

    def _write_staging(
        self, db: Database[Document], staging: str, frame: pl.DataFrame, indexes: list[IndexSpec]
    ) -> None:
        target: Collection[Document] = db.create_collection(staging)
        self._insert(target, frame)
        for keys, options in indexes:  # one by one: some servers refuse batched createIndexes
            target.create_index(keys, **options)

    def _drop_leftovers(self, db: Database[Document], prefix: str) -> None:
        for name in db.list_collection_names():
            if name.startswith(f"{prefix}_"):
                logger.info("Dropping %s.%s, left by a failed save", self._database, name)
                db.drop_collection(name)

    def _insert(self, target: Collection[Document], frame: pl.DataFrame) -> None:
        """Insert the rows in batches (see ``_mongo_write.insert_frame``)."""
        args = self._save_args
        mw.insert_frame(
            target,
            frame,
            batch_size=int(args["batch_size"]),
            writers=int(args["writers"]),
            transactions=mw.uses_transactions(target, args["transactions"], self._uri),
        )

    def _swap(self, db: Database[Document], staging: str) -> None:
        source, target = f"{db.name}.{staging}", f"{db.name}.{self._collection}"
        admin = db.client.admin
        try:
            admin.command("renameCollection", source, to=target, dropTarget=True)
        except OperationFailure as exc:
            if "already exists" not in str(exc):
                raise
            logger.warning(
                "MongoDB at %s refused renameCollection with dropTarget (%s); dropped %s and "
                "renamed %s into place instead. The swap was not atomic: readers may have "
                "found the collection missing for a moment.",
                mc.hosts_of(self._uri),
                exc.details.get("errmsg") if exc.details else exc,
                target,
                source,
            )
            db.drop_collection(self._collection)
            admin.command("renameCollection", source, to=target)

    def _drop_quietly(self, db: Database[Document], staging: str) -> None:
        try:
            db.drop_collection(staging)
        except Exception:  # noqa: BLE001 - the server may be gone; the next save cleans up
            logger.debug("Could not drop %s.%s after a failed save", self._database, staging)
