"""The lake lock, local (no server) and on S3 (moto): exclusive, stale-aware, bounded wait."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import s3fs

from medallion_kedro.datasets._commit import Lake
from medallion_kedro.lake import lake_at
from medallion_kedro.lake_lock import LakeLock, LakeLockedError
from tests.servers import S3Server


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(done.stdout)


def test_second_holder_is_refused_with_the_first_named(tmp_path: Path) -> None:
    lake = lake_at(str(tmp_path))
    refused = pytest.raises(LakeLockedError, match=r"locked by run run-a \(pid \d+ on .*LAKE_LOCK")
    with LakeLock(lake, "run-a"), refused:
        LakeLock(lake, "run-b").acquire()
    with LakeLock(lake, "run-b"):  # released: free again
        assert json.loads((tmp_path / "_lock.json").read_text())["run_id"] == "run-b"
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
    first = LakeLock(lake, "first")
    first.acquire()
    threading.Timer(0.5, first.release).start()
    started = time.monotonic()
    with LakeLock(lake, "second", wait=10):
        assert 0.4 < time.monotonic() - started < 5
    first.acquire()
    try:
        with pytest.raises(LakeLockedError):
            LakeLock(lake, "third", wait=0.5).acquire()
    finally:
        first.release()


@pytest.fixture
def s3_lake(s3: S3Server) -> Lake:
    bucket = f"lock-{uuid.uuid4().hex[:8]}"
    s3fs.S3FileSystem(**s3.credentials(), skip_instance_cache=True).mkdir(bucket)
    return lake_at(f"s3://{bucket}", s3.credentials())


def test_s3_lock_is_a_conditional_put(s3_lake: Lake) -> None:
    with LakeLock(s3_lake, "run-a"), pytest.raises(LakeLockedError, match=r"locked by run run-a"):
        LakeLock(s3_lake, "run-b").acquire()
    assert not s3_lake.fs.exists(s3_lake.path("_lock.json"))


def test_s3_stale_lock_is_taken_over_but_never_a_fresh_one(s3_lake: Lake) -> None:
    stale = {"pid": _dead_pid(), "host": socket.gethostname(), "run_id": "dead",
             "started_ts": time.time()}  # fmt: skip
    s3_lake.fs.pipe_file(s3_lake.path("_lock.json"), json.dumps(stale).encode())
    old_etag = s3_lake.fs.info(s3_lake.path("_lock.json"), refresh=True)["ETag"]
    with LakeLock(s3_lake, "run-b"):
        LakeLock(s3_lake, "late")._break(token=old_etag)  # judged the dead run's lock stale
        holder = json.loads(s3_lake.fs.cat_file(s3_lake.path("_lock.json")))
        assert holder["run_id"] == "run-b"
