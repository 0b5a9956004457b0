"""``medallion-mongo start|stop|status``: the local MongoDB-compatible server (nx-27017).

The embedded default (``mongodb://127.0.0.1:27017``) needs a server that speaks the
MongoDB wire protocol; ``nx-27017`` (SQLite underneath) is installed with the project.
``start`` runs it in the background with its database, log and PID files under
``data/mongo/`` and returns once it answers ``ping``; it does nothing when something
already answers on the port. ``stop`` ends the process named by the PID file only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
from pymongo import MongoClient
from pymongo.errors import PyMongoError

DB_FILE = "medallion.db"
PID_FILE = "nx-27017.pid"
LOG_FILE = "nx-27017.log"
OUT_FILE = "nx-27017.out"

EXIT_OK, EXIT_FAILED, EXIT_NOT_RUNNING = 0, 1, 3


def _uri(host: str, port: int) -> str:
    local = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - bind-all, ping loopback
    return f"mongodb://{local}:{port}/"


def answers(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """True when a MongoDB-compatible server on ``host:port`` answers ``ping``."""
    ms = int(timeout_s * 1000)
    client: MongoClient[dict[str, object]] = MongoClient(
        _uri(host, port),
        directConnection=True,
        serverSelectionTimeoutMS=ms,
        connectTimeoutMS=ms,
        socketTimeoutMS=ms,
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def _executable() -> str:
    sibling = Path(sys.executable).parent / "nx-27017"
    found = str(sibling) if sibling.exists() else shutil.which("nx-27017")
    if not found:
        raise SystemExit("nx-27017 is not installed: pip install nx-27017 (or the project).")
    return found


def _read_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def _is_ours(pid: int) -> bool:
    """The PID is alive and runs nx-27017 (not an unrelated process that reused the PID)."""
    try:
        cmdline = " ".join(psutil.Process(pid).cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return "nx-27017" in cmdline or "nx_27017" in cmdline


def _log_tail(data_dir: Path, lines: int = 15) -> str:
    chunks = []
    for name in (OUT_FILE, LOG_FILE):
        path = data_dir / name
        if path.exists():
            chunks.extend(path.read_text(errors="replace").splitlines()[-lines:])
    return "\n".join(chunks)


def start(host: str, port: int, data_dir: Path, timeout_s: float = 30.0) -> int:
    if answers(host, port):
        print(f"A MongoDB-compatible server already answers on {_uri(host, port)}; nothing to do.")
        return EXIT_OK
    data_dir.mkdir(parents=True, exist_ok=True)
    pid = _read_pid(data_dir)
    if pid is not None and _is_ours(pid):
        print(
            f"nx-27017 (PID {pid}) runs but does not answer on port {port}: "
            "run `medallion-mongo stop` first, or pick another --port.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    (data_dir / PID_FILE).unlink(missing_ok=True)  # stale: nx-27017 refuses to start over it
    command = [
        _executable(), "--db", str(data_dir / DB_FILE), "--host", host, "-p", str(port),
        "--log-file", str(data_dir / LOG_FILE), "--pid-file", str(data_dir / PID_FILE),
    ]  # fmt: skip
    with (data_dir / OUT_FILE).open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed executable and arguments
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            print(
                f"nx-27017 exited with code {process.returncode} before answering on "
                f"port {port}. Is the port taken? Log:\n{_log_tail(data_dir)}",
                file=sys.stderr,
            )
            return EXIT_FAILED
        if answers(host, port, timeout_s=0.5):
            (data_dir / PID_FILE).write_text(f"{process.pid}\n")
            print(
                f"nx-27017 answers on {_uri(host, port)} (PID {process.pid}, "
                f"database {data_dir / DB_FILE})."
            )
            return EXIT_OK
        time.sleep(0.1)
    _terminate(process.pid)
    print(
        f"nx-27017 did not answer on port {port} within {timeout_s:.0f}s; stopped it. "
        f"Log:\n{_log_tail(data_dir)}",
        file=sys.stderr,
    )
    return EXIT_FAILED


def _terminate(pid: int, timeout_s: float = 10.0) -> None:
    try:
        proc = psutil.Process(pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=timeout_s)
    except psutil.TimeoutExpired:
        os.kill(pid, signal.SIGKILL)
    except psutil.NoSuchProcess:
        pass


def stop(host: str, port: int, data_dir: Path) -> int:
    pid = _read_pid(data_dir)
    if pid is None or not _is_ours(pid):
        (data_dir / PID_FILE).unlink(missing_ok=True)
        if answers(host, port):
            print(
                f"A server answers on {_uri(host, port)} but medallion-mongo did not start it "
                f"(no live PID file in {data_dir}); stop it the way it was started.",
                file=sys.stderr,
            )
            return EXIT_FAILED
        print("nx-27017 is not running.")
        return EXIT_OK
    _terminate(pid)
    (data_dir / PID_FILE).unlink(missing_ok=True)
    print(f"Stopped nx-27017 (PID {pid}).")
    return EXIT_OK


def status(host: str, port: int, data_dir: Path) -> int:
    pid = _read_pid(data_dir)
    owner = f" (nx-27017, PID {pid})" if pid is not None and _is_ours(pid) else ""
    if answers(host, port):
        print(f"MongoDB-compatible server answering on {_uri(host, port)}{owner}.")
        return EXIT_OK
    print(f"Nothing answers on {_uri(host, port)}: run `medallion-mongo start`.")
    return EXIT_NOT_RUNNING


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medallion-mongo", description="Local MongoDB-compatible server (nx-27017)."
    )
    parser.add_argument("command", choices=("start", "stop", "status"))
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=27017, help="port (default 27017)")
    parser.add_argument(
        "--data-dir", type=Path, default=Path("data/mongo"),
        help="database, log and PID files (default data/mongo)",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for ping")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    data_dir = args.data_dir.resolve()
    if args.command == "start":
        return start(args.host, args.port, data_dir, args.timeout)
    if args.command == "stop":
        return stop(args.host, args.port, data_dir)
    return status(args.host, args.port, data_dir)


if __name__ == "__main__":
    sys.exit(main())
