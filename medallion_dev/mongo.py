"""nx-27017 (the MongoDB wire protocol over SQLite): how to run it, and throw-away servers.

``nx_command`` is the one way the project starts nx-27017: ``medallion-mongo`` (see
``local_mongo``) for ``make up``, and ``MongoServer`` here for the tests and the benches.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from medallion_dev.processes import BIN, free_port, stop_process_group, wait_for_port


def nx_executable() -> str:
    """The ``nx-27017`` of this virtualenv, else the one on ``PATH``."""
    sibling = BIN / "nx-27017"
    found = str(sibling) if sibling.exists() else shutil.which("nx-27017")
    if not found:
        raise SystemExit("nx-27017 is not installed: pip install nx-27017 (or the project).")
    return found


def nx_command(
    db: Path, port: int, log: Path, pid_file: Path, host: str = "127.0.0.1"
) -> list[str]:
    """nx-27017 on ``host:port``, its database in the file ``db`` (single-file mode)."""
    return [
        *(nx_executable(), "--db", str(db), "--host", host, "-p", str(port)),
        *("--log-file", str(log), "--pid-file", str(pid_file)),
    ]


@dataclass
class MongoServer:
    """A throw-away ``nx-27017`` process on a loopback port.

    It runs in single-file mode (``--db``): collection names are shared across logical
    databases there, so tests that write the same collection names need a server of their
    own. (``--data-dir`` isolates databases but breaks ``renameCollection``.)
    """

    db_path: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?serverSelectionTimeoutMS=5000"

    def start(self) -> MongoServer:
        db = self.db_path
        self.process = subprocess.Popen(
            nx_command(db, self.port, db.with_suffix(".log"), db.with_suffix(".pid")),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None:
            stop_process_group(self.process, sig)
        self.process = None

    def kill(self) -> None:
        """Stop the server abruptly, as a crash would."""
        self.stop(signal.SIGKILL)


@contextmanager
def mongo_server(db_path: Path) -> Iterator[MongoServer]:
    """A ``MongoServer`` on a free port with its database in ``db_path``, stopped on exit."""
    server = MongoServer(db_path=db_path, port=free_port()).start()
    try:
        yield server
    finally:
        server.stop()
