"""Free loopback ports and server processes in sessions of their own."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: the folder of this virtualenv's executables (python, nx-27017, kedro)
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
