"""Errors that quote a landing file: the console shows the values, nothing published does.

Unit level: each error that can quote a cell value has a public form without it. Through
real runs: landing files with a recognisable person in them make bronze fail in every
way that quotes data, then the run history is exported to a real nx-27017 and served by a
real API with keys configured; the person is in none of the run records, node records,
lineage events, MongoDB collections, nor the anonymous answer of ``runs``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pymongo
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kedro.io.core import DatasetError

from graphql_api.auth import hash_key
from medallion_kedro.datasets.landing_csv import LandingCSVDataset
from medallion_kedro.pipelines.bronze.nodes import check_layout
from medallion_kedro.public_errors import WITHHELD, public_text, publishable
from medallion_kedro.schemas import RAW_COLUMNS
from tests.graphql_api.conftest import api_process
from tests.kedro_run import kedro_run
from tests.servers import MongoServer

NAME = "Margaret Thatcherson"
EMAIL = "margaret.thatcherson@private-mail.example"
#: Pieces of the person that must appear nowhere published.
PLANTED = ("Thatcherson", "thatcherson", "private-mail", "850001")
PERSON = f"850001,{NAME},{EMAIL},2024-01-02,United Kingdom"
HEADER = ",".join(RAW_COLUMNS["customers"])

#: Landing files of customers, each refused by bronze with an error that quotes the person.
BAD_FILES = {
    # no header: the person's row is read as the header (SourceLayoutError, missing columns)
    "no_header.csv": f"{PERSON}\n850002,Ann Other,ann@example.com,2024-01-02,France\n",
    # a header with one column more, named by a value (SourceLayoutError, extra column)
    "extra_column.csv": f"{HEADER},{EMAIL}\n1,A,a@example.com,2024-01-02,France,x\n",
    # an unterminated quote on the person's line (DatasetError of the landing dataset)
    "open_quote.csv": f'{HEADER}\n850001,"{NAME},{EMAIL},2024-01-02,United Kingdom\n',
}


def _leaks(text: str) -> list[str]:
    return [piece for piece in PLANTED if piece in text]


# -- unit: every error that quotes data has a public form without it ----------------------


def test_a_headerless_file_is_quoted_on_the_console_only() -> None:
    with pytest.raises(ValueError) as raised:
        check_layout(PERSON.split(","), {"file": "no_header.csv"}, "customers")
    assert EMAIL in str(raised.value)  # the console says what the file holds
    public = public_text(raised.value)
    assert _leaks(public) == []
    assert "no_header.csv, line 1 (the header)" in public


def _public_layout_error(columns: list[str]) -> str:
    with pytest.raises(ValueError) as raised:
        check_layout(columns, {}, "customers")
    return public_text(raised.value)


@settings(max_examples=60, deadline=None)
@given(header=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=6))
def test_the_public_form_does_not_depend_on_the_header_values(header: list[str]) -> None:
    """Whatever a file's first line holds, the public form of its refusal is the same as
    for any other line with as many unknown fields: no value can be read back from it."""
    known = set(RAW_COLUMNS["customers"])
    values = [v for v in header if v not in known]
    if not values:
        return
    expected = RAW_COLUMNS["customers"]
    # all expected columns present plus the values (extra columns), or the values alone
    for columns, stand_in in (
        ([*expected, *values], [*expected, *(f"x{i}" for i in range(len(values)))]),
        (values, [f"x{i}" for i in range(len(values))]),
    ):
        assert _public_layout_error(columns) == _public_layout_error(stand_in)


def test_an_unterminated_quote_names_the_line_not_the_values(tmp_path: Path) -> None:
    path = tmp_path / "open_quote.csv"
    path.write_text(BAD_FILES["open_quote.csv"])
    with pytest.raises(DatasetError) as raised:
        LandingCSVDataset(filepath=str(path)).load()
    assert NAME in str(raised.value)
    wrapped = DatasetError(f"Failed while loading data from dataset x.\n{raised.value}")
    wrapped.__cause__ = raised.value  # as Kedro's own wrapper raises it
    public = public_text(wrapped)
    assert _leaks(public) == []
    assert "line 2" in public and "open_quote.csv" in public


def test_a_parse_failure_keeps_the_parsers_words_on_the_console(tmp_path: Path) -> None:
    path = tmp_path / "unreadable.csv"
    path.write_text(f"{HEADER}\n{PERSON}\n")  # quotes balanced: polars' words are quoted
    error = LandingCSVDataset(filepath=str(path))._unreadable(
        pl.exceptions.ComputeError(f"could not parse {EMAIL!r} as a field")
    )
    assert EMAIL in str(error)
    public = public_text(error)
    assert _leaks(public) == [] and "unreadable.csv" in public


def test_an_error_of_unknown_kind_is_published_as_its_class_only() -> None:
    public = public_text(ValueError(f"could not parse {EMAIL!r}"))
    assert public == f"ValueError: {WITHHELD}"


def test_a_public_form_keeps_no_mongodb_password() -> None:
    error = publishable(DatasetError("cannot reach mongodb://admin:pa/ss@db:27017"))
    assert public_text(error) == "DatasetError: cannot reach mongodb://admin:****@db:27017"


# -- through every published path ---------------------------------------------------------

KEY = "mk_privacy_test_key_000000000000000000000000000000"
RUNS_QUERY = "{ runs(last: 20) { runId status error nodes { node error } } }"


@pytest.fixture(scope="module")
def failed_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A built lake whose next bronze runs each failed on one of :data:`BAD_FILES`."""
    lake = tmp_path_factory.mktemp("privacy") / "lake"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKE_PATH", str(lake))
        mp.setenv("OPENLINEAGE_DISABLED", "false")
        kedro_run(
            ["generate", "bronze", "silver", "gold"],
            params={"n_customers": 200, "n_orders": 1000},
        )
        folder = lake / "landing" / "customers"
        folder.mkdir(exist_ok=True)
        for name, text in BAD_FILES.items():
            (folder / name).write_text(text)
            with pytest.raises(Exception) as raised:  # noqa: PT011 - each its own class
                kedro_run(["bronze"])
            # the console (the exception the run raises) may quote the person
            assert _leaks(f"{raised.value} {raised.value.__cause__}"), name
            (folder / name).unlink()
        shutil.rmtree(folder)
    yield lake


