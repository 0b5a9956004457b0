"""Writing one frame into one MongoDB collection: index specs, batched inserts, checksum.

Shared by ``MongoDBDataset`` (one collection) and the export writer (a whole run).
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import bson
import polars as pl
from kedro.io.core import DatasetError
from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, OperationFailure

from medallion_kedro.datasets import _mongo_client as mc
from medallion_kedro.datasets._mongo_convert import batches

logger = logging.getLogger(__name__)

Document = dict[str, Any]
#: Index keys ``[(field, direction), ...]`` and ``create_index`` options (``unique``, ``name``...).
IndexSpec = tuple[list[tuple[str, Any]], dict[str, Any]]
#: Whether the server at a host list runs transactions (probed once per process).
_TRANSACTIONS: dict[str, bool] = {}
_MASK = (1 << 64) - 1
_DUPLICATE_KEY = 11000


def index_specs(where: str, indexes: list[Any] | None, columns: list[str]) -> list[IndexSpec]:
    """``save_args.indexes`` entries as ``create_index`` arguments, checked against ``columns``."""
    specs: list[IndexSpec] = []
    for spec in indexes or []:
        spec = {"keys": spec} if isinstance(spec, str | list) else dict(spec)
        keys = spec.pop("keys", None)
        if isinstance(keys, str):
            keys = [(keys, ASCENDING)]
        elif isinstance(keys, dict):
            keys = list(keys.items())
        if not keys or not all(isinstance(k, list | tuple) and len(k) == 2 for k in keys):
            raise DatasetError(
                f"{where}: save_args.indexes entry {spec} needs `keys`, e.g. "
                "{keys: {country: 1}, unique: true}."
            )
        missing = [k[0] for k in keys if k[0] not in columns]
        if missing:
            raise DatasetError(
                f"{where}: index on {missing} but the table has no such column "
                f"(columns: {columns}). Fix save_args.indexes. Nothing was written."
            )
        specs.append(([(str(f), d) for f, d in keys], spec))
    return specs


def document_checksum(docs: Any) -> int:
    """Order-independent checksum of documents: sum of 64-bit BLAKE2b of each BSON encoding.

    The same documents read back from the server (in any order) give the same value, so a
    reader can check a collection against the manifest (:func:`collection_checksum`).
    """
    total = 0
    for doc in docs:
        digest = hashlib.blake2b(bson.encode(doc), digest_size=8).digest()
        total = (total + int.from_bytes(digest, "big")) & _MASK
    return total


def format_checksum(value: int) -> str:
    return f"blake2b64-sum:{value:016x}"


def collection_checksum(collection: Collection[Document]) -> str:
    """The checksum of what ``collection`` holds now, as the manifest writes it."""
    return format_checksum(document_checksum(collection.find({}, batch_size=10_000)))


def uses_transactions(target: Collection[Document], setting: Any, uri: str) -> bool:
    """``transactions`` save arg resolved: ``auto`` probes the server once per process."""
    if setting != "auto":
        return bool(setting)
    key = mc.hosts_of(uri)
    if key not in _TRANSACTIONS:
        try:
            insert_batch(target, [], transactions=True)
            _TRANSACTIONS[key] = True
        except OperationFailure as exc:
            logger.debug("No transactions on %s (%s): plain inserts", key, exc)
            _TRANSACTIONS[key] = False
    return _TRANSACTIONS[key]


def insert_batch(target: Collection[Document], docs: list[Document], transactions: bool) -> None:
    if not transactions:
        target.insert_many(docs, ordered=False)
        return
    with target.database.client.start_session() as session, session.start_transaction():
        if docs:
            target.insert_many(docs, ordered=False, session=session)
        else:  # a probe: does the server run transactions at all?
            target.find_one({}, session=session)


def insert_batch_retrying(
    target: Collection[Document], docs: list[Document], transactions: bool, attempts: int = 4
) -> None:
    """``insert_batch``; a batch whose transaction the server aborted is sent again.

    nx-27017 runs the transactions of all clients on one SQLite connection, so a concurrent
    writer can abort ours ("no such savepoint"), and part of the batch may have landed all
    the same. The batch is then re-sent as plain unordered inserts where a duplicate key is
    a document of this very batch already written (the collection is written by this save
    alone and ``_id`` is unique in the frame), so it is skipped; any other error is raised.
    The caller's count check stays the last word.
    """
    try:
        insert_batch(target, docs, transactions)
        return
    except OperationFailure as exc:
        if not transactions or isinstance(exc, BulkWriteError) or exc.code == _DUPLICATE_KEY:
            raise
        logger.info("Re-sending a batch of %s after an aborted transaction: %s", target.name, exc)
    for attempt in range(attempts):
        time.sleep(0.05 * 2**attempt + random.random() * 0.05)  # noqa: S311 - jitter
        try:
            target.insert_many(docs, ordered=False)
            return
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if errors and all(e.get("code") == _DUPLICATE_KEY for e in errors):
                return
            raise
        except OperationFailure:
            if attempt == attempts - 1:
                raise


def insert_frame(
    target: Collection[Document],
    frame: pl.DataFrame,
    *,
    batch_size: int,
    writers: int,
    transactions: bool,
) -> int:
    """Insert the rows in batches while the next batch is being built; return the checksum.

    With ``writers`` > 1 that many batches are in flight; with ``transactions`` each
    batch is one transaction (one commit instead of one per document on servers that
    commit every insert, such as nx-27017; one batch at a time, since concurrent
    transactions there share one SQLite connection).
    """
    writers = 1 if transactions else max(1, writers)
    pool = ThreadPoolExecutor(writers, thread_name_prefix=f"mongo-{target.name}")
    in_flight: deque[Future[None]] = deque()
    checksum = 0
    try:
        for docs in batches(frame, batch_size):
            checksum = (checksum + document_checksum(docs)) & _MASK
            if len(in_flight) >= writers:
                in_flight.popleft().result()
            in_flight.append(pool.submit(insert_batch_retrying, target, docs, transactions))
        while in_flight:
            in_flight.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return checksum
