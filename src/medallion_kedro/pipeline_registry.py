"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

#: ``kedro run`` runs these; generation is explicit (``--pipeline generate``).
DEFAULT_PIPELINES = ("bronze", "silver", "gold", "export")


def register_pipelines() -> dict[str, Pipeline]:
    """Find every ``pipelines/<name>`` package and sum the lakehouse ones into ``__default__``."""
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(
        (pipelines[name] for name in DEFAULT_PIPELINES if name in pipelines), Pipeline([])
    )
    return pipelines
