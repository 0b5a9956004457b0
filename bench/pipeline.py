"""Benchmark: generate N orders, then run bronze, silver and gold.

Prints wall seconds and peak RSS (the whole process tree) of: generation; bronze+silver+gold
in one session (`kedro run --pipelines bronze,silver,gold` on a lake holding only the
landing files, the median of ``--repeat`` runs); and each stage in a process of its own
(Kedro start-up, ~2 s, included in each).

    python bench/pipeline.py --orders 10000000 [--customers 1000000] [--repeat 3]
    python bench/pipeline.py --orders 1000000 --env spark

``--env spark`` runs bronze, silver and gold with ``--env spark`` (Spark, ``SPARK_MASTER`` or
``local[*]``), then with the default environment, on the same landing files; peak RSS then
includes the JVM (a child process), and the Spark session's start-up is measured on its own.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import psutil

ROOT = Path(__file__).resolve().parents[1]


#: Starts the ``spark`` environment's session and runs one tiny job; prints the seconds.
SPARK_START = """
import time
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from medallion_kedro.spark import spark_session
bootstrap_project({root!r})
with KedroSession.create(project_path={root!r}, env="spark") as session:
    session.load_context()
    start = time.perf_counter()
    spark_session().range(1).count()
    print(time.perf_counter() - start)
"""


def run_stage(pipeline: str, params: str, lake: str, env: str | None = None) -> tuple[float, float]:
    """Run ``kedro run --pipelines <pipeline>``; return (wall seconds, peak RSS in MiB)."""
    cmd = [sys.executable, "-m", "kedro", "run", "--pipelines", pipeline, "--params", params]
    return _measure(
        cmd + (["--env", env] if env else []), lake, f"kedro run --pipelines {pipeline}"
    )


def spark_start_up(lake: str) -> float:
    """Seconds to start the spark environment's session (JVM included) and run one job."""
    code = SPARK_START.format(root=str(ROOT))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "LAKE_PATH": lake}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=True
    )
    return float(out.stdout.decode().strip().splitlines()[-1])


def _measure(
    cmd: list[str], lake: str, what: str, log: IO[str] | None = None
) -> tuple[float, float]:
    """Run ``cmd``; return (wall seconds, peak RSS of its process tree in MiB). ``log``
    receives its output (else only a failure's is shown)."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "LAKE_PATH": lake}
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        out: Any = log or subprocess.DEVNULL
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=log or err)
        parent, peak = psutil.Process(proc.pid), 0
        while proc.poll() is None:
            try:
                tree = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.1)
        wall = time.perf_counter() - start
        if proc.returncode:
            err.seek(0)
            if log is not None:
                log.seek(0)
            output = log.read() if log is not None else err.read().decode()
            sys.exit(f"{what} failed:\n{output[-3000:]}")
    return wall, peak / 2**20


def _keep_only_landing(lake: str) -> None:
    """Remove every layer of the lake but its landing zone (bronze keeps what it ingested)."""
    for path in Path(lake).iterdir():
        if path.name == "landing":
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=None, help="default: orders / 10")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lake", default=None, help="default: a temporary folder")
    parser.add_argument("--env", default=None, help="spark: the pipeline on Spark (see above)")
    args = parser.parse_args()
    customers = args.customers or max(args.orders // 10, 1)
    lake = args.lake or tempfile.mkdtemp(prefix="medallion-bench-")
    params = f"n_orders={args.orders},n_customers={customers}"
    print(f"orders={args.orders:,} customers={customers:,} lake={lake} cpus={os.cpu_count()}")
    if args.env:
        return bench_env(args.env, args.orders, args.repeat, params, lake)

    wall, rss = run_stage("generate", params, lake)
    print(f"{'generate':<22} wall {wall:6.2f} s  peak RSS {rss:7.0f} MiB")
    runs = []
    for _ in range(args.repeat):
        _keep_only_landing(lake)  # each run is a full rebuild, not a run with nothing new
        runs.append(run_stage("bronze,silver,gold", params, lake))
    walls = [w for w, _ in runs]
    print(
        f"{'bronze+silver+gold':<22} wall {statistics.median(walls):6.2f} s  peak RSS "
        f"{max(r for _, r in runs):7.0f} MiB  (one session; median of "
        f"{', '.join(f'{w:.2f}' for w in walls)})"
    )
    _keep_only_landing(lake)
    for stage in ("bronze", "silver", "gold"):
        wall, rss = run_stage(stage, params, lake)
        print(f"{stage + ' (own process)':<22} wall {wall:6.2f} s  peak RSS {rss:7.0f} MiB")


def bench_env(env: str, orders: int, repeat: int, params: str, lake: str) -> None:
    """The whole pipeline (bronze, silver, gold in one session, on a lake holding only the
    landing files) in ``env`` and in the default environment, ``repeat`` times each, on
    the same generated landing files; and the session start-up on its own."""
    wall, rss = run_stage("generate", params, lake)
    print(f"{'generate':<22} wall {wall:6.2f} s  peak RSS {rss:7.0f} MiB")
    for name, run_env in ((f"--env {env}", env), ("default (polars)", None)):
        runs = []
        for _ in range(repeat):
            _keep_only_landing(lake)
            runs.append(run_stage("bronze,silver,gold", params, lake, run_env))
        walls = [w for w, _ in runs]
        print(
            f"{name:<22} wall {statistics.median(walls):6.2f} s  peak RSS "
            f"{max(r for _, r in runs):7.0f} MiB  (bronze+silver+gold, own process; median "
            f"of {', '.join(f'{w:.2f}' for w in walls)})"
        )
    if env == "spark":
        starts = [spark_start_up(lake) for _ in range(repeat)]
        print(
            f"{'spark start-up':<22} {statistics.median(starts):6.2f} s  (session + one job; "
            f"median of {', '.join(f'{s:.2f}' for s in starts)}; included above)"
        )


if __name__ == "__main__":
    main()
