"""Export runs published through the manifest, against a real nx-27017 server.

Faults are injected for real: two saves at once, a failure half-way, ``kill -9`` of an
exporting process. After each, the manifest must name one complete run (counts and
checksums match what the server holds) and cleanup must have touched only what it owns.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pymongo
import pytest
from kedro.io.core import DatasetError

from medallion_dev.gold_samples import gold_tables
from medallion_kedro.datasets import ExportBatch, MongoExportDataset
from medallion_kedro.datasets import _mongo_write as mw
from medallion_kedro.datasets import mongo_manifest as mm
from medallion_kedro.pipelines.export.nodes import source_facts
from medallion_kedro.schemas import GOLD_KEYS
from tests.servers import MongoServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS: dict[str, dict[str, Any]] = {
    table: ({"key": key, "indexes": [{"keys": {key: 1}, "unique": True}]} if key else {})
    | ({} if key else {"fixed_id": "kpis"})
    for table, key in GOLD_KEYS.items()
}


@pytest.fixture
def db(mongo: MongoServer, mongo_db_name: str) -> Iterator[pymongo.database.Database[Any]]:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo.uri)
    database = client[mongo_db_name]
    # nx-27017 in single-file mode lists every database's collections: runs of earlier
    # tests are not this test's
    _EARLIER[mongo_db_name] = _all_runs(database)
    yield database
    client.close()


def _dataset(mongo: MongoServer, database: str, **save_args: Any) -> MongoExportDataset:
    return MongoExportDataset(
        database=database,
        credentials={"uri": mongo.uri},
        collections=COLLECTIONS,
        save_args={"grace_seconds": 0, **save_args},
    )


_EARLIER: dict[str, set[str]] = {}


def _all_runs(db: Any) -> set[str]:
    runs = set()
    for name in db.list_collection_names():
        match = mm.STAGED.match(name)
        if match:
            runs.add(match["run"])
    return runs


def _runs_held(db: Any) -> set[str]:
    """Export runs whose collections the server holds, started by this test."""
    return _all_runs(db) - _EARLIER.get(db.name, set())


def _assert_complete(db: Any, expected: dict[str, pl.DataFrame] | None = None) -> Any:
    """The manifest names a complete run: each collection holds what it says, nothing else."""
    manifest = mm.read_manifest(db)
    assert manifest is not None
    assert set(manifest["collections"]) == set(GOLD_KEYS)
    for table, entry in manifest["collections"].items():
        collection = db[entry["name"]]
        assert collection.count_documents({}) == entry["documents"], table
        assert mw.collection_checksum(collection) == entry["checksum"], table
        if expected is not None:
            assert entry["documents"] == expected[table].height, table
    return manifest


def _kill_once_writing(process: subprocess.Popen[bytes], db: Any, old_run: str) -> str:
    """kill -9 the exporting ``process`` once a run other than ``old_run`` has documents in
    its first collection; the killed run's id."""
    try:
        deadline = time.monotonic() + 60
        while True:
            fresh = sorted(_runs_held(db) - {old_run})
            table = mm.physical_name("customer_metrics", fresh[0]) if fresh else ""
            if table in db.list_collection_names() and db[table].estimated_document_count():
                break
            assert process.poll() is None, "the export ended before it could be killed"
            assert time.monotonic() < deadline, "the export never started writing"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    return fresh[0]


def test_save_publishes_every_table_then_keeps_one_previous_run(
    mongo: MongoServer, db: Any, mongo_db_name: str
) -> None:
    ds = _dataset(mongo, mongo_db_name)
    runs = []
    for n in (30, 40, 50):
        gold = gold_tables(n_customers=n)
        ds.save(ExportBatch(tables=gold, sources={"customer_metrics": {"rows": n}}))
        manifest = _assert_complete(db, gold)
        assert manifest["sources"] == {"customer_metrics": {"rows": n}}
        runs.append(manifest["run_id"])
    assert manifest["previous"]["run_id"] == runs[1]
    assert _runs_held(db) == {runs[1], runs[2]}  # the first run was cleaned up
    history = {d["_id"] for d in db[mm.HISTORY].find({"database": mongo_db_name})}
    assert set(runs) <= history
    loaded = ds.load()
    assert len(loaded["customer_metrics"]) == 50


