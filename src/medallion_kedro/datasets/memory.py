"""``MemoryDataset``: Kedro's in-memory dataset, its copy mode chosen without importing pandas.

Kedro's ``MemoryDataset`` picks how to copy a value by importing pandas and numpy to ask
whether it is one of their frames or arrays; in a polars project that import is the
largest single cost of starting a run (every parameter and every intermediate output is
held in one). An object can only be a pandas ``DataFrame`` or a numpy array if pandas or
numpy is already imported, so :func:`copy_mode_of` asks ``sys.modules`` instead and gives
the same answers: ``copy`` for those, ``assign`` for other data frames (polars, Spark) and
ibis tables, ``deepcopy`` for anything else. The project's catalog
(:class:`medallion_kedro.project_catalog.ProjectCatalog`) holds parameters and the
pipelines' intermediate outputs in it.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

from kedro.io import MemoryDataset as KedroMemoryDataset
from kedro.io.core import DatasetError, TCopyMode

_EMPTY = object()


def copy_mode_of(data: Any) -> TCopyMode:
    """The copy mode Kedro's ``MemoryDataset`` infers for ``data``, importing nothing."""
    pandas, numpy, ibis = (sys.modules.get(name) for name in ("pandas", "numpy", "ibis"))
    if pandas is not None and isinstance(data, pandas.DataFrame):
        return "copy"
    if numpy is not None and isinstance(data, numpy.ndarray):
        return "copy"
    if type(data).__name__ == "DataFrame" or ibis is not None and isinstance(data, ibis.Table):
        return "assign"
    return "deepcopy"


def copied(data: Any, mode: TCopyMode) -> Any:
    """``data`` copied as ``mode`` says (``deepcopy``, ``copy`` or ``assign``)."""
    if mode == "deepcopy":
        return copy.deepcopy(data)
    if mode == "copy":
        return data.copy()
    if mode == "assign":
        return data
    raise DatasetError(f"Invalid copy mode: {mode}. Possible values are: deepcopy, copy, assign.")


class MemoryDataset(KedroMemoryDataset):
    """Kedro's ``MemoryDataset`` (same arguments, same copy modes) whose inferred copy mode
    imports nothing (:func:`copy_mode_of`).

    Example::

        >>> import polars as pl
        >>> frame = pl.DataFrame({"a": [1]})
        >>> dataset = MemoryDataset(data=frame)
        >>> dataset.load() is frame  # a data frame is assigned, not copied
        True
    """

    def __init__(
        self,
        data: Any = _EMPTY,
        copy_mode: TCopyMode | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(copy_mode=copy_mode, metadata=metadata)
        self._mode = copy_mode
        self._held: Any = _EMPTY
        if data is not _EMPTY:
            self._held = copied(data, copy_mode or copy_mode_of(data))

    def load(self) -> Any:
        if self._held is _EMPTY:
            raise DatasetError("Data for MemoryDataset has not been saved yet.")
        return copied(self._held, self._mode or copy_mode_of(self._held))

    def save(self, data: Any) -> None:
        self._held = copied(data, self._mode or copy_mode_of(data))

    def _exists(self) -> bool:
        return self._held is not _EMPTY

    def _release(self) -> None:
        self._held = _EMPTY

    def _describe(self) -> dict[str, Any]:
        return {"data": None if self._held is _EMPTY else f"<{type(self._held).__name__}>"}
