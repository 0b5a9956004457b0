"""``medallion-mongo start|stop|status`` against real nx-27017 processes on free ports."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest

from medallion_kedro.mongo_server import PID_FILE, answers, default_port, main
from tests.servers import MongoServer, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def data_dir(tmp_path: Path, port: int) -> Iterator[Path]:
    """The server's folder; whatever the test started on ``port`` is stopped afterwards."""
    folder = tmp_path / "mongo"
    yield folder
    main(["stop", "--port", str(port), "--data-dir", str(folder)])


def _args(command: str, port: int, data_dir: Path) -> list[str]:
    return [command, "--port", str(port), "--data-dir", str(data_dir)]


def test_start_status_stop(port: int, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args("status", port, data_dir)) == 3
    assert main(_args("start", port, data_dir)) == 0
    assert answers("127.0.0.1", port)
    pid = int((data_dir / PID_FILE).read_text())
    assert (data_dir / "medallion.db").exists()

    assert main(_args("start", port, data_dir)) == 0  # already answering: nothing to do
    assert int((data_dir / PID_FILE).read_text()) == pid
    assert "nothing to do" in capsys.readouterr().out

    assert main(_args("status", port, data_dir)) == 0
    assert f"PID {pid}" in capsys.readouterr().out
    assert main(_args("stop", port, data_dir)) == 0
    assert not answers("127.0.0.1", port) and not (data_dir / PID_FILE).exists()
    assert main(_args("stop", port, data_dir)) == 0  # stopping twice is fine


def test_data_survive_a_restart(port: int, data_dir: Path) -> None:
    uri = f"mongodb://127.0.0.1:{port}/"
    kept: dict[str, Any] = {"_id": "kpis", "total_orders": 3}
    assert main(_args("start", port, data_dir)) == 0
    with pymongo.MongoClient[dict[str, Any]](uri) as client:
        client.medallion.kept.insert_one(kept)
    assert main(_args("stop", port, data_dir)) == 0
    assert main(_args("start", port, data_dir)) == 0
    with pymongo.MongoClient[dict[str, Any]](uri) as client:
        assert client.medallion.kept.find_one() == kept


def test_refuses_a_server_it_did_not_start_and_says_whose_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another checkout's server on the port: refused, named, and the way out is given."""
    other_checkout = tmp_path / "other"
    other_port = free_port()
    other_dir = other_checkout / "data" / "mongo"
    assert main(_args("start", other_port, other_dir)) == 0  # "the other checkout" starts it
    other_pid = int((other_dir / PID_FILE).read_text())
    capsys.readouterr()
    try:
        data_dir = tmp_path / "mine" / "data" / "mongo"
        assert main(_args("start", other_port, data_dir)) == 4
        err = capsys.readouterr().err
        assert (
            f"Port {other_port} is served by a MongoDB-compatible server that this checkout" in err
        )
        assert f"PID {other_pid}" in err and "nx-27017" in err
        assert str(other_dir / "medallion.db") in err  # its data, from its command line
        assert f"MONGO_PORT={other_port + 1}" in err and "MONGO_URI=" in err
        assert not (data_dir / PID_FILE).exists()  # nothing started, nothing adopted

        assert main(_args("status", other_port, data_dir)) == 0
        out = capsys.readouterr().out
        assert "NOT started by this checkout" in out and f"PID {other_pid}" in out

        assert main([*_args("start", other_port, data_dir), "--use-existing"]) == 0
        assert "--use-existing" in capsys.readouterr().out
        assert main(_args("stop", other_port, data_dir)) == 1  # not ours: left alone
        assert answers("127.0.0.1", other_port)
    finally:
        main(_args("stop", other_port, other_dir))


def test_a_foreign_server_is_named_even_without_process_details(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A server started some other way (not by medallion-mongo): its process is still named."""
    other = MongoServer(db_path=tmp_path / "other.db", port=free_port()).start()
    try:
        data_dir = tmp_path / "mongo"
        assert main(_args("start", other.port, data_dir)) == 4
        err = capsys.readouterr().err
        assert other.process is not None
        assert f"PID {other.process.pid}" in err and str(tmp_path / "other.db") in err
        assert answers("127.0.0.1", other.port)
    finally:
        other.stop()


def test_port_comes_from_mongo_port_or_mongo_uri(
    port: int, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert default_port({}) == 27017
    assert default_port({"MONGO_URI": "mongodb://u:p@127.0.0.1:28001/?authSource=admin"}) == 28001
    assert default_port({"MONGO_PORT": "28002", "MONGO_URI": "mongodb://h:28001"}) == 28002
    monkeypatch.delenv("MONGO_PORT", raising=False)
    monkeypatch.setenv("MONGO_URI", f"mongodb://127.0.0.1:{port}")
    assert main(["start", "--data-dir", str(data_dir)]) == 0
    assert answers("127.0.0.1", port)
    assert f":{port}/" in capsys.readouterr().out


def test_console_script_is_installed(port: int, data_dir: Path) -> None:
    script = Path(sys.executable).parent / "medallion-mongo"
    result = subprocess.run(
        [str(script), *_args("status", port, data_dir)], capture_output=True, text=True
    )
    assert result.returncode == 3 and "medallion-mongo start" in result.stdout


def test_the_way_out_starts_this_checkouts_own_server(tmp_path: Path) -> None:
    """The README's way out, as written: `export MONGO_PORT=… MONGO_URI=…` then
    `medallion-mongo start` in the checkout starts its own server on that port."""
    script = Path(sys.executable).parent / "medallion-mongo"
    mine = tmp_path / "mine"
    mine.mkdir()
    taken, own = free_port(), free_port()
    other_dir = tmp_path / "other" / "data" / "mongo"
    assert main(_args("start", taken, other_dir)) == 0  # another checkout's server
    try:
        refused = subprocess.run(
            [str(script), "start"], cwd=mine, capture_output=True, text=True, timeout=60,
            env={**os.environ, "MONGO_PORT": str(taken)},
        )  # fmt: skip
        assert refused.returncode == 4, refused.stderr
        env = {**os.environ, "MONGO_PORT": str(own), "MONGO_URI": f"mongodb://127.0.0.1:{own}"}
        started = subprocess.run(
            [str(script), "start"], cwd=mine, env=env, capture_output=True, text=True, timeout=60
        )
        assert started.returncode == 0, started.stderr
        assert answers("127.0.0.1", own)
        assert (mine / "data" / "mongo" / PID_FILE).exists()  # this checkout's own
        assert answers("127.0.0.1", taken)  # the other one is left alone
    finally:
        main(_args("stop", own, mine / "data" / "mongo"))
        main(_args("stop", taken, other_dir))
    assert not answers("127.0.0.1", own)
