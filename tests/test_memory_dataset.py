"""The project's ``MemoryDataset``: Kedro's copy modes, chosen without importing pandas."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import polars as pl
from hypothesis import given
from hypothesis import strategies as st
from kedro.io import MemoryDataset as KedroMemoryDataset

from medallion_kedro.datasets.memory import MemoryDataset, copy_mode_of
from medallion_kedro.project_catalog import ProjectCatalog

values = st.recursive(
    st.none() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)


@given(values)
def test_plain_values_are_copied_as_kedro_copies_them(value: object) -> None:
    ours, kedros = MemoryDataset(data=value), KedroMemoryDataset(data=value)
    assert ours.load() == kedros.load() == value
    if isinstance(value, list | dict):  # deep copies: the caller's value is never shared
        assert ours.load() is not value and kedros.load() is not value


def test_frames_keep_kedros_copy_modes() -> None:
    frame = pl.DataFrame({"a": [1, 2]})
    assert copy_mode_of(frame) == "assign" and MemoryDataset(data=frame).load() is frame
    pandas_frame = pd.DataFrame({"a": [1, 2]})
    assert copy_mode_of(pandas_frame) == "copy"
    loaded = MemoryDataset(data=pandas_frame).load()
    assert loaded is not pandas_frame and loaded.equals(pandas_frame)
    assert MemoryDataset(data=[1], copy_mode="assign").load() == [1]


def test_the_project_catalog_holds_parameters_and_outputs_without_importing_pandas() -> None:
    code = (
        "import sys\n"
        "import polars as pl\n"
        "from medallion_kedro.project_catalog import ProjectCatalog\n"
        "catalog = ProjectCatalog()\n"
        "catalog['params:x'] = {'a': [1]}\n"
        "catalog.get('out', fallback_to_runtime_pattern=True)\n"
        "catalog.save('out', pl.DataFrame({'a': [1]}))\n"
        "assert catalog.load('params:x') == {'a': [1]}\n"
        "assert catalog.load('out').height == 1\n"
        "print(sorted({'pandas', 'numpy'} & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines()[-1] == "[]"  # after Kedro's logging line


def test_the_project_catalog_registers_datasets_as_kedro_does() -> None:
    catalog = ProjectCatalog()
    dataset = KedroMemoryDataset(data=1)
    catalog["ds"] = dataset
    catalog["raw"] = 2
    assert catalog.get("ds") is dataset
    assert isinstance(catalog.get("raw"), MemoryDataset) and catalog.load("raw") == 2
    assert isinstance(catalog.get("new", fallback_to_runtime_pattern=True), MemoryDataset)
