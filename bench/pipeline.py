"""Benchmark: generate N orders, then run bronze, silver and gold, one process per stage.

Prints wall seconds and peak RSS (the stage's whole process tree) per stage, as the
median of ``--repeat`` runs of bronze/silver/gold.

    python bench/pipeline.py --orders 10000000 [--customers 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def run_stage(pipeline: str, params: str, lake: str) -> tuple[float, float]:
    """Run ``kedro run --pipeline <pipeline>``; return (wall seconds, peak RSS in MiB)."""
    cmd = [sys.executable, "-m", "kedro", "run", "--pipeline", pipeline, "--params", params]
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "LAKE_PATH": lake}
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    parent, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            tree = [parent, *parent.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - start
    if proc.returncode:
        err = proc.stderr.read().decode() if proc.stderr else ""
        sys.exit(f"kedro run --pipeline {pipeline} failed:\n{err[-3000:]}")
    return wall, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=None, help="default: orders / 10")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lake", default=None, help="default: a temporary folder")
    args = parser.parse_args()
    customers = args.customers or max(args.orders // 10, 1)
    lake = args.lake or tempfile.mkdtemp(prefix="medallion-bench-")
    params = f"n_orders={args.orders},n_customers={customers}"
    print(f"orders={args.orders:,} customers={customers:,} lake={lake} cpus={os.cpu_count()}")

    wall, rss = run_stage("generate", params, lake)
    print(f"{'generate':<10} wall {wall:6.2f} s  peak RSS {rss:7.0f} MiB")
    totals = []
    for _ in range(args.repeat):
        runs = {stage: run_stage(stage, params, lake) for stage in ("bronze", "silver", "gold")}
        totals.append((sum(w for w, _ in runs.values()), max(r for _, r in runs.values())))
        for stage, (wall, rss) in runs.items():
            print(f"{stage:<10} wall {wall:6.2f} s  peak RSS {rss:7.0f} MiB")
    walls = [w for w, _ in totals]
    print(
        f"bronze+silver+gold: median wall {statistics.median(walls):.2f} s "
        f"(runs: {', '.join(f'{w:.2f}' for w in walls)}), "
        f"peak RSS {max(r for _, r in totals):.0f} MiB"
    )


if __name__ == "__main__":
    main()
