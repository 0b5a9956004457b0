"""The export manifest as the API reads it: which run is live, and its collections.

The export pipeline writes each run to run-specific collections and switches readers with
one write of the manifest document. Each request resolves the manifest once (see
``app.GraphQLView.get_context``) and reads every collection of that one run, so a response
never mixes two exports. The manifest itself is cached for ``ttl`` seconds (default 0.5),
so a new export is served within a second of landing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from graphql_api.guard import guarded
from medallion_kedro.export_manifest import MANIFEST, manifest_id

Document = dict[str, Any]


@dataclass(frozen=True)
class Manifest:
    """One committed export run: its id, time and the physical collection of each table."""

    run_id: str
    exported_at: datetime
    collections: Mapping[str, str]
    document: Document

    @classmethod
    def from_document(cls, doc: Document) -> Manifest:
        exported_at = doc["exported_at"]
        if exported_at.tzinfo is None:
            exported_at = exported_at.replace(tzinfo=UTC)
        collections = {table: entry["name"] for table, entry in doc["collections"].items()}
        return cls(str(doc["run_id"]), exported_at, collections, doc)

    def age_seconds(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.exported_at).total_seconds()


class ManifestCache:
    """The current manifest of one database, re-read at most every ``ttl`` seconds."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        ttl: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.ttl = ttl
        self._clock = clock
        self._value: tuple[float, Manifest | None] | None = None
        self._lock = asyncio.Lock()

    async def read(self) -> Manifest | None:
        """The manifest as stored now (no cache); ``None`` if nothing was exported."""
        doc = await guarded(self.db[MANIFEST].find_one({"_id": manifest_id(self.db.name)}))
        return None if doc is None else Manifest.from_document(doc)

    async def current(self) -> Manifest | None:
        hit = self._value
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        async with self._lock:  # concurrent misses read the manifest once
            hit = self._value
            if hit is not None and hit[0] > self._clock():
                return hit[1]
            manifest = await self.read()
            self._value = (self._clock() + self.ttl, manifest)
            return manifest