def _history(lake: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(lake / "quality" / table / "*.parquet")


@pytest.mark.slow
def test_run_and_node_records_name_file_line_and_rule_only(failed_lake: Path) -> None:
    runs = _history(failed_lake, "runs")
    failed = runs.filter(pl.col("status") == "failed")
    assert failed.height == len(BAD_FILES)
    errors = failed["error"].to_list()
    assert _leaks(json.dumps(runs.to_dicts(), default=str)) == []
    assert _leaks(json.dumps(_history(failed_lake, "node_runs").to_dicts(), default=str)) == []
    for name in BAD_FILES:  # the records still say which file failed, and where
        assert any(name in error for error in errors), (name, errors)
    assert any("line 2" in error for error in errors)


@pytest.mark.slow
def test_lineage_events_carry_no_landing_value(failed_lake: Path) -> None:
    text = (failed_lake / "_lineage" / "events.jsonl").read_text()
    assert '"errorMessage"' in text
    assert _leaks(text) == []


@pytest.mark.slow
def test_exported_history_and_the_api_carry_no_landing_value(
    failed_lake: Path, mongo: MongoServer, mongo_db_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKE_PATH", str(failed_lake))
    monkeypatch.setenv("MONGO_URI", mongo.uri)
    monkeypatch.setenv("MONGO_DB", mongo_db_name)
    kedro_run(["export"])
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo.uri)
    try:
        db = client[mongo_db_name]
        for name in db.list_collection_names():
            documents = json.dumps(list(db[name].find()), default=str)
            assert _leaks(documents) == [], name
    finally:
        client.close()

    keys = f"{hash_key(KEY)} reader customers:pii"
    with (
        api_process(mongo.uri, mongo_db_name, API_KEYS=keys) as url,
        httpx.Client(base_url=url, timeout=15) as http,
    ):
        answer = http.post("/graphql", json={"query": RUNS_QUERY})  # anonymous
    assert answer.status_code == 200, answer.text
    runs = answer.json()["data"]["runs"]
    assert sum(run["status"] == "failed" for run in runs) == len(BAD_FILES)
    assert all(run["error"] for run in runs if run["status"] == "failed")
    assert _leaks(answer.text) == []
