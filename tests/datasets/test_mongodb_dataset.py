"""MongoDBDataset against a real nx-27017 server (the session ``mongo`` fixture).

nx-27017 in single-file mode shares collection names across databases, so every test
uses a collection name of its own (the test's name), not only a database of its own.
"""

from __future__ import annotations

import datetime as dt
import decimal
import inspect
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pymongo
import pytest
from kedro.io.core import DatasetError
from polars.testing import assert_frame_equal

from medallion_dev.gold_samples import customer_metrics, gold_tables
from medallion_kedro.datasets import MongoDBDataset
from medallion_kedro.datasets import _mongo_client as mc
from medallion_kedro.datasets import _mongo_write as mw
from medallion_kedro.schemas import GOLD, GOLD_KEYS
from tests.servers import MongoServer, free_port

SECRET = "s3cr3t-Pa55"  # noqa: S105 - a fake password whose absence we check


def _save_args(table: str) -> dict[str, Any]:
    key = GOLD_KEYS[table]
    if key is None:
        return {"fixed_id": "kpis"}
    return {"key": key, "indexes": [{"keys": {key: 1}, "unique": True}]}


def _expected(frame: pl.DataFrame) -> pl.DataFrame:
    """What load() gives back: dates as datetimes at midnight, decimal money as doubles,
    the rest unchanged."""
    return frame.with_columns(
        pl.col(pl.Date).cast(pl.Datetime("us")), pl.col(pl.Decimal).cast(pl.Float64)
    )


@pytest.fixture
def coll(mongo_db_name: str) -> str:
    return mongo_db_name


@pytest.fixture
def make(mongo: MongoServer, mongo_db_name: str, coll: str) -> Any:
    def _make(**kwargs: Any) -> MongoDBDataset:
        kwargs.setdefault("credentials", {"uri": mongo.uri})
        kwargs.setdefault("collection", coll)
        return MongoDBDataset(database=mongo_db_name, **kwargs)

    return _make


@pytest.fixture
def raw(mongo: MongoServer, mongo_db_name: str) -> Iterator[pymongo.database.Database[Any]]:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo.uri)
    yield client[mongo_db_name]
    client.close()


# -- round trip and types -----------------------------------------------------------------


@pytest.mark.parametrize("table", list(GOLD))
def test_round_trip_equals_gold_table(make: Any, coll: str, table: str) -> None:
    gold = gold_tables()[table]
    # an all-null column has no type in BSON: load_args.dtypes states it
    dtypes = {"revenue_growth_last_month": "float64"} if table == "kpis" else None
    ds = make(
        collection=f"{coll}_{table}", save_args=_save_args(table), load_args={"dtypes": dtypes}
    )
    ds.save(gold)
    loaded = ds.load()
    assert isinstance(loaded, pd.DataFrame)
    assert_frame_equal(pl.from_pandas(loaded), _expected(gold))


def test_documents_are_keyed_and_typed(make: Any, raw: Any, coll: str) -> None:
    gold = gold_tables(n_customers=20)["customer_metrics"]
    make(save_args=_save_args("customer_metrics")).save(gold)
    docs = {d["_id"]: d for d in raw[coll].find()}
    assert sorted(docs) == gold["customer_id"].to_list()
    active, idle = docs[1], docs[10]
    assert list(active)[:2] == ["_id", "customer_id"] and active["customer_id"] == 1
    assert active["signup_date"] == dt.datetime(2024, 1, 2)  # BSON date at midnight
    assert isinstance(active["total_spent"], float) and isinstance(active["order_count"], int)
    assert isinstance(active["first_order"], dt.datetime)
    assert idle["avg_basket"] is None and idle["first_order"] is None  # nulls stay nulls
    assert idle["recency_days"] is None and idle["order_count"] == 0


def test_kpis_stored_under_fixed_key(make: Any, raw: Any, coll: str) -> None:
    make(save_args={"fixed_id": "kpis"}).save(gold_tables()["kpis"])
    (doc,) = raw[coll].find()
    assert doc["_id"] == "kpis" and doc["as_of"] == dt.datetime(2026, 10, 31)
    assert doc["revenue_growth_last_month"] is None and isinstance(doc["total_orders"], int)


