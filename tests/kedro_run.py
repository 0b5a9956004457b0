"""Run the real Kedro project in-process, the way `kedro run` does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def kedro_run(
    pipelines: list[str] | None = None,
    *,
    env: str | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``kedro run [--env ENV] [--pipelines ...] [--params ...]`` in this process.

    The lake root comes from ``LAKE_PATH`` (base env) or ``LAKE_BUCKET`` (minio env): set
    them with ``monkeypatch.setenv`` before calling.
    """
    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(
        project_path=PROJECT_ROOT, env=env, runtime_params=params or {}
    ) as session:
        return session.run(pipeline_names=pipelines)  # type: ignore[no-any-return]