def test_a_superseded_run_stays_readable_during_the_grace_period(
    mongo: MongoServer, db: Any, mongo_db_name: str
) -> None:
    ds = _dataset(mongo, mongo_db_name, grace_seconds=3600)
    for n in (10, 20, 30):
        ds.save(gold_tables(n_customers=n))
    assert len(_runs_held(db)) == 3  # the oldest is kept while a reader may still use it


def test_a_failure_half_way_publishes_nothing(
    mongo: MongoServer, db: Any, mongo_db_name: str
) -> None:
    ds = _dataset(mongo, mongo_db_name)
    good = gold_tables(n_customers=20)
    ds.save(good)
    before = _assert_complete(db, good)
    bad = _dataset(mongo, mongo_db_name)
    bad._collections["customer_metrics"] = {  # a unique index the data violates
        "key": "customer_id",
        "indexes": [{"keys": {"segment": 1}, "unique": True}],
    }
    with pytest.raises(DatasetError, match="duplicate keys"):
        bad.save(gold_tables(n_customers=40))
    after = _assert_complete(db, good)
    assert after["run_id"] == before["run_id"]
    assert _runs_held(db) == {before["run_id"]}
    assert db[mm.LEASES].count_documents({"database": mongo_db_name}) == 0


def test_two_saves_at_once_both_finish_or_one_fails_cleanly(
    mongo: MongoServer, db: Any, mongo_db_name: str
) -> None:
    _dataset(mongo, mongo_db_name).save(gold_tables(n_customers=10))
    tables = {n: gold_tables(n_customers=n) for n in (300, 301)}
    outcome: dict[int, BaseException | None] = {}

    def export(n: int) -> None:
        try:
            _dataset(mongo, mongo_db_name, batch_size=50).save(tables[n])
            outcome[n] = None
        except BaseException as exc:  # noqa: BLE001 - recorded and checked below
            outcome[n] = exc

    threads = [threading.Thread(target=export, args=(n,)) for n in tables]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    failures = [exc for exc in outcome.values() if exc is not None]
    assert len(outcome) == 2 and len(failures) <= 1, outcome
    for exc in failures:
        assert isinstance(exc, mm.ExportConflict), exc
        assert "published nothing" in str(exc)
    manifest = _assert_complete(db)
    winner = manifest["collections"]["customer_metrics"]["documents"]
    assert winner in (300, 301)
    _assert_complete(db, tables[winner])
    assert db[mm.LEASES].count_documents({"database": mongo_db_name}) == 0
    assert _runs_held(db) <= {manifest["run_id"], manifest["previous"]["run_id"]}


_SLOW_EXPORT = textwrap.dedent(
    """
    import sys
    from medallion_kedro.datasets import MongoExportDataset
    from tests.datasets.test_mongo_export import COLLECTIONS
    from medallion_dev.gold_samples import gold_tables

    tables = gold_tables(n_customers=20_000)
    ordered = {"kpis": tables.pop("kpis"), **tables}
    MongoExportDataset(
        database=sys.argv[2], credentials={"uri": sys.argv[1]}, collections=COLLECTIONS,
        save_args={"batch_size": 200, "transactions": False, "writers": 1},
    ).save(ordered)
    """
)


