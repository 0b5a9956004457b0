"""Real ``kedro run --pipelines export`` processes while real readers query the API over HTTP.

Two exports of different lakes run at once (told to replace each other's manifest,
``replace_other_lake``); a reader loop checks, in every response,
that ``kpis.totalCustomers`` equals ``customers.totalCount`` (two collections of one run)
and that the page is never empty. Afterwards the manifest names one complete run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pymongo
import pytest

from medallion_dev.gold_samples import write_gold_lake
from medallion_kedro.datasets import _mongo_write as mw
from medallion_kedro.datasets import mongo_manifest as mm
from tests.servers import MongoServer, api_server, mongo_server

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DB = "readers"
QUERY = "{ kpis { totalCustomers } customers(first: 20) { totalCount edges { node { id } } } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    with mongo_server(tmp_path_factory.mktemp("readers") / "readers.db") as srv:
        yield srv


def _export(server: MongoServer, lake: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LAKE_PATH": str(lake),
        "MONGO_URI": server.uri,
        "MONGO_DB": DB,
        "KEDRO_DISABLE_TELEMETRY": "1",
    }
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "kedro"),
            "run",
            "--pipelines",
            "export",
            "--params",
            "replace_other_lake=true",
        ],  # fmt: skip
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


class Reader(threading.Thread):
    """Queries the API in a loop; records every response that is wrong."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.problems: list[str] = []
        self.seen: list[tuple[float, int]] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self.stop.is_set():
                body: dict[str, Any] = client.post("/graphql", json={"query": QUERY}).json()
                data = body.get("data") or {}
                if body.get("errors") or not data:
                    self.problems.append(f"error: {body}")
                    continue
                total, page = data["kpis"]["totalCustomers"], data["customers"]
                if total != page["totalCount"]:
                    self.problems.append(f"mixed: kpis {total}, customers {page['totalCount']}")
                if not page["edges"]:
                    self.problems.append("empty customers page")
                self.seen.append((time.monotonic(), total))


def test_concurrent_exports_never_show_readers_mixed_or_empty_data(
    server: MongoServer, tmp_path: Path
) -> None:
    lakes = {n: write_gold_lake(tmp_path / f"lake{n}", n) for n in (1500, 2500, 2000)}
    first = _export(server, lakes[1500])
    assert first.wait(timeout=300) == 0, first.stdout.read() if first.stdout else ""
    with api_server(server.uri, DB, tmp_path / "api.log") as api:
        reader = Reader(api.url)
        reader.start()
        try:
            racing = [_export(server, lakes[2500]), _export(server, lakes[2000])]
            outputs = [p.communicate(timeout=300)[0].decode() for p in racing]
            codes = [p.returncode for p in racing]
            assert 0 in codes, outputs
            for code, output in zip(codes, outputs, strict=True):
                assert code == 0 or "published nothing" in output, output
            last = _export(server, lakes[1500])
            assert last.wait(timeout=300) == 0
            landed = time.monotonic()
            time.sleep(1.5)
        finally:
            reader.stop.set()
            reader.join(timeout=30)
    assert reader.problems == [], reader.problems[:5]
    assert len(reader.seen) > 50
    totals = {total for _, total in reader.seen}
    assert 1500 in totals and totals & {2000, 2500}  # the readers did see the exports land
    after = [total for at, total in reader.seen if at > landed + 1.0]
    assert after and set(after) == {1500}, "the last export was not served within a second"
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(server.uri)
    try:
        db = client[DB]
        manifest = mm.read_manifest(db)
        assert manifest is not None
        for entry in manifest["collections"].values():
            assert db[entry["name"]].count_documents({}) == entry["documents"]
            assert mw.collection_checksum(db[entry["name"]]) == entry["checksum"]
        assert manifest["collections"]["customer_metrics"]["documents"] == 1500
        assert db[mm.LEASES].count_documents({"database": DB}) == 0
    finally:
        client.close()
