"""``medallion-mongo start|stop|status``: the local MongoDB-compatible server (nx-27017).

The embedded default (``mongodb://127.0.0.1:27017``) needs a server that speaks the
MongoDB wire protocol; ``nx-27017`` (SQLite underneath) is installed with the project.
``start`` runs it in the background with its database, log and PID files under
``data/mongo/`` and returns once it answers ``ping``. ``stop`` ends the process named by
the PID file only.

A server that already answers on the port is used only when it is this checkout's (the PID
file of ``--data-dir`` names it). Anyone else's server — another checkout's nx-27017, a
system ``mongod`` — is refused with what can be told about it (PID, command, data folder,
the checkout that started it) and how to pick another port: two checkouts sharing one server
would export into the same database and serve each other's numbers. ``--use-existing``
accepts such a server knowingly.

The port is ``--port``, else ``MONGO_PORT``, else the port of ``MONGO_URI``, else 27017, so
the one variable the pipelines and the API read also moves the server.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from medallion_dev.mongo import nx_command

DB_FILE = "medallion.db"
PID_FILE = "nx-27017.pid"
LOG_FILE = "nx-27017.log"
OUT_FILE = "nx-27017.out"

EXIT_OK, EXIT_FAILED, EXIT_NOT_RUNNING, EXIT_FOREIGN = 0, 1, 3, 4
DEFAULT_PORT = 27017
#: where ``start`` stamps the server it started with its checkout (one small document)
OWNER_DB, OWNER_COLLECTION = "medallion_server", "owner"


def _uri(host: str, port: int) -> str:
    local = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - bind-all, ping loopback
    return f"mongodb://{local}:{port}/"


def _client(host: str, port: int, timeout_s: float = 1.0) -> MongoClient[dict[str, Any]]:
    ms = int(timeout_s * 1000)
    return MongoClient(
        _uri(host, port),
        directConnection=True,
        serverSelectionTimeoutMS=ms,
        connectTimeoutMS=ms,
        socketTimeoutMS=ms,
    )


def answers(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """True when a MongoDB-compatible server on ``host:port`` answers ``ping``."""
    try:
        with _client(host, port, timeout_s) as client:
            client.admin.command("ping")
    except PyMongoError:
        return False
    return True


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


def default_port(env: dict[str, str] | None = None) -> int:
    """``MONGO_PORT``, else the port of ``MONGO_URI``, else 27017."""
    env = dict(os.environ) if env is None else env
    if env.get("MONGO_PORT", "").strip():
        return int(env["MONGO_PORT"])
    uri = env.get("MONGO_URI", "").strip()
    if uri:
        try:
            port = urlsplit(uri).port
        except ValueError:
            port = None
        if port:
            return port
    return DEFAULT_PORT


def _stamp_owner(host: str, port: int, data_dir: Path, pid: int) -> None:
    """Leave in the server which checkout started it, for whoever finds it on the port."""
    owner = {
        "_id": "owner",
        "checkout": str(Path.cwd()),
        "data_dir": str(data_dir),
        "pid": pid,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    with _client(host, port, 2.0) as client:
        client[OWNER_DB][OWNER_COLLECTION].replace_one({"_id": "owner"}, owner, upsert=True)


def _read_owner(host: str, port: int) -> dict[str, Any] | None:
    try:
        with _client(host, port) as client:
            return client[OWNER_DB][OWNER_COLLECTION].find_one({"_id": "owner"})
    except PyMongoError:
        return None


def _listener(port: int) -> int | None:
    """PID of the process listening on TCP ``port``, when the system lets us see it."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):
        return None
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            return conn.pid
    return None


def _data_dir_of(cmdline: list[str], cwd: str | None) -> str | None:
    """The data folder or file named on a MongoDB-like server's command line."""
    for flag in ("--db", "--data-dir", "--dbpath"):
        for i, arg in enumerate(cmdline):
            value = cmdline[i + 1] if arg == flag and i + 1 < len(cmdline) else None
            if arg.startswith(flag + "="):
                value = arg.split("=", 1)[1]
            if value:
                return str(Path(cwd or ".", value)) if not Path(value).is_absolute() else value
    return None