def test_kill_9_mid_export_leaves_the_previous_run_and_the_next_export_cleans_up(
    mongo: MongoServer, db: Any, mongo_db_name: str
) -> None:
    ds = _dataset(mongo, mongo_db_name)
    good = gold_tables(n_customers=25)
    ds.save(good)
    before = _assert_complete(db, good)
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_EXPORT, mongo.uri, mongo_db_name],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    # kill once the dead run has a complete first table and a partial one
    dead_run = _kill_once_writing(process, db, before["run_id"])
    # readers still see the previous complete run; the dead run's lease is still there
    assert _assert_complete(db, good)["run_id"] == before["run_id"]
    assert dead_run in _runs_held(db)
    assert db[mm.LEASES].find_one({"_id": dead_run}) is not None
    # the next export sees the lease's process is gone and drops what it left
    ds.save(gold_tables(n_customers=5))
    assert dead_run not in _runs_held(db)
    assert db[mm.LEASES].find_one({"_id": dead_run}) is None
    assert _assert_complete(db)["previous"]["run_id"] == before["run_id"]


def test_cleanup_never_touches_what_it_does_not_own(
    mongo: MongoServer, db: Any, mongo_db_name: str
) -> None:
    ds = _dataset(mongo, mongo_db_name)
    foreign = mm.physical_name("customer_metrics", mm.new_run_id())  # no lease, no history
    alive = mm.new_run_id()  # a live run of another process
    db[foreign].insert_one({"_id": 1})
    db[mm.physical_name("kpis", alive)].insert_one({"_id": "kpis"})
    lease = mm.Lease(db, alive, seconds=600)
    lease.acquire()
    try:
        ds.save(gold_tables(n_customers=5))
        ds.save(gold_tables(n_customers=6))
        held = set(db.list_collection_names())
        assert foreign in held
        assert mm.physical_name("kpis", alive) in held
    finally:
        lease.release()
        db.drop_collection(foreign)
        db.drop_collection(mm.physical_name("kpis", alive))


def test_an_expired_lease_lets_the_next_export_clean_up(
    mongo: MongoServer, db: Any, mongo_db_name: str
) -> None:
    stale = mm.new_run_id()
    db[mm.physical_name("kpis", stale)].insert_one({"_id": "kpis"})
    db[mm.LEASES].insert_one(
        {
            "_id": stale,
            "database": mongo_db_name,
            "host": "another-host",
            "pid": 1,
            "started_at": mm._now(),
            "expires_at": time.time() - 1,
        }
    )
    _dataset(mongo, mongo_db_name).save(gold_tables(n_customers=5))
    assert stale not in _runs_held(db)
    assert db[mm.LEASES].find_one({"_id": stale}) is None


def test_load_without_any_export_says_what_to_run(mongo: MongoServer, mongo_db_name: str) -> None:
    with pytest.raises(DatasetError, match="kedro run --pipelines export"):
        _dataset(mongo, mongo_db_name).load()


def test_a_table_without_collection_settings_is_refused_before_writing(
    mongo: MongoServer, db: Any, mongo_db_name: str
) -> None:
    with pytest.raises(DatasetError, match=r"\['orders'\] have no entry"):
        _dataset(mongo, mongo_db_name).save({"orders": pl.DataFrame({"a": [1]})})
    assert not _runs_held(db)


def _publish_meanwhile(monkeypatch: pytest.MonkeyPatch, landing: Any) -> None:
    """Make ``landing()`` run once, after this run wrote its tables and before it commits."""
    original = mm.Publisher._check_counts
    calls = []

    def check_then_land(self: mm.Publisher, collections: Any) -> None:
        original(self, collections)
        if not calls:
            calls.append(1)
            landing()

    monkeypatch.setattr(mm.Publisher, "_check_counts", check_then_land)


