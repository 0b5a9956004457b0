"""The lake lock, local (no server) and on S3 (moto): exclusive, stale-aware, bounded wait."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import s3fs

from medallion_kedro.lake import Lake, LakeLock, LakeLockedError, lake_at
from medallion_kedro.processes import started_at
from tests.servers import S3Server


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(done.stdout)


HOLD = """
import json, sys, time
from medallion_kedro.lake import LakeLock, lake_at
uri, credentials, seconds = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3])
with LakeLock(lake_at(uri, credentials or None), "run-a"):
    print("HELD", flush=True)
    time.sleep(seconds)
"""


@contextlib.contextmanager
def held_elsewhere(
    lake: Lake, credentials: dict[str, Any] | None = None, seconds: float = 60
) -> Iterator[subprocess.Popen[str]]:
    """The lake lock held by another process (run id ``run-a``) for ``seconds``."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, lake.uri, json.dumps(credentials or {}), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "HELD"
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)


def test_second_holder_is_refused_with_the_first_named(tmp_path: Path) -> None:
    lake = lake_at(str(tmp_path))
    with held_elsewhere(lake) as other:
        refused = rf"locked by run run-a \(pid {other.pid} on .*LAKE_LOCK"
        with pytest.raises(LakeLockedError, match=refused):
            LakeLock(lake, "run-b").acquire()
    with LakeLock(lake, "run-b"):  # released: free again
        assert json.loads((tmp_path / "_lock.json").read_text())["run_id"] == "run-b"
    assert not (tmp_path / "_lock.json").exists()


def test_the_lock_is_reentrant_within_a_process(tmp_path: Path) -> None:
    """A save outside the run's transaction (e.g. from another hook) while the run holds it."""
    lake = lake_at(str(tmp_path))
    with LakeLock(lake, "run"):
        with LakeLock(lake, "inner"):
            pass
        assert json.loads((tmp_path / "_lock.json").read_text())["run_id"] == "run"
    assert not (tmp_path / "_lock.json").exists()


def test_a_dead_runs_lock_is_taken_over(tmp_path: Path) -> None:
    stale = {"pid": _dead_pid(), "host": socket.gethostname(), "run_id": "dead",
             "started_ts": time.time()}  # fmt: skip
    (tmp_path / "_lock.json").write_text(json.dumps(stale))
    with LakeLock(lake_at(str(tmp_path)), "run-b"):
        assert json.loads((tmp_path / "_lock.json").read_text())["run_id"] == "run-b"


def test_a_live_lock_is_never_taken_over_by_a_late_breaker(tmp_path: Path) -> None:
    """A run that judged an older lock stale must not remove the fresh one now in place."""
    lake = lake_at(str(tmp_path))
    with LakeLock(lake, "fresh"):
        LakeLock(lake, "late")._break(token=b'{"the stale lock": "read earlier"}')
        assert json.loads((tmp_path / "_lock.json").read_text())["run_id"] == "fresh"


def test_waiting_for_the_lock_is_bounded(tmp_path: Path) -> None:
    lake = lake_at(str(tmp_path))
    with held_elsewhere(lake, seconds=1):
        started = time.monotonic()
        with LakeLock(lake, "second", wait=20):
            assert 0.3 < time.monotonic() - started < 15
    with held_elsewhere(lake), pytest.raises(LakeLockedError):
        LakeLock(lake, "third", wait=0.5).acquire()


@pytest.fixture
def s3_lake(s3: S3Server) -> Lake:
    bucket = f"lock-{uuid.uuid4().hex[:8]}"
    s3fs.S3FileSystem(**s3.credentials(), skip_instance_cache=True).mkdir(bucket)
    return lake_at(f"s3://{bucket}", s3.credentials())


def test_s3_lock_is_a_conditional_put(s3_lake: Lake, s3: S3Server) -> None:
    with held_elsewhere(s3_lake, s3.credentials()) as other:
        refused = pytest.raises(LakeLockedError, match=rf"locked by run run-a \(pid {other.pid} ")
        with refused:
            LakeLock(s3_lake, "run-b").acquire()
    # the holder was killed: its lock object is stale and taken over
    with LakeLock(s3_lake, "run-b"):
        holder = json.loads(s3_lake.fs.cat_file(s3_lake.path("_lock.json")))
        assert holder["run_id"] == "run-b"


def test_s3_stale_lock_is_taken_over_but_never_a_fresh_one(s3_lake: Lake) -> None:
    stale = {"pid": _dead_pid(), "host": socket.gethostname(), "run_id": "dead",
             "started_ts": time.time()}  # fmt: skip
    s3_lake.fs.pipe_file(s3_lake.path("_lock.json"), json.dumps(stale).encode())
    old_etag = s3_lake.fs.info(s3_lake.path("_lock.json"), refresh=True)["ETag"]
    with LakeLock(s3_lake, "run-b"):
        LakeLock(s3_lake, "late")._break(token=old_etag)  # judged the dead run's lock stale
        holder = json.loads(s3_lake.fs.cat_file(s3_lake.path("_lock.json")))
        assert holder["run_id"] == "run-b"


def test_a_lock_whose_pid_was_reused_is_taken_over(tmp_path: Path) -> None:
    """After a crash the pid may belong to another process (containers reuse low pids)."""
    started = started_at(os.getpid())
    assert started is not None
    # the lock's process started an hour before the one that now has its pid
    reused = {"pid": os.getpid(), "pid_start": started - 3600, "host": socket.gethostname(),
              "run_id": "crashed", "started_ts": time.time()}  # fmt: skip
    (tmp_path / "_lock.json").write_text(json.dumps(reused))
    with LakeLock(lake_at(str(tmp_path)), "run-b"):
        assert json.loads((tmp_path / "_lock.json").read_text())["run_id"] == "run-b"