def describe_server(host: str, port: int) -> list[str]:
    """What can be told about whoever serves ``host:port``: process, data, checkout."""
    facts: list[str] = []
    pid = _listener(port)
    if pid is not None:
        try:
            proc = psutil.Process(pid)
            cmdline = proc.cmdline()
            try:
                cwd: str | None = proc.cwd()
            except (psutil.AccessDenied, OSError):
                cwd = None
            command = " ".join(cmdline)
            command = command if len(command) <= 160 else command[:157] + "..."
            facts.append(f"process PID {pid} of user {proc.username()}: {command}")
            data = _data_dir_of(cmdline, cwd)
            if data:
                facts.append(f"data    {data}")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            facts.append(f"process PID {pid}")
    owner = _read_owner(host, port)
    if owner:
        facts.append(
            f"started by medallion-mongo in checkout {owner.get('checkout')} "
            f"(data {owner.get('data_dir')}) at {owner.get('started_at')}"
        )
    return facts or ["a process this user cannot inspect"]


def _is_this_checkouts(port: int, data_dir: Path) -> int | None:
    """PID of this checkout's nx-27017 (PID file in ``data_dir``) when it serves ``port``."""
    pid = _read_pid(data_dir)
    if pid is None or not _is_ours(pid):
        return None
    listener = _listener(port)
    if listener is None or listener == pid:
        return pid
    try:  # a launcher whose child serves the port
        family = {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return pid if listener in family else None


def _own_server(port: int, data_dir: Path) -> str | None:
    """Says which of this checkout's servers serves ``port``; None when it is not ours."""
    pid = _is_this_checkouts(port, data_dir)
    if pid is None:
        return None
    return f"this checkout's nx-27017, PID {pid}, database {data_dir / DB_FILE}"


def _refuse_foreign(host: str, port: int, data_dir: Path) -> int:
    other = port + 1
    print(
        f"Port {port} is served by a MongoDB-compatible server that this checkout did not start "
        f"(no live PID file in {data_dir}):\n  " + "\n  ".join(describe_server(host, port)) + "\n"
        "Using it would export into, and serve, that server's databases. Either start this "
        f"checkout's own server on another port:\n"
        f"  export MONGO_PORT={other} MONGO_URI=mongodb://127.0.0.1:{other}\n"
        f"  medallion-mongo start          # or: medallion-mongo start --port {other}\n"
        "(MONGO_URI is what `kedro run` and the API read), or, if sharing that server is "
        "what you want, run `medallion-mongo start --use-existing` and give this checkout a "
        "database of its own with MONGO_DB.",
        file=sys.stderr,
    )
    return EXIT_FOREIGN


def start(
    host: str, port: int, data_dir: Path, timeout_s: float = 30.0, use_existing: bool = False
) -> int:
    if answers(host, port):
        own = _own_server(port, data_dir)
        if own is not None:
            print(f"{_uri(host, port)} already answers ({own}); nothing to do.")
            return EXIT_OK
        if not use_existing:
            return _refuse_foreign(host, port, data_dir)
        print(
            f"Using the server that already answers on {_uri(host, port)} (--use-existing): "
            f"{'; '.join(describe_server(host, port))}."
        )
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
    command = nx_command(
        data_dir / DB_FILE, port, data_dir / LOG_FILE, data_dir / PID_FILE, host=host
    )
    with (data_dir / OUT_FILE).open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed executable and arguments
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
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
            try:
                _stamp_owner(host, port, data_dir, process.pid)
            except PyMongoError as exc:  # the server runs; only the courtesy note is missing
                print(f"note: could not record this checkout as the server's owner: {exc}")
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
    if answers(host, port):
        own = _own_server(port, data_dir)
        if own is not None:
            print(f"MongoDB-compatible server answering on {_uri(host, port)} ({own}).")
        else:
            print(
                f"MongoDB-compatible server answering on {_uri(host, port)}, NOT started by "
                f"this checkout: {'; '.join(describe_server(host, port))}."
            )
        return EXIT_OK
    print(f"Nothing answers on {_uri(host, port)}: run `medallion-mongo start`.")
    return EXIT_NOT_RUNNING


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medallion-mongo", description="Local MongoDB-compatible server (nx-27017)."
    )
    parser.add_argument("command", choices=("start", "stop", "status"))
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"port (default: MONGO_PORT, else the port of MONGO_URI, else {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path("data/mongo"),
        help="database, log and PID files (default data/mongo)",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for ping")
    parser.add_argument(
        "--use-existing",
        action="store_true",
        help="accept a server on the port that this checkout did not start",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    data_dir = args.data_dir.resolve()
    port = args.port if args.port is not None else default_port()
    if args.command == "start":
        return start(args.host, port, data_dir, args.timeout, args.use_existing)
    if args.command == "stop":
        return stop(args.host, port, data_dir)
    return status(args.host, port, data_dir)


if __name__ == "__main__":
    sys.exit(main())
