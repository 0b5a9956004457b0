"""Whether a process is alive: the one way the project asks (the lake lock, the temporary
files of killed writes, the run history's open runs)."""

from __future__ import annotations

import psutil


def started_at(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or None if it does not run."""
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:
        return None


def alive(pid: int | None, *, started_by: float | None = None) -> bool:
    """Whether process ``pid`` runs on this host, and, when ``started_by`` is given, was
    started no later than that time: a process started later holds a reused pid, and the
    process that had it is gone."""
    if pid is None:
        return False
    try:
        created = float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True  # another user's process: it runs, and its start cannot be read
    return started_by is None or created <= started_by