def test_saves_pandas_and_converts_other_types(make: Any, raw: Any, coll: str) -> None:
    frame = pd.DataFrame(
        {
            "k": ["a", "b"],
            "price": [decimal.Decimal("1.10"), decimal.Decimal("2.25")],
            "ratio": [0.5, float("nan")],
            "n": pd.array([1, None], dtype="Int64"),
            "at": pd.to_datetime(["2025-01-01 12:00", "2025-06-01 00:00"]).tz_localize(
                "Europe/Paris"
            ),
            "cat": pd.Categorical(["x", "y"]),
        }
    )
    make(save_args={"key": "k"}).save(frame)
    docs = {d["_id"]: d for d in raw[coll].find()}
    assert docs["a"]["price"] == 1.1 and isinstance(docs["a"]["price"], float)
    assert docs["b"]["ratio"] is None and docs["b"]["n"] is None and docs["a"]["n"] == 1
    assert docs["a"]["at"] == dt.datetime(2025, 1, 1, 11, 0)  # stored in UTC
    assert docs["b"]["cat"] == "y"


# -- load_args, exists, preview, describe -------------------------------------------------


def test_load_args_filter_projection_sort_limit(make: Any) -> None:
    make(save_args=_save_args("customer_metrics")).save(customer_metrics(50))
    ds = make(
        load_args={
            "filter": {"segment": "Inactive"},
            "projection": ["customer_id", "total_spent"],
            "sort": [["customer_id", -1]],
            "limit": 3,
        }
    )
    loaded = ds.load()
    assert list(loaded.columns) == ["customer_id", "total_spent"]
    assert loaded["customer_id"].tolist() == [50, 40, 30]
    with_id = make(load_args={"include_id": True, "limit": 1, "sort": "customer_id"}).load()
    assert with_id.loc[0, "_id"] == with_id.loc[0, "customer_id"] == 1


def test_exists(make: Any) -> None:
    ds = make()
    assert not ds.exists()
    ds.save(pl.DataFrame({"a": [1]}))
    assert ds.exists()


def test_empty_table_saves_an_empty_collection(make: Any) -> None:
    ds = make(save_args=_save_args("customer_metrics"))
    ds.save(customer_metrics(5).head(0))
    assert ds.exists() and ds.load().empty


def test_preview_for_kedro_viz(make: Any) -> None:
    ds = make(save_args=_save_args("customer_metrics"))
    ds.save(customer_metrics(30))
    preview = ds.preview(nrows=5)
    assert preview["columns"] == GOLD["customer_metrics"].names()
    assert len(preview["data"]) == 5 and preview["index"] == list(range(5))
    assert str(preview["data"][0][3]).startswith("2024-01-02")  # JSON-friendly dates
    annotation = inspect.signature(ds.preview).return_annotation  # what Kedro-Viz reads
    assert getattr(annotation, "__name__", str(annotation)) == "TablePreview"


def test_describe_and_repr_hide_the_uri_and_password() -> None:
    uri = f"mongodb://admin:{SECRET}@127.0.0.1:{free_port()}/?authSource=admin"
    ds = MongoDBDataset(database="db", collection="c", credentials={"uri": uri})
    for text in (str(ds), repr(ds), str(ds._describe())):
        assert SECRET not in text and "admin:" not in text
    assert "collection='c'" in str(ds)


def test_client_is_lazy_and_shared(mongo: MongoServer) -> None:
    dead = MongoDBDataset(
        database="db", collection="c", credentials={"uri": "mongodb://127.0.0.1:9/"}
    )  # building it opens no socket, so this does not fail
    assert "c" in str(dead)
    one = MongoDBDataset(database="a", collection="x", credentials={"uri": mongo.uri})
    two = MongoDBDataset(database="b", collection="y", credentials={"uri": mongo.uri})
    assert one._db().client is two._db().client


# -- indexes, safe replace, idempotence ---------------------------------------------------


def test_declared_indexes_are_built(make: Any, raw: Any, coll: str) -> None:
    indexes = [
        {"keys": {"customer_id": 1}, "unique": True},
        {"keys": {"segment": 1, "total_spent": -1}},
        "email",
    ]
    make(save_args={"key": "customer_id", "indexes": indexes}).save(customer_metrics(40))
    info = raw[coll].index_information()
    by_fields = {tuple(f for f, _ in spec["key"]): spec for spec in info.values()}
    assert by_fields[("customer_id",)].get("unique") is True
    assert ("segment", "total_spent") in by_fields
    assert not by_fields[("email",)].get("unique", False)
    with pytest.raises(pymongo.errors.DuplicateKeyError):  # the unique index is enforced
        raw[coll].insert_one({"_id": -1, "customer_id": 1})