def test_a_run_that_started_later_and_landed_first_makes_this_one_fail_cleanly(
    mongo: MongoServer, db: Any, mongo_db_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = _dataset(mongo, mongo_db_name)
    ds.save(gold_tables(n_customers=10))
    newer = gold_tables(n_customers=12)

    def land() -> None:
        monkeypatch.undo()  # the newer run itself publishes normally
        _dataset(mongo, mongo_db_name).save(newer)

    _publish_meanwhile(monkeypatch, land)
    with pytest.raises(mm.ExportConflict, match="newer export .* published nothing"):
        ds.save(gold_tables(n_customers=11))
    _assert_complete(db, newer)
    assert len(_runs_held(db)) == 2  # newer + its previous; the loser left nothing


def test_a_run_that_started_earlier_and_landed_meanwhile_becomes_previous(
    mongo: MongoServer, db: Any, mongo_db_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = _dataset(mongo, mongo_db_name)
    ds.save(gold_tables(n_customers=10))
    older = "20000101T000000Z_00000000"  # started before this run

    def land() -> None:
        mm.adopt(db, dict(mm.live_collections(db)), run_id=older)

    _publish_meanwhile(monkeypatch, land)
    mine = gold_tables(n_customers=13)
    ds.save(mine)
    manifest = _assert_complete(db, mine)
    assert manifest["previous"]["run_id"] == older


def test_a_lease_stays_alive_while_its_heartbeat_runs_and_dies_after(db: Any) -> None:
    lease = mm.Lease(db, mm.new_run_id(), seconds=0.6)
    lease.acquire()
    try:
        time.sleep(1.5)  # several heartbeats, each a $set of the expiry
        held = db[mm.LEASES].find_one({"_id": lease.run_id})
        assert not mm.lease_is_dead(held)
        assert lease.renew()
        lease.stop()
        time.sleep(0.8)
        assert mm.lease_is_dead(db[mm.LEASES].find_one({"_id": lease.run_id}))
        assert not lease.renew()  # an expired lease is not silently taken back
    finally:
        lease.release()


# -- skip_unchanged: publish only when gold changed -------------------------------------------


def _batch(gold: dict[str, pl.DataFrame]) -> ExportBatch:
    """An export batch with the source facts the export node records (rows, fingerprint)."""
    return ExportBatch(tables=gold, sources={t: source_facts(f) for t, f in gold.items()})


def _published(db: Any) -> tuple[str, set[str], int]:
    """The current run, the export collections the server holds, the committed manifests."""
    manifest = mm.read_manifest(db)
    assert manifest is not None
    history = db[mm.HISTORY].count_documents({"database": db.name})
    return str(manifest["run_id"]), _runs_held(db), history


def test_unchanged_gold_keeps_the_published_run_and_says_so_in_one_line(
    mongo: MongoServer, db: Any, mongo_db_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    ds = _dataset(mongo, mongo_db_name, skip_unchanged=True)
    gold = gold_tables(n_customers=30)
    ds.save(_batch(gold))
    first = _published(db)
    assert ds.published_run_id == first[0] and ds.kept_run_id is None
    again = _batch(gold_tables(n_customers=30))  # the same gold, built again by a later run
    again = ExportBatch(
        tables=again.tables,
        sources={t: {**f, "version": 7, "lake_run_id": "g2"} for t, f in again.sources.items()},
        lake_version={"run_id": "g2"},
    )
    with caplog.at_level("INFO", logger="medallion_kedro"):
        ds.save(again)
    assert _published(db) == first  # no new manifest, no new collection
    assert ds.published_run_id is None and ds.kept_run_id == first[0]
    skipped = [r.getMessage() for r in caplog.records if "Export skipped" in r.getMessage()]
    assert len(skipped) == 1 and f"export run {first[0]}" in skipped[0]
    assert f"MongoDB {mongo_db_name} keeps that manifest" in skipped[0]
    manifest = mm.read_manifest(db)
    assert manifest is not None  # it now names the lake versions the same content comes from
    assert manifest["sources"] == again.sources and manifest["lake_version"] == {"run_id": "g2"}
    assert manifest["confirmed"]["exported_from"] is None  # the first save had no lake version
    _assert_complete(db, gold)


def test_changed_gold_is_published(mongo: MongoServer, db: Any, mongo_db_name: str) -> None:
    ds = _dataset(mongo, mongo_db_name, skip_unchanged=True)
    ds.save(_batch(gold_tables(n_customers=30)))
    first = _published(db)[0]
    changed = gold_tables(n_customers=30)
    changed["kpis"] = changed["kpis"].with_columns(total_orders=pl.col("total_orders") + 1)
    ds.save(_batch(changed))  # one table differs by one value
    manifest = _assert_complete(db, changed)
    assert manifest["run_id"] != first and manifest["previous"]["run_id"] == first
    assert ds.published_run_id == manifest["run_id"] and ds.kept_run_id is None


@pytest.mark.parametrize("force", [True, "true"])
def test_force_publishes_unchanged_gold(
    mongo: MongoServer, db: Any, mongo_db_name: str, force: object
) -> None:
    gold = gold_tables(n_customers=30)
    _dataset(mongo, mongo_db_name, skip_unchanged=True).save(_batch(gold))
    first = _published(db)[0]
    forced = _dataset(mongo, mongo_db_name, skip_unchanged=True, force=force)
    forced.save(_batch(gold))
    assert _published(db)[0] == forced.published_run_id != first


def test_a_batch_without_sources_is_always_published(
    mongo: MongoServer, db: Any, mongo_db_name: str
) -> None:
    ds = _dataset(mongo, mongo_db_name, skip_unchanged=True)
    gold = gold_tables(n_customers=30)
    ds.save(gold)
    first = _published(db)[0]
    ds.save(gold)  # a plain mapping says nothing of its content: published
    assert _published(db)[0] == ds.published_run_id != first


def test_a_published_collection_gone_is_published_again(
    mongo: MongoServer, db: Any, mongo_db_name: str
) -> None:
    ds = _dataset(mongo, mongo_db_name, skip_unchanged=True)
    gold = gold_tables(n_customers=30)
    ds.save(_batch(gold))
    manifest = mm.read_manifest(db)
    assert manifest is not None
    db.drop_collection(manifest["collections"]["segments"]["name"])
    ds.save(_batch(gold))
    assert _assert_complete(db, gold)["run_id"] == ds.published_run_id != manifest["run_id"]


_KILLED_EXPORT = textwrap.dedent(
    """
    import sys
    from medallion_kedro.datasets import ExportBatch, MongoExportDataset
    from medallion_kedro.pipelines.export.nodes import source_facts
    from tests.datasets.test_mongo_export import COLLECTIONS
    from medallion_dev.gold_samples import gold_tables

    tables = gold_tables(n_customers=20_000)
    ordered = {"kpis": tables.pop("kpis"), **tables}
    sources = {t: source_facts(f) for t, f in ordered.items()}
    MongoExportDataset(
        database=sys.argv[2], credentials={"uri": sys.argv[1]}, collections=COLLECTIONS,
        save_args={"batch_size": 200, "transactions": False, "writers": 1,
                   "skip_unchanged": True},
    ).save(ExportBatch(tables=ordered, sources=sources))
    """
)


def test_gold_whose_export_was_killed_is_published_by_the_next_export(
    mongo: MongoServer, db: Any, mongo_db_name: str
) -> None:
    ds = _dataset(mongo, mongo_db_name, skip_unchanged=True)
    ds.save(_batch(gold_tables(n_customers=25)))
    before = _published(db)[0]
    process = subprocess.Popen(
        [sys.executable, "-c", _KILLED_EXPORT, mongo.uri, mongo_db_name],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    _kill_once_writing(process, db, before)  # kill -9 while the new gold is being written
    assert _published(db)[0] == before  # the killed export published nothing
    gold = gold_tables(n_customers=20_000)
    ds.save(_batch(gold))  # the gold the killed run attempted: not published yet, so published
    manifest = _assert_complete(db, gold)
    assert manifest["run_id"] == ds.published_run_id != before
    ds.save(_batch(gold))  # and now it is
    assert _published(db)[0] == manifest["run_id"] == ds.kept_run_id
