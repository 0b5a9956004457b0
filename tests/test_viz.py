"""Kedro-Viz serves the lineage of every lake dataset, with previews, over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import polars as pl
import pytest
from deltalake import DeltaTable

from medallion_kedro.lake import read_table
from tests import handmade as hm
from tests.kedro_run import PROJECT_ROOT, kedro_run, project_copy
from tests.servers import free_port

LAYERS = ["landing", "bronze", "silver", "quality", "gold"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project root of this module's own: the statistics Kedro-Viz shows live in it."""
    return project_copy(tmp_path_factory.mktemp("viz") / "project")


@pytest.fixture(scope="module")
def lake(project: Path) -> Path:
    """A lake built from the hand-made landing files by a real run (which records stats)."""
    lake = project.parent / "lake"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKE_PATH", str(lake))
        hm.write_landing(lake)
        kedro_run(["bronze", "silver", "gold"], project=project)
    return lake


@pytest.fixture(scope="module")
def viz(project: Path, lake: Path) -> Iterator[str]:
    port = free_port(below=49_000)  # Kedro-Viz refuses ports above 49151
    env = {**os.environ, "LAKE_PATH": str(lake), "KEDRO_DISABLE_TELEMETRY": "1"}
    log = (lake.parent / "viz.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kedro",
            "viz",
            "run",
            "--no-browser",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/main", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail("kedro viz exited: " + (lake.parent / "viz.log").read_text()[-2000:])
            time.sleep(0.5)
        else:
            pytest.fail("kedro viz did not answer within 90 s")
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # viz leaves a child serving: stop the group
            proc.wait(timeout=20)
        log.close()


def test_every_lake_dataset_is_in_its_layer_with_a_preview(viz: str) -> None:
    main = httpx.get(f"{viz}/api/main", timeout=10).json()
    assert set(LAYERS) <= set(main["layers"])
    data = {n["name"]: n for n in main["nodes"] if n["type"] == "data"}
    expected = {
        "landing.customers",
        "landing.orders",
        "bronze.customers",
        "bronze.orders",
        "silver.customers",
        "silver.orders",
        "quality.rejected_customers",
        "quality.rejected_orders",
        "quality.reconciliation",
        "gold.kpis",
        "gold.revenue_by_country",
        "gold.revenue_by_product",
        "gold.monthly_revenue",
        "gold.customer_metrics",
    }
    assert expected <= set(data)
    for name in expected:
        node = data[name]
        assert node["layer"] == name.split(".")[0], name
        response = httpx.get(f"{viz}/api/nodes/{node['id']}", timeout=10)
        assert response.status_code == 200, (name, response.status_code, response.text[:300])
        detail = response.json()
        preview = detail.get("preview")
        assert preview and preview["columns"] and preview["data"], name
    kpis = httpx.get(f"{viz}/api/nodes/{data['gold.kpis']['id']}", timeout=10).json()
    assert "total_revenue" in kpis["preview"]["columns"]
    edges = {(e["source"], e["target"]) for e in main["edges"]}
    candidates = next(n["id"] for n in main["nodes"] if n["name"] == "candidate_orders")
    assert (data["bronze.orders"]["id"], candidates) in edges


def test_layers_are_drawn_in_lake_order(viz: str) -> None:
    layers = httpx.get(f"{viz}/api/main", timeout=10).json()["layers"]
    assert set(layers) == {*LAYERS, "export"}
    position = {layer: i for i, layer in enumerate(layers)}
    # Kedro-Viz orders bands by dependency: each of these is a path in the graph.
    for before, after in [
        ("landing", "bronze"),
        ("bronze", "silver"),
        ("silver", "quality"),  # reconcile writes quality from the silver candidates
        ("silver", "gold"),
        ("quality", "gold"),  # gold is released by the reconciliation gate
        ("gold", "export"),
    ]:
        assert position[before] < position[after], (before, after, layers)


RUN_HISTORY = ("quality.runs", "quality.node_runs")


def test_polars_datasets_show_rows_columns_and_file_size(viz: str, lake: Path) -> None:
    main = httpx.get(f"{viz}/api/main", timeout=10).json()
    data = {n["name"]: n for n in main["nodes"] if n["type"] == "data"}
    checked = 0
    for name, node in data.items():
        layer, _, table = name.partition(".")
        if layer not in LAYERS or name in RUN_HISTORY:
            continue  # the run history is an append-only folder, not a versioned table
        if layer == "landing":
            path = lake / layer / f"{table}.csv"
            frame = pl.read_csv(path)  # the file's columns, not the flag the dataset adds
            size = path.stat().st_size
        else:  # a Delta table: the data files of the published version
            version = json.loads((lake / "_lake.json").read_text())["tables"][name]["version"]
            frame = read_table(str(lake), layer, table)
            active = DeltaTable(str(lake / layer / table), version=version).file_uris()
            size = sum(Path(uri.removeprefix("file://")).stat().st_size for uri in active)
        stats = httpx.get(f"{viz}/api/nodes/{node['id']}", timeout=10).json().get("stats")
        assert stats == {"rows": frame.height, "columns": frame.width, "file_size": size}, name
        checked += 1
    assert checked >= 14


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")
def test_lineage_renders_offline_with_a_screenshot(viz: str) -> None:
    from playwright.sync_api import Route, expect, sync_playwright

    def only_loopback(route: Route) -> None:  # the lineage must draw with no network
        if urlsplit(route.request.url).hostname in {"127.0.0.1", "localhost"}:
            route.continue_()
        else:
            route.abort("internetdisconnected")

    shots = PROJECT_ROOT / "test-artifacts" / "viz"
    shots.mkdir(parents=True, exist_ok=True)
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.route("**/*", only_loopback)
            page.goto(viz)
            expect(page.locator(".pipeline-node").first).to_be_visible(timeout=60_000)
            for layer in LAYERS:
                expect(page.locator(".pipeline-layer-name", has_text=layer).first).to_be_attached()
            # First-visit hints and the version banner would cover the lineage.
            page.add_style_tag(
                content=".feature-hints, .feature-hints__highlightDot, [class*=update-reminder]"
                " { display: none !important; }"
            )
            page.wait_for_timeout(1500)  # let the layout animation settle
            page.screenshot(path=shots / "lineage.png")
        finally:
            browser.close()
