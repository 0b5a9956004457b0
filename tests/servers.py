"""Real servers for the test suite: moto's S3 server and an nx-27017 MongoDB server.

Each starts on a free loopback port and is stopped by the fixture that started it.
Helpers here are plain functions so benchmark scripts can use them too.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port(below: int | None = None) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (optionally < ``below``)."""
    if below is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20_000, below)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port below {below}")


def wait_for_port(port: int, timeout: float = 20.0, host: str = "127.0.0.1") -> None:
    """Block until something accepts TCP connections on ``host:port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing answered on {host}:{port} within {timeout}s")


def stop_process_group(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop a process started with ``start_new_session=True`` and every child it left."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass
class Server:
    """A server process of ours listening on a loopback port."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        stop_process_group(self.process)


def start_server(
    cmd: list[str],
    env: dict[str, str],
    port: int,
    log: Path,
    path: str = "",
    cwd: Path | None = None,
    timeout: float = 60.0,
) -> Server:
    """Start ``cmd`` in a session of its own, output to ``log``; wait for ``port``."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            cmd,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}{path}", process, log)
    try:
        wait_for_port(port, timeout=timeout)
    except TimeoutError:
        server.stop()
        raise RuntimeError(f"{cmd} did not start:\n{log.read_text()[-3000:]}") from None
    return server


@contextmanager
def api_server(mongo_uri: str, db_name: str, log: Path, **env: str) -> Iterator[Server]:
    """``python -m graphql_api`` on a free port over ``mongo_uri``/``db_name``."""
    port = free_port()
    environ = {
        **os.environ,
        "MONGO_URI": mongo_uri,
        "MONGO_DB": db_name,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "KEDRO_DISABLE_TELEMETRY": "1",
        **env,
    }
    server = start_server(
        [sys.executable, "-m", "graphql_api"],
        environ,
        port,
        log,
        cwd=Path(__file__).resolve().parents[1],
        timeout=30,
    )
    try:
        yield server
    finally:
        server.stop()


@dataclass
class MongoServer:
    """An ``nx-27017`` process (MongoDB wire protocol over SQLite) on a loopback port.

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
        log = self.db_path.with_suffix(".log")
        self.process = subprocess.Popen(
            [
                str(BIN / "nx-27017"),
                "--db",
                str(self.db_path),
                "-p",
                str(self.port),
                "--log-file",
                str(log),
                "--pid-file",
                str(self.db_path.with_suffix(".pid")),
            ],
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
    server = MongoServer(db_path=db_path, port=free_port()).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class S3Server:
    """moto's standalone S3 server (real HTTP) on a loopback port."""

    port: int
    key: str = "testing-key"
    secret: str = "testing-secret"  # noqa: S105 - moto accepts any key pair

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, bucket: str) -> dict[str, str]:
        """The environment ``kedro run --env minio`` reads (conf/minio/credentials.yml)."""
        return {
            "AWS_ACCESS_KEY_ID": self.key,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "S3_ENDPOINT_URL": self.endpoint_url,
            "LAKE_BUCKET": bucket,
        }

    def credentials(self) -> dict[str, object]:
        return {
            "key": self.key,
            "secret": self.secret,
            "client_kwargs": {"endpoint_url": self.endpoint_url},
        }


@contextmanager
def s3_server() -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        wait_for_port(port)
        yield S3Server(port=port)
    finally:
        server.stop()
