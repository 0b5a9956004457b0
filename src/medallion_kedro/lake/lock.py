"""One writer at a time on a lake: an exclusive lock object, local or on S3.

The lock is ``<lake>/_lock.json`` holding who took it (pid, host, run id, start time). It is
created only if absent: locally with ``O_CREAT | O_EXCL``, on S3 with a conditional PUT
(``If-None-Match: *``), so two runs can never both hold it. A lock whose holder is gone is
taken over: on the same host when its pid no longer runs (or now belongs to a process
started later), anywhere when it is older than ``LAKE_LOCK_STALE_AFTER`` seconds (default
6 hours); the takeover removes only the stale lock it read (local: moved aside and
checked; S3: a delete conditional on its ETag). A run that finds the lake locked waits up
to ``LAKE_LOCK_WAIT`` seconds (default 0), then fails with a message naming the holder.
The lock is re-entrant within a process and exclusive between processes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from medallion_kedro import processes
from medallion_kedro.errors import UserError
from medallion_kedro.lake.record import Lake

LOCK = "_lock.json"

#: Lakes whose lock this process holds, with how many holders: the lock is re-entrant
#: within a process (a save outside the run's transaction, e.g. from another hook, while
#: the run holds the lock), and exclusive between processes.
_HELD: dict[str, int] = {}
_HELD_MUTEX = threading.Lock()


class LakeLockedError(UserError, RuntimeError):
    """Another run holds the lake lock; the message names it and says what to do."""


def _env_seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        raise LakeLockedError(f"{name}={raw!r} is not a number of seconds: fix it.") from None


class LakeLock:
    """Context manager: hold the lake lock for the duration of a run."""

    def __init__(self, lake: Lake, run_id: str, wait: float | None = None) -> None:
        self.lake = lake
        self.run_id = run_id
        self.path = lake.path(LOCK)
        self.wait = _env_seconds("LAKE_LOCK_WAIT", 0.0) if wait is None else wait
        self.stale_after = _env_seconds("LAKE_LOCK_STALE_AFTER", 6 * 3600.0)
        self.held = False

    def _claim(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "pid_start": processes.started_at(os.getpid()),
            "host": socket.gethostname(),
            "run_id": self.run_id,
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "started_ts": time.time(),
        }

    def _try_create(self) -> bool:
        data = json.dumps(self._claim()).encode()
        if self.lake.protocol == "file":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            return True
        try:
            self.lake.fs.pipe_file(self.path, data, mode="create")
        except FileExistsError:
            return False
        return True

    def holder(self) -> dict[str, Any] | None:
        """Who holds the lock (``{}`` when it cannot be read), or None when it is free."""
        return self._read()[0]

    def _read(self) -> tuple[dict[str, Any] | None, Any]:
        """The holder and a token of this very lock object (local: its bytes; S3: ETag)."""
        try:
            if self.lake.protocol == "file":
                raw = token = Path(self.path).read_bytes()
            else:
                # the ETag first: if the lock is replaced before the read, the conditional
                # delete of a stale one fails instead of removing the new lock
                token = self.lake.fs.info(self.path, refresh=True)["ETag"]
                raw = self.lake.fs.cat_file(self.path)
        except FileNotFoundError:
            return None, None
        try:
            holder: dict[str, Any] = json.loads(raw)
        except ValueError:
            return {}, token
        return holder, token

    def _is_stale(self, holder: dict[str, Any]) -> bool:
        if not holder:  # killed between creating and writing it: judge by its age
            try:
                age = time.time() - float(self.lake.fs.modified(self.path).timestamp())
            except (FileNotFoundError, OSError):
                return True
            return age > 10
        if holder.get("host") == socket.gethostname():
            started = holder.get("pid_start")
            if not processes.alive(int(holder["pid"]), started_by=started):
                return True  # gone, or the pid now belongs to a process started later
        return time.time() - float(holder.get("started_ts", 0)) > self.stale_after

    def acquire(self) -> None:
        with _HELD_MUTEX:
            if self.lake.uri in _HELD:
                _HELD[self.lake.uri] += 1
                self.held = True
                return
        deadline = time.monotonic() + self.wait
        while True:
            if self._try_create():
                with _HELD_MUTEX:
                    _HELD[self.lake.uri] = 1
                self.held = True
                return
            holder, token = self._read()
            if holder is None:
                continue
            if self._is_stale(holder):
                self._break(token)
                continue
            if time.monotonic() >= deadline:
                raise LakeLockedError(self._locked_message(holder))
            time.sleep(0.2)

    def _break(self, token: Any) -> None:
        """Remove the stale lock read as ``token``, and only that one.

        If another run took the lock over in the meantime, its fresh lock is left alone
        (locally it is put back; on S3 the delete is conditional on the stale ETag).
        """
        if self.lake.protocol == "file":
            aside = Path(f"{self.path}.{os.getpid()}.stale")
            try:
                os.rename(self.path, aside)
            except FileNotFoundError:
                return
            if aside.read_bytes() != token:
                with contextlib.suppress(FileExistsError):
                    os.link(aside, self.path)
            aside.unlink()
            return
        bucket, key = self.path.split("/", 1)
        with contextlib.suppress(OSError):  # gone, or replaced: not ours to remove
            self.lake.fs.call_s3("delete_object", Bucket=bucket, Key=key, IfMatch=token)

    def _locked_message(self, holder: dict[str, Any]) -> str:
        who = (
            f"run {holder.get('run_id')} (pid {holder.get('pid')} on {holder.get('host')}, "
            f"started {holder.get('started_at')})"
            if holder
            else "a run that is starting"
        )
        return (
            f"The lake {self.lake.uri} is locked by {who}: two runs must not write one lake "
            "at once. Wait for that run to finish and run again (or set LAKE_LOCK_WAIT to "
            f"wait up to that many seconds). If no run is going, remove {self.path}."
        )

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        with _HELD_MUTEX:
            _HELD[self.lake.uri] -= 1
            if _HELD[self.lake.uri] > 0:
                return
            del _HELD[self.lake.uri]
        holder = self.holder()
        mine = {"pid": os.getpid(), "host": socket.gethostname()}
        if holder and all(holder.get(k) == v for k, v in mine.items()):
            self.lake.fs.rm_file(self.path)

    def __enter__(self) -> LakeLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
