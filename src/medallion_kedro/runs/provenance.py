"""Where a run comes from (project version, git commit, whether its process still lives),
and the run history an export serves once the run that exported has ended."""

from __future__ import annotations

import logging
import subprocess
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from medallion_kedro import processes

log = logging.getLogger(__name__)

#: The lake's run history, read back once a run that exported has ended.
RUNS_DATASET, NODE_RUNS_DATASET = "quality.runs", "quality.node_runs"


def git_commit(project_path: Path) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the checkout, or (None, None) outside git.

    One ``git status`` gives both: its ``--branch`` header names the commit checked out,
    and any other line is a tracked file that differs from it.
    """
    try:
        lines = subprocess.run(  # noqa: S603 - fixed git arguments
            ["git", "-C", str(project_path), "status", "--porcelain=v2", "--branch",  # noqa: S607
             "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.splitlines()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None, None
    oid = next((line.split()[2] for line in lines if line.startswith("# branch.oid ")), "")
    commit = oid if oid and oid != "(initial)" else None
    return commit, any(not line.startswith("#") for line in lines)


def project_version() -> str | None:
    try:
        return version("medallion-kedro")
    except PackageNotFoundError:
        return None


def process_gone(pid: int | None, started_at: datetime | None) -> bool:
    """True when ``pid`` no longer runs the process that started at ``started_at``."""
    return not processes.alive(pid, started_by=started_at.timestamp() if started_at else None)


def publish_history(catalog: Any, dataset_name: str, export_run_id: str) -> bool:
    """Refresh the run history export run ``export_run_id`` serves with the lake's, now.

    Called once the ``kedro run`` that saved ``dataset_name`` (a ``MongoExportDataset``)
    has recorded its final state: the API then serves that state (``succeeded``, its
    seconds, nodes and data quality) and the same history as the lake. Returns ``False``
    when another export is served by then (that export's history stays as it is).
    """
    from medallion_kedro.pipelines.export.nodes import history_tables

    runs, node_runs = catalog.load(RUNS_DATASET), catalog.load(NODE_RUNS_DATASET)
    refreshed: bool = catalog.get(dataset_name).refresh(
        export_run_id, history_tables(runs, node_runs)
    )
    if refreshed:
        log.info("export run %s now serves the run history as the lake has it", export_run_id)
    return refreshed
