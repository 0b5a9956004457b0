"""Benchmark: silver's row rules (the nodes from ``new_rows`` to ``split_flagged``) on the
bronze tables of a lake, in one process, without Kedro.

Prints the median seconds of each step over ``--repeat`` runs. It only calls the nodes'
public functions, so the same script measures another checkout of the project when run
with that checkout's interpreter (``cd <other> && .venv/bin/python <this file> ...``).

    python bench/pipeline.py --orders 1000000 --lake /tmp/lake1m
    python bench/silver_rules.py --lake /tmp/lake1m --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import yaml

from medallion_kedro.lake import read_table
from medallion_kedro.pipelines.silver import incremental, nodes
from medallion_kedro.schemas import BATCH_ID

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-28"


def one_run(bronze: dict[str, Any], rules: dict[str, Any]) -> dict[str, float]:
    """Seconds of each step of one silver run over every batch of ``bronze``."""
    times: dict[str, float] = {}

    def timed(step: str, fn: Any, *args: Any) -> Any:
        start = time.perf_counter()
        out = fn(*args)
        times[step] = time.perf_counter() - start
        return out

    pending = {t: sorted(set(bronze[t].get_column(BATCH_ID))) for t in bronze}
    new = {t: timed(f"new_{t}", incremental.new_rows, bronze[t].lazy(), pending, t) for t in bronze}
    countries = timed("match_countries", nodes.match_countries, new["customers"], rules)
    flagged = timed("flag_customers", nodes.flag_customers, new["customers"], countries, rules)
    customers, _, _ = timed(
        "split_customers", nodes.split_flagged, flagged, new["customers"], "customers", rules
    )
    known = incremental.known_customers(customers.head(0), customers)
    flagged = timed("flag_orders", nodes.flag_orders, new["orders"], known, rules, AS_OF)
    timed("split_orders", nodes.split_flagged, flagged, new["orders"], "orders", rules)
    times["total"] = sum(times.values())
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", required=True, help="a lake with bronze tables")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rules = yaml.safe_load((ROOT / "conf/base/parameters_silver.yml").read_text())["silver"]
    bronze = {t: read_table(args.lake, "bronze", t) for t in ("customers", "orders")}
    runs = [one_run(bronze, rules) for _ in range(args.repeat)]
    for step in runs[0]:
        print(f"{step:16s} {statistics.median(r[step] for r in runs):7.3f} s")


if __name__ == "__main__":
    main()
