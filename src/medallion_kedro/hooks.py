"""Project hooks."""

from __future__ import annotations

from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl

from medallion_kedro.lake import check_lake


class LakePreflightHooks:
    """Check the lake is reachable and writable before a run touches it."""

    def __init__(self) -> None:
        self._context: KedroContext | None = None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self._context = context

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        if self._context is None:
            return
        loader = self._context.config_loader
        lake = str(loader["globals"].get("lake", "data/lake"))
        if lake.startswith("s3://"):
            check_lake(lake, loader["credentials"].get("minio"))
        else:
            check_lake(str(self._context.project_path / lake))
