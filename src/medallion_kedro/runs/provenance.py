"""Where a run comes from: project version, git commit, and whether its process still lives."""

from __future__ import annotations

import subprocess
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from medallion_kedro import processes


def git_commit(project_path: Path) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the checkout, or (None, None) outside git."""
    try:
        commit = subprocess.run(  # noqa: S603 - fixed git arguments
            ["git", "-C", str(project_path), "rev-parse", "HEAD"],  # noqa: S607
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(  # noqa: S603
            ["git", "-C", str(project_path), "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit or None, bool(dirty)


def project_version() -> str | None:
    try:
        return version("medallion-kedro")
    except PackageNotFoundError:
        return None


def process_gone(pid: int | None, started_at: datetime | None) -> bool:
    """True when ``pid`` no longer runs the process that started at ``started_at``."""
    return not processes.alive(pid, started_by=started_at.timestamp() if started_at else None)
