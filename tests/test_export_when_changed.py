"""``kedro run`` publishes to MongoDB only when gold changed, through real processes on a
temporary lake and a real nx-27017 server: unchanged gold keeps the published run, new
data publishes, and gold whose export failed is published by the next plain run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pymongo
import pytest

from medallion_kedro.datasets import mongo_manifest as mm
from tests import handmade as hm
from tests.kedro_run import PROJECT_ROOT
from tests.servers import MongoServer, free_port

pytestmark = pytest.mark.slow


def _orders(ids: range) -> list[str]:
    return [f"{i},1,2026-10-0{1 + i % 9} 10:00:00,10.00,laptop" for i in ids]


def test_kedro_run_exports_only_when_gold_changed(
    tmp_path: Path, mongo: MongoServer, mongo_db_name: str
) -> None:
    lake = tmp_path / "lake"
    env = {
        **os.environ,
        "LAKE_PATH": str(lake),
        "KEDRO_DISABLE_TELEMETRY": "1",
        "MONGO_URI": mongo.uri,
        "MONGO_DB": mongo_db_name,
        "COLUMNS": "1000",  # one log record on one line
    }

    def kedro(*args: str, uri: str = mongo.uri, ok: bool = True) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "kedro", "run", *args], cwd=PROJECT_ROOT,
            env={**env, "MONGO_URI": uri}, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        assert (done.returncode == 0) == ok, done.stdout[-3000:] + done.stderr[-3000:]
        return done.stdout + done.stderr

    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo.uri)
    db = client[mongo_db_name]

    def published() -> tuple[str, int]:
        manifest = mm.read_manifest(db)
        assert manifest is not None
        return str(manifest["run_id"]), db[mm.HISTORY].count_documents({"database": db.name})

    def gold_run() -> str:
        return str(json.loads((lake / "_lake.json").read_text())["tables"]["gold.kpis"]["run_id"])

    try:
        customers = [f"{i},Name {i},c{i}@example.com,2024-01-0{i},France" for i in range(1, 4)]
        hm.drop_batch(lake, "customers", "c1.csv", customers)
        hm.drop_batch(lake, "orders", "o1.csv", _orders(range(1, 6)))
        kedro()
        first = published()

        # nothing new and MongoDB publishes this gold: nothing runs
        assert "Nothing new: every landing file" in kedro()
        assert published() == first

        # gold rebuilt from the same silver (same content, new lake versions): the plain
        # run sees MongoDB names older versions, runs the export alone, which keeps the run
        kedro("--pipelines", "gold")
        out = kedro()
        assert (
            f"but MongoDB publishes export run {first[0]}, not gold run {gold_run()}: running "
            "the export." in out
        )
        assert f"Export skipped: the gold tables are unchanged since export run {first[0]}" in out
        assert published() == first
        assert "Nothing new: every landing file" in kedro()  # the kept manifest noted them

        # forced: published although unchanged
        kedro("--pipelines", "export", "--params", "force_export=true")
        forced = published()
        assert forced[0] != first[0] and forced[1] == first[1] + 1

        # a new batch whose export fails (MongoDB unreachable): the lake has the new gold,
        # MongoDB the old; the next plain run publishes it without new data
        hm.drop_batch(lake, "orders", "o2.csv", _orders(range(6, 9)))
        failed = kedro(uri=f"mongodb://127.0.0.1:{free_port()}", ok=False)
        assert "Cannot reach MongoDB" in failed
        assert published() == forced
        out = kedro()
        assert f"but MongoDB publishes export run {forced[0]}" in out
        latest = published()
        assert latest[0] != forced[0]
        manifest = mm.read_manifest(db)
        assert manifest is not None and manifest["sources"]["kpis"]["lake_run_id"] == gold_run()
        assert manifest["sources"]["customer_metrics"]["rows"] == 3

        # nothing new, MongoDB unreachable: the check says so and the run fails
        unreachable = kedro(uri=f"mongodb://127.0.0.1:{free_port()}", ok=False)
        assert "could not be checked: Cannot reach MongoDB" in unreachable
        assert "Nothing new: every landing file" in kedro()
    finally:
        client.close()
