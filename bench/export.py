"""Benchmark: export ``customer_metrics`` to MongoDB with MongoDBDataset vs plain insert_many.

For each size, synthesizes a frame matching ``schemas.GOLD["customer_metrics"]``, then on
the same nx-27017 server (a fresh one in a temporary folder, or ``--uri``):

* plain: the documents prepared beforehand, ``insert_many(ordered=False)`` in batches
  into an empty collection (the floor: nothing but the writes is timed);
* dataset: ``MongoDBDataset.save(frame)`` with the catalog's save_args (conversion,
  staging collection, the declared indexes, swap, all timed).

Prints documents/s for both and the ratio (the target: dataset >= 0.9 x plain).

    python bench/export.py [--sizes 50000 500000] [--batch-size 5000] [--writers 2]
                           [--transactions auto|false] [--repeat 1]
                           [--uri mongodb://...]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pymongo

from medallion_dev.gold_samples import customer_metrics
from medallion_dev.mongo import MongoServer
from medallion_dev.processes import free_port
from medallion_kedro.datasets import MongoDBDataset
from medallion_kedro.datasets._mongo_convert import batches, bson_ready
from medallion_kedro.schemas import export_collections

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")


DATABASE = "bench"


def catalog_save_args() -> dict[str, Any]:
    return export_collections()["customer_metrics"]


def plain(uri: str, frame: Any, batch_size: int) -> float:
    """Seconds to insert the (already prepared) documents with insert_many(ordered=False)."""
    docs = [
        doc for batch in batches(bson_ready(frame, key="customer_id"), batch_size) for doc in batch
    ]
    client: pymongo.MongoClient[dict[str, Any]]
    with pymongo.MongoClient(uri) as client:
        collection: Any = client[DATABASE]["plain_customer_metrics"]
        collection.drop()
        started = time.perf_counter()
        for offset in range(0, len(docs), batch_size):
            collection.insert_many(docs[offset : offset + batch_size], ordered=False)
        elapsed = time.perf_counter() - started
        collection.drop()
    return elapsed


def dataset(uri: str, frame: Any, batch_size: int, writers: int, tx: str | bool) -> float:
    """Seconds for MongoDBDataset.save(frame) with the catalog's save_args."""
    ds = MongoDBDataset(
        database=DATABASE,
        collection="customer_metrics",
        credentials={"uri": uri},
        save_args={
            **catalog_save_args(),
            "batch_size": batch_size,
            "writers": writers,
            "transactions": tx,
        },
    )
    started = time.perf_counter()
    ds.save(frame)
    elapsed = time.perf_counter() - started
    client: pymongo.MongoClient[dict[str, Any]]
    with pymongo.MongoClient(uri) as client:
        client[DATABASE].drop_collection("customer_metrics")
    return elapsed


def run(
    uri: str, sizes: list[int], batch_size: int, writers: int, tx: str | bool, repeat: int
) -> bool:
    """Median seconds of ``repeat`` runs each, plain and dataset alternating."""
    ok = True
    print(f"{'customers':>10} {'plain docs/s':>13} {'dataset docs/s':>15} {'ratio':>6}")
    for n in sizes:
        frame = customer_metrics(n)
        timings: dict[str, list[float]] = {"plain": [], "dataset": []}
        for _ in range(repeat):
            timings["plain"].append(plain(uri, frame, batch_size))
            timings["dataset"].append(dataset(uri, frame, batch_size, writers, tx))
        base, ours = (statistics.median(timings[k]) for k in ("plain", "dataset"))
        ratio = base / ours
        ok = ok and ratio >= 0.9
        print(f"{n:>10} {n / base:>13,.0f} {n / ours:>15,.0f} {ratio:>6.2f}", flush=True)
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 500_000])
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--writers", type=int, default=2, help="save_args.writers")
    parser.add_argument("--transactions", default="auto", choices=["auto", "false"])
    parser.add_argument("--repeat", type=int, default=1, help="runs per size (median)")
    parser.add_argument("--uri", help="an existing server (default: a fresh nx-27017)")
    args = parser.parse_args()
    tx = "auto" if args.transactions == "auto" else False
    logging.basicConfig(level=logging.ERROR)  # the swap warning is expected on nx-27017
    if args.uri:
        ok = run(args.uri, args.sizes, args.batch_size, args.writers, tx, args.repeat)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            server = MongoServer(db_path=Path(tmp) / "bench.db", port=free_port()).start()
            try:
                print(
                    f"nx-27017 on 127.0.0.1:{server.port}, batches of {args.batch_size}, "
                    f"dataset writers={args.writers} transactions={args.transactions}"
                )
                uri = server.uri.replace("5000", "30000")
                ok = run(uri, args.sizes, args.batch_size, args.writers, tx, args.repeat)
            finally:
                server.stop()
    print("dataset within 10% of plain insert_many:", "yes" if ok else "NO")


if __name__ == "__main__":
    main()
