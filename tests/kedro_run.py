"""Run the real Kedro project in-process, the way `kedro run` does."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

PROJECT_ROOT = Path(__file__).resolve().parents[1]

#: The pipelines of the lake, and two seeded exports the lake tests land one after the other.
LAKEHOUSE = ["bronze", "silver", "gold"]
BATCH_A = {"n_customers": 200, "n_orders": 3000, "seed": 1}
BATCH_B = {"n_customers": 100, "n_orders": 2000, "seed": 2}


def kedro_run(
    pipelines: list[str] | None = None,
    *,
    env: str | None = None,
    params: dict[str, Any] | None = None,
    project: Path = PROJECT_ROOT,
) -> dict[str, Any]:
    """``kedro run [--env ENV] [--pipelines ...] [--params ...]`` in this process.

    The lake root comes from ``LAKE_PATH`` (base env) or ``LAKE_BUCKET`` (minio env): set
    them with ``monkeypatch.setenv`` before calling. ``project`` is the project folder
    (:func:`project_copy` gives one of a test's own).
    """
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env, runtime_params=params or {}) as session:
        return session.run(pipeline_names=pipelines)  # type: ignore[no-any-return]


def project_copy(folder: Path) -> Path:
    """A copy of the project's configuration and sources in ``folder``: a project root of a
    test's own, for what a run writes into the project itself (Kedro-Viz's
    ``.viz/stats.json``), so tests running at the same time never share it."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(PROJECT_ROOT / "conf", folder / "conf")
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", folder / "pyproject.toml")
    shutil.copytree(
        PROJECT_ROOT / "src", folder / "src", ignore=shutil.ignore_patterns("__pycache__")
    )
    return folder


def lake_built_from_batch_a(lake: Path) -> Path:
    """``lake`` generated from :data:`BATCH_A` and built by the lakehouse pipelines."""
    import pytest

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKE_PATH", str(lake))
        kedro_run(["generate"], params=BATCH_A)
        kedro_run(LAKEHOUSE)
    return lake
