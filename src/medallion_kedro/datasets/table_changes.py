"""``TableChangesDataset``: the rows of a lake table that changed since the version another
layer was built from."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import fsspec
import polars as pl
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError
from kedro.io.core import AbstractDataset, DatasetError, get_protocol_and_path

import medallion_kedro.lake as lakes
from medallion_kedro.lake import delta_storage_options, fs_credentials

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableChanges:
    """What changed in a table between two Delta versions, or why that is not known.

    ``previous`` holds the rows the older version had and the newer one does not (deleted
    rows, and the old values of changed rows); ``current`` the rows the newer version has
    and the older one did not (new rows, and the new values of changed rows). Rows that
    are the same in both versions are in neither. ``full`` is the reason a reader must
    read the whole table instead (no older version to compare with, it cannot be read,
    the change is too large to pay), None when the changes are known.
    """

    previous: pl.DataFrame
    current: pl.DataFrame
    full: str | None = None

    @classmethod
    def unknown(cls, reason: str) -> TableChanges:
        return cls(pl.DataFrame(), pl.DataFrame(), reason)


class TableChangesDataset(AbstractDataset[None, TableChanges]):
    """Read-only: the changes of a lake table since the Delta version that the published
    tables of layer ``since`` were built from (their commit record entries' ``sources``).

    The two versions' data files come from the Delta log (``get_add_actions``): the rows of
    the files only the older version has are the previous values, the rows of the files
    only the newer version has the new values; a row copied unchanged into a rewritten
    file is on both sides and cancels. The newer version is the one this process reads
    (the running session's staged version, else the published one), so a layer built
    incrementally from these changes and its previous tables equals one built from the
    whole table, whatever moved the table (a run, a retraction, a restore or rollback).

    ``load()`` returns :class:`TableChanges`, with ``full`` set (read the whole table)
    when: ``since`` has no published table, its tables were built from different versions
    or from none of this table; ``load_args.as_of`` is set (time travel: the layer is
    rebuilt from the past table); the older version's files were vacuumed; or the changed
    files hold more than ``load_args.max_share`` of the rows of both versions (0: always).

    Example catalog entry::

        "changes.silver_{table}":
          type: medallion_kedro.datasets.table_changes.TableChangesDataset
          filepath: ${globals:lake}/silver/{table}
          since: gold
          credentials: lake
          load_args: {as_of: "${runtime_params:silver_as_of,null}", max_share: 0.5}
    """

    def __init__(
        self,
        *,
        filepath: str,
        since: str,
        load_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(str(filepath).rstrip("/"))
        self._fs = fsspec.filesystem(protocol, **fs_credentials(credentials), **(fs_args or {}))
        self._storage_options = delta_storage_options(credentials) if protocol != "file" else {}
        self.lake, self.key = lakes.lake_of(protocol, path, self._fs, self._storage_options)
        self._uri = self.lake.table_uri(self.key)
        self._since = since
        args = dict(load_args or {})
        self._as_of = args.get("as_of")
        self._max_share = float(args.get("max_share", 0.5))
        if not 0 <= self._max_share <= 1:
            raise DatasetError(
                f"changes of {self.key}: load_args.max_share must be a share from 0 to 1, "
                f"got {self._max_share}; fix the catalog entry."
            )
        self._known: dict[tuple[int | str, int | None], TableChanges] = {}
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"table": self._uri, "since": self._since, "max_share": self._max_share}

    def _save(self, data: None) -> None:
        raise DatasetError(f"changes of {self.key} are read-only.")

    def load(self) -> TableChanges:
        entry = lakes.current_entry(self.lake, self.key)
        base: int | str = self._base()
        if self._as_of:
            base = f"silver_as_of is set ({self._as_of})"
        elif self._max_share == 0:
            base = "max_share is 0"
        elif entry is None:
            base = f"{self.key} is not built"
        versions = base, None if entry is None else int(entry["version"])
        if versions not in self._known:  # the nodes of one run read it once
            self._known[versions] = self._changes(*versions)
        return self._known[versions]

    def _changes(self, base: int | str, version: int | None) -> TableChanges:
        if isinstance(base, str) or version is None:
            return self._unknown(str(base))
        changes = self._between(base, version)
        if changes.full is None:
            log.info(
                "%s: maintained from the changes of %s from version %s to %s: %s rows "
                "before, %s after",
                self._since, self.key, base, version,
                changes.previous.height, changes.current.height,
            )  # fmt: skip
        return changes

    def _unknown(self, reason: str) -> TableChanges:
        log.info("%s: full recompute from %s: %s", self._since, self.key, reason)
        return TableChanges.unknown(reason)

    def _base(self) -> int | str:
        """The version of this table the published ``since`` tables were built from, or
        why there is none."""
        prefix = f"{self._since}."
        tables = lakes.record_for_reading(self.lake).get("tables", {})
        built = {
            k: e.get("sources", {}).get(self.key) for k, e in tables.items() if k.startswith(prefix)
        }
        if not built:
            return f"{self._since} has no published table"
        if len(set(built.values())) > 1:
            return f"the {self._since} tables were built from different versions of {self.key}"
        base = next(iter(built.values()))
        if base is None:
            return f"the {self._since} tables name no version of {self.key} they were built from"
        return int(base)

    def _between(self, old: int, new: int) -> TableChanges:
        empty = TableChanges(pl.DataFrame(), pl.DataFrame())
        if old == new:
            return empty
        try:
            before, after = (self._files(v) for v in (old, new))
        except (DeltaError, OSError) as exc:
            return self._unknown(f"version {old} of {self.key} cannot be read ({exc})")
        gone = {p: n for p, n in before.items() if p not in after}
        came = {p: n for p, n in after.items() if p not in before}
        total = sum(before.values()) + sum(after.values())
        changed = sum(gone.values()) + sum(came.values())
        if total and changed > self._max_share * total:
            return self._unknown(
                f"{changed} of the {total} rows of versions {old} and {new} are in changed "
                f"files, more than max_share {self._max_share:.0%}"
            )
        missing = [p for p in gone if not self._fs.exists(self._path(p))]
        if missing:
            return self._unknown(f"version {old} of {self.key} was vacuumed ({missing[0]})")
        previous, current = self._read(list(gone)), self._read(list(came))
        if previous.width and current.width and previous.columns != current.columns:
            if set(previous.columns) != set(current.columns):
                return self._unknown(f"the columns of {self.key} changed")
            previous = previous.select(current.columns)
        if not previous.width or not current.width:
            return TableChanges(previous, current)
        same = {"on": current.columns, "how": "anti", "nulls_equal": True}
        return TableChanges(
            previous.join(current, **same),  # type: ignore[arg-type]
            current.join(previous, **same),  # type: ignore[arg-type]
        )

    def _files(self, version: int) -> dict[str, int]:
        """Data file -> its rows, from the add actions of ``version``."""
        table = DeltaTable(self._uri, version=version, storage_options=self._storage_options)
        actions = pl.DataFrame(table.get_add_actions(flatten=True))
        if not actions.height:
            return {}
        return dict(actions.select("path", pl.col("num_records").fill_null(0)).iter_rows())

    def _path(self, file: str) -> str:
        return self.lake.path(f"{self.key.replace('.', '/', 1)}/{file}")

    def _read(self, files: list[str]) -> pl.DataFrame:
        if not files:
            return pl.DataFrame()
        uris = [f"{self._uri}/{f}" for f in files]
        return pl.scan_parquet(uris, storage_options=self._storage_options or None).collect()
