"""Per-request DataLoaders: every ``load`` of one tick becomes one ``$in`` query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from graphql_api.store import COUNTRIES, CUSTOMERS, Document, GoldStore


@dataclass(frozen=True)
class Loaders:
    """The request's loaders; their cache dies with the request."""

    customer_by_id: DataLoader[int, Document | None]
    country_by_name: DataLoader[str, Document | None]

    @classmethod
    def create(cls, store: GoldStore) -> Loaders:
        async def customers(ids: Sequence[int]) -> Sequence[Document | None]:
            return await store.by_ids(CUSTOMERS, ids)

        async def countries(names: Sequence[str]) -> Sequence[Document | None]:
            return await store.by_ids(COUNTRIES, names)

        return cls(
            customer_by_id=DataLoader(load_fn=customers, max_batch_size=500),
            country_by_name=DataLoader(load_fn=countries, max_batch_size=500),
        )

    def prime_customers(self, docs: Sequence[Document]) -> None:
        """Remember customers fetched by a list query, so ``customer(id)`` reuses them."""
        for doc in docs:
            self.customer_by_id.prime(int(doc["_id"]), doc)
