"""``LakeRecordDataset``: the versions of a lake layer's tables, as readers see them now."""

from __future__ import annotations

import os
from copy import deepcopy
from typing import Any

import fsspec
from kedro.io.core import AbstractDataset, DatasetError

import medallion_kedro.lake as lakes


class LakeRecordDataset(AbstractDataset[None, dict[str, Any]]):
    """Read-only: the commit record's entries of one layer (``<lake>/_lake.json``).

    ``load()`` returns ``{"<layer>.<table>": {version, run_id, rows, committed_at, ...}}``
    for every table of ``layer`` that has a published version (a version the running
    session staged but has not committed yet counts too: it is what this run reads; once
    committed, the record's entry is returned, with its ``committed_at``). The
    export uses it to record in the MongoDB manifest which lake versions it published.

    Example catalog entry::

        lake.gold_versions:
          type: medallion_kedro.datasets.LakeRecordDataset
          path: ${globals:lake}
          layer: gold
    """

    def __init__(
        self,
        *,
        path: str,
        layer: str,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        options = {**deepcopy(credentials or {}), **(fs_args or {})}
        fs, root = fsspec.core.url_to_fs(path, **options)
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        if protocol in {"file", "local"}:
            self._lake = lakes.Lake("file", os.path.abspath(root), fs)
        else:
            self._lake = lakes.Lake(protocol, root.rstrip("/"), fs)
        self._layer = layer
        self.metadata = metadata

    def load(self) -> dict[str, Any]:
        tables: dict[str, Any] = dict(lakes.record_for_reading(self._lake).get("tables", {}))
        transaction = lakes.active(self._lake)
        if transaction is not None:
            tables.update(
                {k: e for k, e in transaction.staged.items() if k not in transaction.committed}
            )
        prefix = f"{self._layer}."
        return {key: dict(entry) for key, entry in sorted(tables.items()) if key.startswith(prefix)}

    def save(self, data: None) -> None:
        raise DatasetError(
            f"{self._lake.uri}/{lakes.RECORD} is written by the lake's commits, not saved "
            "through this dataset."
        )

    def _describe(self) -> dict[str, Any]:
        return {"lake": self._lake.uri, "layer": self._layer}
