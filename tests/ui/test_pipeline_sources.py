"""After one ``kedro run`` that builds gold and exports it (what ``make up`` runs), the API
serves the same provenance and run history as the lake: real pipelines, a real nx-27017
server and the real API under uvicorn, read through the app's two pipeline sources.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.servers import MongoServer, api_server
from tests.ui.conftest import _env, copy_project, kedro
from ui.sources import GraphQLSource, LakeSource
from ui.sources.pipeline import ApiPipeline, LakePipeline

pytestmark = pytest.mark.slow
DB = "made_up"


def _ms(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its times in milliseconds, as BSON dates hold them."""
    return frame.with_columns(pl.col(pl.Datetime("us", "UTC")).dt.truncate("1ms"))


@pytest.fixture(scope="module")
def made_up(project_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(project_root, tmp_path_factory.mktemp("made_up"))
    kedro(project, "--pipelines", "generate", "--params", "n_customers=300,n_orders=3000")
    return project


@pytest.fixture(scope="module")
def sources(
    made_up: Path, mongo: MongoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LakePipeline, ApiPipeline]]:
    kedro(made_up, env=_env(MONGO_URI=mongo.uri, MONGO_DB=DB))  # bronze … export, one run
    log = tmp_path_factory.mktemp("api") / "api.log"
    with api_server(mongo.uri, DB, log) as server:
        api = GraphQLSource(f"{server.url}/graphql")
        yield LakePipeline(LakeSource(made_up)), ApiPipeline(api)


def test_the_api_names_when_the_gold_it_serves_was_committed(
    sources: tuple[LakePipeline, ApiPipeline],
) -> None:
    lake, api = sources
    lake_p, api_p = lake.provenance(), api.provenance()
    assert api_p.gold_committed_at is not None
    assert (api_p.gold_run, api_p.gold_committed_at) == (lake_p.gold_run, lake_p.gold_committed_at)


def test_the_api_serves_the_finished_run_that_exported(
    sources: tuple[LakePipeline, ApiPipeline],
) -> None:
    lake, api = sources
    runs = api.runs(20)
    newest = runs.row(0, named=True)
    assert newest["status"] == "succeeded" and newest["seconds"] is not None
    assert newest["export_run_id"] == api.provenance().export_run
    assert "export" in newest["rows_by_stage"]
    assert_frame_equal(runs, _ms(lake.runs(20)))


def test_the_api_serves_the_data_quality_of_the_run_that_exported(
    sources: tuple[LakePipeline, ApiPipeline],
) -> None:
    lake, api = sources
    newest = api.runs(1)["run_id"][0]
    quality = api.quality(20)
    assert quality.height and set(quality["run_id"]) == {newest}
    assert_frame_equal(quality, _ms(lake.quality(20)))
    (api_run, api_counts), (lake_run, lake_counts) = api.reconciliation(), lake.reconciliation()
    assert api_run == lake_run == newest
    assert_frame_equal(api_counts, lake_counts)
