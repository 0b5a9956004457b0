"""Snapshot reads: every table one reader call needs, from one commit record.

A reader that read the record once per table could get one table of a commit and another
table of the next (a run publishing between the two reads). :class:`Snapshot` reads the
record once and every table at the version it names; :func:`load_together` does the same
for datasets of a Kedro catalog (the app, notebooks).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import polars as pl

from medallion_kedro.lake.checks import LakeUnavailableError, build_command
from medallion_kedro.lake.history import check_published
from medallion_kedro.lake.record import Entry, Lake, Record
from medallion_kedro.lake.storage import lake_at
from medallion_kedro.lake.transaction import pinned

if TYPE_CHECKING:
    from medallion_kedro.datasets.delta_table import DeltaTableDataset


class Snapshot:
    """The lake's tables as one commit record names them."""

    def __init__(self, uri: str, credentials: dict[str, Any] | None = None) -> None:
        self.uri = uri
        self.credentials = credentials
        self.lake: Lake = lake_at(uri, credentials)
        self.record: Record = self.lake.read_record()

    def entry(self, key: str) -> Entry:
        """The published entry of ``<layer>.<table>``; a clear error if it is not built."""
        entry: Entry | None = self.record["tables"].get(key)
        if entry is None:
            layer = key.split(".", 1)[0]
            raise LakeUnavailableError(
                f"{key} has no published version in {self.lake.uri}: build it with "
                f"`{build_command(layer)}`."
            )
        return entry

    def _dataset(self, key: str) -> DeltaTableDataset:
        from medallion_kedro.datasets.delta_table import DeltaTableDataset

        return DeltaTableDataset(filepath=self.lake.table_uri(key), credentials=self.credentials)

    def scan(self, key: str, version: int | None = None) -> pl.LazyFrame:
        """``key`` at the version this snapshot names, or at a published ``version``."""
        if version is None:
            version = int(self.entry(key)["version"])
        else:
            check_published(self.record, key, version)
        return self._dataset(key).scan_version(version)

    def read(self, key: str, version: int | None = None) -> pl.DataFrame:
        return self.scan(key, version).collect()


def read_table(
    uri: str,
    layer: str,
    table: str,
    credentials: dict[str, Any] | None = None,
    version: int | None = None,
) -> pl.DataFrame:
    """The rows of ``layer.table`` readers see now (or at a published Delta ``version``)."""
    return Snapshot(uri, credentials).read(f"{layer}.{table}", version)


def read_tables(
    uri: str, keys: Iterable[str], credentials: dict[str, Any] | None = None
) -> dict[str, pl.DataFrame]:
    """Several tables (``<layer>.<table>``) as one commit record names them."""
    snapshot = Snapshot(uri, credentials)
    return {key: snapshot.read(key) for key in keys}


def load_together(catalog: Any, names: Iterable[str]) -> dict[str, Any]:
    """Load catalog datasets so that every lake table among them comes from one commit
    record (each lake's record is read once, before the first load)."""
    datasets = {name: catalog.get(name) for name in names}
    lakes = {
        ds.lake.uri: ds.lake
        for ds in datasets.values()
        if isinstance(getattr(ds, "lake", None), Lake)
    }
    with contextlib.ExitStack() as stack:
        for lake in lakes.values():
            stack.enter_context(pinned(lake))
        return {name: catalog.load(name) for name in datasets}