def test_rerun_is_idempotent(make: Any, raw: Any, coll: str, caplog: Any) -> None:
    ds = make(save_args=_save_args("customer_metrics"))
    gold = customer_metrics(60)
    ds.save(gold)
    first = raw[coll].index_information()
    with caplog.at_level(logging.WARNING):
        ds.save(gold)
    assert_frame_equal(pl.from_pandas(ds.load()), _expected(gold))
    assert raw[coll].index_information() == first
    assert [n for n in raw.list_collection_names() if n.startswith(coll)] == [coll]
    assert "not atomic" in caplog.text  # nx-27017 refuses renameCollection(dropTarget)


@pytest.mark.parametrize("writers", [1, 3])
def test_plain_inserts_without_transactions(make: Any, writers: int) -> None:
    gold = customer_metrics(120)
    ds = make(
        save_args={
            **_save_args("customer_metrics"),
            "transactions": False,
            "writers": writers,
            "batch_size": 25,
        }
    )
    ds.save(gold)
    loaded = pl.from_pandas(ds.load()).sort("customer_id")  # batches may land out of order
    assert_frame_equal(loaded, _expected(gold))


def test_falls_back_where_the_server_has_no_transactions(
    make: Any, mongo: MongoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:  # what a standalone mongod says
        raise pymongo.errors.OperationFailure(
            "Transaction numbers are only allowed on a replica set member or mongos", code=20
        )

    monkeypatch.setattr(pymongo.client_session.ClientSession, "start_transaction", refuse)
    monkeypatch.setattr(mw, "_TRANSACTIONS", {})
    gold = customer_metrics(40)
    ds = make(save_args={**_save_args("customer_metrics"), "batch_size": 10})
    ds.save(gold)
    assert mw._TRANSACTIONS[f"127.0.0.1:{mongo.port}"] is False
    loaded = pl.from_pandas(ds.load()).sort("customer_id")  # batches may land out of order
    assert_frame_equal(loaded, _expected(gold))


def _v1_then_fail(make: Any, bad: Any, **save_args: Any) -> str:
    """Save 30 customers, then try to save ``bad``; return the error message."""
    make(save_args=_save_args("customer_metrics")).save(customer_metrics(30))
    with pytest.raises(DatasetError) as info:
        make(save_args={**_save_args("customer_metrics"), **save_args}).save(bad)
    return str(info.value)


def _assert_v1_intact(make: Any, raw: Any, coll: str) -> None:
    assert_frame_equal(pl.from_pandas(make().load()), _expected(customer_metrics(30)))
    assert [n for n in raw.list_collection_names() if n.startswith(coll)] == [coll]


def test_failure_during_write_keeps_previous_collection(
    make: Any, raw: Any, coll: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = make(save_args={**_save_args("customer_metrics"), "batch_size": 10})
    ds.save(customer_metrics(30))
    calls = {"n": 0}
    original = pymongo.collection.Collection.insert_many

    def flaky(self: Any, docs: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise pymongo.errors.AutoReconnect("connection reset by peer")
        return original(self, docs, **kwargs)

    monkeypatch.setattr(pymongo.collection.Collection, "insert_many", flaky)
    with pytest.raises(DatasetError, match="medallion-mongo start"):
        ds.save(customer_metrics(200))
    _assert_v1_intact(make, raw, coll)


def test_failed_index_build_keeps_previous_collection(make: Any, raw: Any, coll: str) -> None:
    unique_segment = [{"keys": {"segment": 1}, "unique": True}]
    message = _v1_then_fail(make, customer_metrics(50), indexes=unique_segment)
    assert "found duplicate keys while writing" in message, message
    assert "unique indexes in save_args.indexes" in message
    _assert_v1_intact(make, raw, coll)


def test_leftover_staging_is_cleaned_up_by_next_save(make: Any, raw: Any, coll: str) -> None:
    raw[f"{coll}__staging_deadbeef0000"].insert_one({"_id": 1, "half": "written"})
    make(save_args=_save_args("customer_metrics")).save(customer_metrics(10))
    assert [n for n in raw.list_collection_names() if n.startswith(coll)] == [coll]


# -- bad input: refused before anything is written ----------------------------------------


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (
            pl.DataFrame({"customer_id": [1], "tags": [["a", "b"]]}),
            "Unsupported column types.*tags",
        ),
        (pl.DataFrame({"customer_id": [1], "d": [dt.timedelta(1)]}), "Unsupported.*Duration"),
        (pl.DataFrame({"customer_id": [1, 1]}), "duplicate values"),
        (pl.DataFrame({"customer_id": [1, None]}), "null values"),
        (pl.DataFrame({"other": [1]}), "save_args.key 'customer_id' is not a column"),
        (pd.DataFrame({"customer_id": [1], "obj": [object()]}), "Cannot store this pandas"),
        ({"customer_id": [1]}, "pandas or polars DataFrame"),
    ],
)
def test_bad_frames_are_refused_before_writing(
    make: Any, raw: Any, coll: str, bad: Any, match: str
) -> None:
    assert re.search(match, _v1_then_fail(make, bad))
    _assert_v1_intact(make, raw, coll)


def test_index_on_unknown_column_is_refused_before_writing(make: Any, raw: Any, coll: str) -> None:
    message = _v1_then_fail(make, customer_metrics(5), indexes=[{"keys": {"nope": 1}}])
    assert "no such column" in message
    _assert_v1_intact(make, raw, coll)


# -- connection faults --------------------------------------------------------------------


def test_server_down_fails_fast_and_says_what_to_start() -> None:
    port = free_port()
    ds = MongoDBDataset(
        database="db",
        collection="c",
        credentials={"uri": f"mongodb://admin:{SECRET}@127.0.0.1:{port}/"},
    )
    started = time.monotonic()
    with pytest.raises(DatasetError) as info:
        ds.load()
    assert time.monotonic() - started < 10  # default serverSelectionTimeoutMS is 5 s
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "medallion-mongo start" in message
    assert SECRET not in message


def test_silent_server_does_not_hang() -> None:
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        uri = f"mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=1500&connectTimeoutMS=1000"
        ds = MongoDBDataset(database="db", collection="c", credentials={"uri": uri})
        started = time.monotonic()
        with pytest.raises(DatasetError, match=f"127.0.0.1:{port}"):
            ds.save(pl.DataFrame({"a": [1]}))
        assert time.monotonic() - started < 8


def test_wrong_credentials_give_an_auth_error(mongo: MongoServer) -> None:
    uri = f"mongodb://bob:{SECRET}@127.0.0.1:{mongo.port}/?authSource=admin"
    ds = MongoDBDataset(database="db", collection="c", credentials={"uri": uri})
    with pytest.raises(DatasetError, match="(?i)authentication") as info:
        ds.load()
    assert SECRET not in str(info.value) and "MONGO_URI" in str(info.value)


def test_invalid_uri_is_a_dataset_error() -> None:
    ds = MongoDBDataset(
        database="db", collection="c", credentials={"uri": f"mongodb://u:{SECRET}@/x"}
    )
    with pytest.raises(DatasetError, match="MONGO_URI") as info:
        ds.load()
    assert SECRET not in str(info.value)


def test_missing_uri_is_refused() -> None:
    with pytest.raises(DatasetError, match="credentials with a `uri`"):
        MongoDBDataset(database="db", collection="c", credentials={})


@pytest.mark.slow
def test_server_killed_mid_export_keeps_previous_collection(tmp_path: Path) -> None:
    server = MongoServer(db_path=tmp_path / "kill.db", port=free_port()).start()
    uri = f"mongodb://127.0.0.1:{server.port}/?serverSelectionTimeoutMS=1500"
    ds = MongoDBDataset(
        database="medallion",
        collection="customer_metrics",
        credentials={"uri": uri},
        save_args={**_save_args("customer_metrics"), "batch_size": 2000},
    )
    try:
        previous = customer_metrics(100)
        ds.save(previous)
        big = customer_metrics(60_000)
        errors: list[BaseException] = []

        def export() -> None:
            try:
                ds.save(big)
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                errors.append(exc)

        writer = threading.Thread(target=export)
        writer.start()
        _wait_for_staging_rows(uri, "customer_metrics__staging_")
        server.kill()
        writer.join(timeout=30)
        assert not writer.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], DatasetError)
        assert "medallion-mongo start" in str(errors[0])

        server.start()  # same database file, same port
        assert_frame_equal(pl.from_pandas(ds.load()), _expected(previous))
        ds.save(previous.head(10))  # the next run cleans the dead staging collection up
        assert ds._db().list_collection_names() == ["customer_metrics"]
    finally:
        server.stop()
        mc.close_clients()


def _wait_for_staging_rows(uri: str, prefix: str, timeout: float = 20.0) -> None:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri)
    db = client["medallion"]
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            staging = [n for n in db.list_collection_names() if n.startswith(prefix)]
            if staging and db[staging[0]].estimated_document_count() >= 4000:
                return
            time.sleep(0.05)
        raise AssertionError("the export never started writing its staging collection")
    finally:
        client.close()
