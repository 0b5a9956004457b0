"""``medallion-mongo start|stop|status`` against real nx-27017 processes on free ports."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest

from medallion_kedro.mongo_server import PID_FILE, answers, main
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


def test_does_nothing_when_another_server_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = MongoServer(db_path=tmp_path / "other.db", port=free_port()).start()
    try:
        data_dir = tmp_path / "mongo"
        assert main(_args("start", other.port, data_dir)) == 0
        assert "already answers" in capsys.readouterr().out
        assert not (data_dir / PID_FILE).exists()
        assert main(_args("stop", other.port, data_dir)) == 1  # not ours: left alone
        assert answers("127.0.0.1", other.port)
    finally:
        other.stop()


def test_console_script_is_installed(port: int, data_dir: Path) -> None:
    script = Path(sys.executable).parent / "medallion-mongo"
    result = subprocess.run(
        [str(script), *_args("status", port, data_dir)], capture_output=True, text=True
    )
    assert result.returncode == 3 and "medallion-mongo start" in result.stdout
