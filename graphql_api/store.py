"""Every MongoDB read of the API, on one ``AsyncDatabase`` shared by the process.

Resolvers never build Mongo queries themselves: they pass typed values (strings, numbers,
:class:`CustomerCriteria`, :class:`~graphql_api.cursors.CursorKey`) and this module turns
them into filters, so no client value can ever become a Mongo operator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from graphql_api.cache import TTLCache
from graphql_api.cursors import CursorKey
from graphql_api.errors import ClientFacingError, DataNotExported
from graphql_api.guard import guarded
from graphql_api.manifest import Manifest
from graphql_api.settings import Settings
from medallion_kedro.export_manifest import EXPORT_HINT
from medallion_kedro.schemas import export_collections

Document = dict[str, Any]

KPIS, COUNTRIES, PRODUCTS, MONTHS, CUSTOMERS, SEGMENTS = (
    "kpis",
    "revenue_by_country",
    "revenue_by_product",
    "monthly_revenue",
    "customer_metrics",
    "segments",
)
#: ``_id`` of the one KPI document, as the export writes it.
KPIS_ID = export_collections()[KPIS]["fixed_id"]
RUNS, QUALITY = "runs", "data_quality"
#: Documents kept per export run by the document cache (customers read by id).
DOCUMENT_CACHE_SIZE = 100_000
#: Tie-breaker of every customer ordering. ``customer_id`` equals ``_id``, but nx-27017
#: sorts integer ``_id`` values as text, so the field is used for ordering and keysets.
CUSTOMER_KEY = "customer_id"


@dataclass(frozen=True)
class CustomerOrdering:
    """A customer ordering: an optional sort field, then ``customer_id`` as tie-breaker."""

    field: str | None
    direction: int
    key_direction: int

    @property
    def sort(self) -> list[tuple[str, int]]:
        head = [(self.field, self.direction)] if self.field else []
        return [*head, (CUSTOMER_KEY, self.key_direction)]

    def reversed(self) -> CustomerOrdering:
        """The same ordering read from the other end (for ``last``/``before`` pages)."""
        return CustomerOrdering(self.field, -self.direction, -self.key_direction)


#: Customer sort fields read largest first in their usual direction (the others: A to Z).
LARGEST_FIRST = frozenset({"total_spent"})


def customer_ordering(field: str | None, direction: int) -> CustomerOrdering:
    """Customers on ``field`` (None: the customer id alone) in ``direction`` (1 or -1).

    Ties go by ``customer_id`` ascending when ``field`` is read in its usual direction, and
    descending otherwise: each direction is the exact reverse of the other, so a page read
    backwards sees the same sequence.
    """
    usual = -1 if field in LARGEST_FIRST else 1
    return CustomerOrdering(field, direction, direction * usual)


def _satisfies(condition: Any, value: Any) -> bool:
    """Whether ``value`` meets a condition of :meth:`CustomerCriteria.to_mongo`."""
    if condition is None:
        return True
    if not isinstance(condition, dict):
        return bool(condition == value)
    checks = {
        "$gte": lambda b: value >= b,
        "$gt": lambda b: value > b,
        "$lte": lambda b: value <= b,
        "$lt": lambda b: value < b,
    }
    return all(checks[op](bound) for op, bound in condition.items())


def _tighten(condition: Any, op: str, value: Any) -> Document:
    """``condition`` (a range or None) with the bound ``op value`` added, keeping the tighter."""
    bounds: Document = dict(condition or {})
    if op in bounds:
        bounds[op] = min(bounds[op], value) if op == "$lt" else max(bounds[op], value)
    else:
        bounds[op] = value
    return bounds


@dataclass(frozen=True)
class CustomerCriteria:
    """Validated customer filter values; each maps to an indexed or bounded condition."""

    country: str | None = None
    segment: str | None = None
    min_total_spent: float | None = None
    email: str | None = None
    name_prefix: str | None = None

    def to_mongo(self) -> Document:
        query: Document = {}
        if self.country is not None:
            query["country"] = self.country
        if self.segment is not None:
            query["segment"] = self.segment
        if self.min_total_spent is not None:
            query["total_spent"] = {"$gte": self.min_total_spent}
        if self.email is not None:
            query["email"] = self.email  # exact match on the unique index
        if self.name_prefix is not None:  # a range, not a $regex
            query["name"] = {"$gte": self.name_prefix, "$lt": self.name_prefix + "\U0010ffff"}
        return query


def create_client(settings: Settings, **kwargs: Any) -> AsyncMongoClient[Document]:
    """The process's one client; it connects lazily, so creating it needs no server.

    Every operation is bounded (``timeoutMS`` covers server selection, the wait for a
    pooled connection and the round trip); connecting and the wait queue have their own
    bounds too, so no call can wait for ever on a stalled server.
    """
    timeout = settings.mongo_timeout_ms
    return AsyncMongoClient(
        settings.mongo_uri,
        timeoutMS=timeout,
        serverSelectionTimeoutMS=timeout,
        connectTimeoutMS=timeout,
        waitQueueTimeoutMS=timeout,
        maxPoolSize=settings.mongo_pool_size,
        appname="medallion-api",
        **kwargs,
    )


class RunDocuments:
    """Documents read by ``_id``, kept for one export run at a time.

    A published run's collections are never written again, so a document read once is
    valid for as long as that run is served: no expiry, only the run id. The first read
    for another run id empties it (old and new runs never share an entry); it holds at
    most ``size`` documents (then it is emptied and refilled: a bound, not an LRU).
    """

    def __init__(self, size: int = DOCUMENT_CACHE_SIZE) -> None:
        self.size = size
        self.run_id = ""
        self._docs: dict[tuple[str, Any], Document | None] = {}

    def lookup(
        self, run_id: str, collection: str, ids: Sequence[Any]
    ) -> dict[Any, Document | None]:
        if run_id != self.run_id:
            return {}
        docs = self._docs
        return {i: docs[(collection, i)] for i in ids if (collection, i) in docs}

    def keep(self, run_id: str, collection: str, found: Mapping[Any, Document | None]) -> None:
        if run_id != self.run_id or len(self._docs) + len(found) > self.size:
            self._docs = {}
            self.run_id = run_id
        for key, doc in found.items():
            self._docs[(collection, key)] = doc


class GoldStore:
    """Reads of the gold collections of one export run, with a per-run cache for hot marts.

    A store built on a database alone reads the collections by their table names (tests
    that seed plain collections). :meth:`bind` gives the store of one manifest: every read
    goes to that run's collections, and cached values are keyed by its run id.
    """

    def __init__(
        self,
        db: AsyncDatabase[Document],
        cache_ttl: float = 0.0,
        *,
        collections: Mapping[str, str] | None = None,
        run_id: str = "",
        failure: ClientFacingError | None = None,
        cache: TTLCache[Any] | None = None,
        manifest: Manifest | None = None,
        documents: RunDocuments | None = None,
    ) -> None:
        self.db = db
        self.collections = collections
        self.run_id = run_id
        #: The export run this store reads (``None`` when built on plain collections).
        self.manifest = manifest
        self.failure = failure
        self._cache: TTLCache[Any] = cache if cache is not None else TTLCache(cache_ttl)
        self._documents = documents if documents is not None else RunDocuments()

    def bind(self, manifest: Manifest) -> GoldStore:
        """This store reading the collections of ``manifest``'s run (cache shared)."""
        return GoldStore(
            self.db,
            collections=manifest.collections,
            run_id=manifest.run_id,
            cache=self._cache,
            manifest=manifest,
            documents=self._documents,
        )

    def failing(self, failure: ClientFacingError) -> GoldStore:
        """A store whose every read raises ``failure`` (no manifest, or it was unreadable)."""
        return GoldStore(self.db, failure=failure, cache=self._cache)

    def _col(self, table: str) -> AsyncCollection[Document]:
        if self.failure is not None:
            raise self.failure
        if self.collections is None:
            return self.db[table]
        name = self.collections.get(table)
        if name is None:
            raise DataNotExported(
                f"The live export (run {self.run_id}) has no {table} collection; {EXPORT_HINT}."
            )
        return self.db[name]

    async def ping(self) -> None:
        await guarded(self.db.command("ping"))

    async def _find(
        self, collection: str, query: Document, sort: Sequence[tuple[str, int]], limit: int = 0
    ) -> list[Document]:
        cursor = self._col(collection).find(query)
        if sort:
            cursor = cursor.sort(list(sort))
        if limit:
            cursor = cursor.limit(limit)
        return await guarded(cursor.to_list())

    async def kpis(self) -> Document | None:
        async def load() -> Document | None:
            return await guarded(self._col(KPIS).find_one({"_id": KPIS_ID}))

        result: Document | None = await self._cache.get(f"{self.run_id}:{KPIS}", load)
        return result

    async def revenue(
        self, collection: str, key: str, sort_field: str | None, direction: int, limit: int | None
    ) -> list[Document]:
        """A revenue mart sorted on ``sort_field`` (None: its ``key``), ties by name ascending."""
        sort = [(key, direction)] if sort_field is None else [(sort_field, direction), (key, 1)]
        return await self._find(collection, {}, sort, limit or 0)

    async def months(self, first: str | None, last: str | None) -> list[Document]:
        bounds: Document = {}
        if first is not None:
            bounds["$gte"] = first
        if last is not None:
            bounds["$lte"] = last
        return await self._find(MONTHS, {"month": bounds} if bounds else {}, [("month", 1)])

    async def by_ids(self, collection: str, ids: Sequence[Any]) -> list[Document | None]:
        """Documents by ``_id`` in order of ``ids`` (None if absent), at most one round trip.

        In a store bound to an export run, documents (and absences) already read for that
        run come from :class:`RunDocuments`; only the others are asked for, in one query.
        """
        self._col(collection)  # without a live run this fails before any cache
        run_id = self.run_id if self.collections is not None else ""
        known = self._documents.lookup(run_id, collection, ids) if run_id else {}
        missing = [i for i in ids if i not in known]
        if missing:
            docs = await self._find(collection, {"_id": {"$in": missing}}, [])
            fetched: dict[Any, Document | None] = dict.fromkeys(missing)
            fetched.update((doc["_id"], doc) for doc in docs)
            if run_id:
                self._documents.keep(run_id, collection, fetched)
            known = {**known, **fetched}
        return [known.get(i) for i in ids]

    async def history(self, collection: str, last: int) -> list[Document]:
        """The ``last`` newest documents of a run-history collection, cached per run."""

        async def load() -> list[Document]:
            return await self._find(collection, {}, [("started_at", -1), ("_id", -1)], last)

        result: list[Document] = await self._cache.get(f"{self.run_id}:{collection}:{last}", load)
        return result

    async def customer_page(
        self,
        criteria: CustomerCriteria,
        ordering: CustomerOrdering,
        first: int,
        after: CursorKey | None,
        *,
        reverse: bool = False,
    ) -> tuple[list[Document], bool]:
        """Up to ``first`` customers after ``after``, and whether more follow.

        With ``reverse`` the ordering is read from its other end: the customers *before*
        ``after``, nearest first (the caller flips them back for ``last``/``before``).
        The keyset condition "(value, id) after the cursor" is written as two simple
        queries (the rest of the tie group, then strictly further values) instead of one
        ``$or``, which nx-27017 can only answer by scanning the collection.
        """
        if reverse:
            ordering = ordering.reversed()
        base = criteria.to_mongo()
        want = first + 1
        if after is None:
            docs = await self._find(CUSTOMERS, base, ordering.sort, want)
            return docs[:first], len(docs) > first
        key_op = "$gt" if ordering.key_direction == 1 else "$lt"
        if ordering.field is None or after.value is None:
            query = {**base, CUSTOMER_KEY: {key_op: after.customer_id}}
            docs = await self._find(CUSTOMERS, query, ordering.sort, want)
            return docs[:first], len(docs) > first
        field, value = ordering.field, after.value
        docs = []
        if _satisfies(base.get(field), value):
            ties = {**base, field: value, CUSTOMER_KEY: {key_op: after.customer_id}}
            docs = await self._find(CUSTOMERS, ties, [(CUSTOMER_KEY, ordering.key_direction)], want)
        if len(docs) < want:
            value_op = "$lt" if ordering.direction == -1 else "$gt"
            bounds = _tighten(base.get(field), value_op, value)
            docs += await self._find(
                CUSTOMERS, {**base, field: bounds}, ordering.sort, want - len(docs)
            )
        return docs[:first], len(docs) > first

    async def count_customers(self, criteria: CustomerCriteria) -> int:
        query = criteria.to_mongo()
        collection = self._col(CUSTOMERS)
        if not query:
            return await guarded(collection.estimated_document_count())

        async def counted() -> list[Document]:
            # $count in a pipeline uses the indexes; count_documents scans on nx-27017.
            pipeline: list[Document] = [{"$match": query}, {"$count": "n"}]
            return await (await collection.aggregate(pipeline)).to_list()

        rows = await guarded(counted())
        return int(rows[0]["n"]) if rows else 0

    async def top_customers(self, country: str, first: int) -> list[Document]:
        sort = customer_ordering("total_spent", -1).sort
        return await self._find(CUSTOMERS, {"country": country}, sort, first)

    async def segments(self) -> list[Document]:
        """The gold segment table, biggest total spent first (cached per run)."""

        async def load() -> list[Document]:
            return await self._find(SEGMENTS, {}, [("total_spent", -1), ("segment", 1)])

        result: list[Document] = await self._cache.get(f"{self.run_id}:{SEGMENTS}", load)
        return result
