"""The Pipeline tab and the provenance line, through gradio_client and in Chromium.

The lake is built by the real pipelines (``bronze,silver,gold``), exported by the real
export pipeline and served by the real API; a second app reads a copy of that lake whose
gold was rebuilt after the export, so the lake and the API serve different runs.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from gradio_client import Client

from tests.ui.conftest import API_LABEL, LAKE_LABEL, SERVICE_KEY, kedro, start_ui
from ui.pipeline_tab import mismatch
from ui.sources.pipeline import Provenance

pytestmark = pytest.mark.slow
SOURCES = pytest.mark.parametrize("source", [LAKE_LABEL, API_LABEL])
CHROMIUM = Path("/usr/bin/chromium")
DIFFERENT = "The lake and the API serve different runs."


@pytest.fixture(scope="module")
def client(app_url: str) -> Iterator[Client]:
    yield Client(app_url, verbose=False)


def table(value: dict[str, Any]) -> pl.DataFrame:
    """A gr.Dataframe output with its columns named by field again (labels are the field
    names spaced and capitalised: "Rows by stage" is ``rows_by_stage``)."""
    headers = [h.lower().replace(" ", "_") for h in value["headers"]]
    return pl.DataFrame(value["data"], schema=headers, orient="row", infer_schema_length=None)


def _gold_run(project: Path) -> str:
    record = json.loads((project / "data" / "lake" / "_lake.json").read_text())
    (run,) = {e["run_id"] for k, e in record["tables"].items() if k.startswith("gold.")}
    return str(run)


@SOURCES
def test_pipeline_tab_shows_runs_quality_reconciliation_and_freshness(
    client: Client, lake_project: Path, source: str
) -> None:
    status, runs, chart, quality, recon_title, recon, note, sample = client.predict(
        source, api_name="/pipeline"
    )
    assert "msg-error" not in status, status
    assert "Gold built" in status and _gold_run(lake_project)[:8] in status
    history = table(runs)
    built = history.filter(  # Kedro passes the pipeline names in no fixed order
        pl.col("pipelines").str.split(", ").list.sort() == pl.lit(["bronze", "gold", "silver"])
    )
    assert built.height >= 1, history.select("pipelines", "status").to_dicts()
    assert built["status"][0] == "succeeded"
    stages = built["rows_by_stage"][0]
    assert "bronze" in stages and "silver" in stages and "gold" in stages
    rejected = table(quality)
    assert rejected.height and (rejected["rows"] > 0).all()
    assert chart is not None  # rows rejected by reason, per run
    assert "Reconciliation of run" in recon_title
    counts = table(recon)
    assert set(counts["table"]) == {"customers", "orders"}
    for row in counts.iter_rows(named=True):
        assert row["bronze_rows"] == (
            row["silver_rows"] + row["rejected_rows"] + row["duplicates_removed"]
            + row["waiting_rows"]
        )  # fmt: skip
    assert counts.filter(pl.col("table") == "orders")["waiting_rows"].item() > 0
    quarantined = table(sample)
    if source == LAKE_LABEL:
        assert quarantined.height and quarantined["reason"].str.len_chars().min() > 0
        assert note == ""
    else:  # raw rejected rows are not published by the API
        assert quarantined.height == 0 and "not published by the API" in note


@SOURCES
def test_every_tab_names_the_run_and_export_it_reads(
    client: Client, lake_project: Path, source: str
) -> None:
    line = client.predict(source, api_name="/provenance")
    assert f"lake run <code>{_gold_run(lake_project)[:8]}" in line
    assert ("serves export" in line) == (source == API_LABEL)
    assert DIFFERENT not in line  # the export was made from this lake's gold


def test_the_app_says_when_the_lake_and_the_api_serve_different_runs(
    lake_project: Path, api: str, tmp_path: Path
) -> None:
    project = tmp_path / "rebuilt"
    shutil.copytree(lake_project, project, ignore=shutil.ignore_patterns("*.log", ".viz"))
    kedro(project, "--pipelines", "gold")  # new gold in the lake, not exported
    assert _gold_run(project) != _gold_run(lake_project)
    server = start_ui(project, api, tmp_path / "ui.log", API_TOKEN=SERVICE_KEY)
    try:
        client = Client(server.url, verbose=False)
        for source in (LAKE_LABEL, API_LABEL):
            line = client.predict(source, api_name="/provenance")
            assert DIFFERENT in line, line
            assert _gold_run(project)[:8] in line and _gold_run(lake_project)[:8] in line
            assert "kedro run --pipelines export" in line
    finally:
        server.stop()


def test_mismatch_is_silent_only_for_the_same_gold_run() -> None:
    same = Provenance("g1", None)
    assert mismatch(same, Provenance("g1", None, export_run="e1")) is None
    assert mismatch(same, Provenance("g2", None, export_run="e1")) is not None
    assert mismatch(Provenance(None, None), Provenance(None, None)) is not None


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")
def test_pipeline_tab_in_chromium(app_url: str, project_root: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = project_root / "test-artifacts" / "ui"
    shots.mkdir(parents=True, exist_ok=True)
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            page: Any = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(app_url)
            expect(page.locator("#provenance")).to_contain_text("serves gold", timeout=30_000)
            page.get_by_role("tab", name="Pipeline").click()
            expect(page.locator("#pipeline-runs")).to_contain_text("succeeded")
            expect(page.locator("#pipeline-reconciliation")).to_contain_text("orders")
            expect(page.locator("#pipeline-rejected canvas, #pipeline-rejected svg").first)\
                .to_be_visible(timeout=15_000)  # fmt: skip
            page.wait_for_timeout(500)
            page.screenshot(path=shots / "pipeline-lake.png", full_page=True)
            page.get_by_label(API_LABEL).check()
            expect(page.locator("#provenance")).to_contain_text("serves export", timeout=15_000)
            expect(page.locator("#pipeline-status")).to_contain_text("exported")
            page.wait_for_timeout(800)
            page.screenshot(path=shots / "pipeline.png", full_page=True)
            assert page.locator(".msg-error").count() == 0
        finally:
            browser.close()
