"""Project pipelines."""

from __future__ import annotations

import warnings

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

#: ``kedro run`` runs these; generation is explicit (``--pipelines generate``).
DEFAULT_PIPELINES = ("bronze", "silver", "gold", "export")


def register_pipelines() -> dict[str, Pipeline]:
    """Find every ``pipelines/<name>`` package and sum the lakehouse ones into ``__default__``.

    Datasets are named ``<layer>.<table>`` on purpose (the lake's own names, which Kedro-Viz
    groups by layer); Kedro only recommends against dots, so its warning about them is
    silenced here, while the pipelines are built, and nowhere else.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="One or more dataset names contain", category=UserWarning
        )
        pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(
        (pipelines[name] for name in DEFAULT_PIPELINES if name in pipelines), Pipeline([])
    )
    return pipelines
