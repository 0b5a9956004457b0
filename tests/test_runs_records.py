"""Row counting and the run-history frames, without a Kedro session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from medallion_kedro.runs import history, latest
from medallion_kedro.runs.counting import cheap_rows, is_bare_parquet_scan, rows_by_reason
from medallion_kedro.runs.records import NodeRecord, node_runs_frame, runs_frame

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_counts_frames_and_parquet_scans_but_not_other_plans(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pl.DataFrame({"a": range(5)}).write_parquet(path)
    scan = pl.scan_parquet(path)
    assert cheap_rows(pl.DataFrame({"a": [1, 2]})) == 2
    assert is_bare_parquet_scan(scan) and cheap_rows(scan) == 5
    filtered = scan.filter(pl.col("a") > 2)
    assert not is_bare_parquet_scan(filtered) and cheap_rows(filtered) is None
    pl.DataFrame({"a": [1]}).write_csv(tmp_path / "t.csv")
    assert cheap_rows(pl.scan_csv(tmp_path / "t.csv")) is None  # would read the whole file
    assert cheap_rows({"not": "a table"}) is None


def test_rows_by_reason() -> None:
    rejected = pl.DataFrame({"id": [1, 2, 3], "reason": ["bad", "bad", "dup"]})
    assert rows_by_reason(rejected, "orders", "rejected") == [
        {"table": "orders", "kind": "rejected", "reason": "bad", "rows": 2},
        {"table": "orders", "kind": "rejected", "reason": "dup", "rows": 1},
    ]
    assert rows_by_reason(pl.DataFrame({"id": [1]}), "orders", "rejected") == []


def _run(run_id: str, status: str, minutes: int, started: int = 0) -> dict[str, object]:
    return {
        "run_id": run_id,
        "status": status,
        "started_at": T0 + timedelta(minutes=started),
        "updated_at": T0 + timedelta(minutes=minutes),
    }


def test_latest_takes_the_last_state_of_each_run_newest_run_first() -> None:
    runs = runs_frame(
        [
            _run("a", "running", 0),
            _run("b", "running", 5, started=5),
            _run("a", "succeeded", 3),
            _run("b", "killed", 30, started=5),
        ]
    )
    current = latest(runs)
    assert current.select("run_id", "status").rows() == [("b", "killed"), ("a", "succeeded")]
    assert latest(runs_frame([])).is_empty()


def test_history_nests_each_runs_nodes_in_order() -> None:
    runs = runs_frame([_run("a", "succeeded", 1), _run("b", "failed", 9, started=8)])
    nodes = pl.concat(
        [
            node_runs_frame(
                "a",
                [
                    NodeRecord(2, "second", ["gold"], T0, T0 + timedelta(seconds=2)),
                    NodeRecord(1, "first", ["silver"], T0, T0, inputs={"x": 3}, outputs={}),
                ],
            ),
            node_runs_frame("c", [NodeRecord(1, "other", [], T0, T0)]),
        ]
    )
    table = history(runs, nodes)
    assert table["run_id"].to_list() == ["b", "a"]
    assert table["nodes"][0].to_list() == []
    a_nodes = table["nodes"][1].to_list()
    assert [n["node"] for n in a_nodes] == ["first", "second"]
    assert a_nodes[0]["rows_in"] == 3 and a_nodes[1]["seconds"] == 2.0
    assert history(runs, nodes, last=1)["run_id"].to_list() == ["b"]
    assert history(runs, node_runs_frame("a", []))["nodes"].to_list() == [[], []]


def test_provenance_outside_git_and_process_liveness(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from medallion_kedro.runs.provenance import git_commit, process_gone

    assert git_commit(tmp_path) == (None, None)
    now = datetime.now(UTC)
    assert not process_gone(os.getpid(), now)  # this process, running since before `now`
    assert not process_gone(os.getpid(), None)
    # a run from long before this process was created: its PID was reused since
    assert process_gone(os.getpid(), now - timedelta(days=365))
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert process_gone(int(ended.stdout), now)
    assert process_gone(None, now)
