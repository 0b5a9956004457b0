"""What a node hands a keyed lake table when it changes some of its rows, not all of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl


@dataclass(frozen=True)
class KeyedChanges:
    """The new state of some keys of a table whose catalog entry saves with ``mode: merge``
    and ``keys``.

    Saved to the table, every row of ``rows`` replaces the table's row of the same key (or
    is added), and every key of ``keys`` that has no row in ``rows`` is deleted; rows of
    other keys are left as they are. ``rows`` has the table's columns, ``keys`` the key
    columns and names every key this change may touch (the keys of ``rows`` too). Both are
    native frames of the run's engine (polars or Spark), eager or lazy.

    This is how a node says "these keys, and only these, changed", so a batch writes the
    files its keys live in instead of the whole table.
    """

    rows: Any
    keys: Any

    def applied_to(self, table: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
        """``table`` (polars) after this change: without the rows of the keys named in
        ``keys`` (its columns are the key columns), with ``rows``. What saving the change
        to a keyed table holding ``table`` gives, row order aside."""
        keys = self.keys.lazy().unique()
        kept = table.lazy().join(keys, on=keys.collect_schema().names(), how="anti")
        return pl.concat([kept, self.rows.lazy().select(kept.collect_schema().names())])
