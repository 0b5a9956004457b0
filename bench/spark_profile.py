"""Profile: where one `kedro run --env spark` spends its time, node by node.

    SPARK_MASTER='local[2]' python bench/spark_profile.py --orders 1000000

Generates N orders (or reuses the landing files of ``--lake``), then runs
`kedro run --pipelines bronze,silver,gold --env spark` on a lake holding only the landing
files, with Spark's event log written to a temporary folder. Prints the run's wall seconds
and the peak RSS of its process tree (the JVM included); the Spark jobs, stages, tasks,
bytes shuffled, executor run and CPU time, and any physical operator that runs Python on
the executors; then per node (``quality.node_runs``) its seconds and the Spark jobs it
started; last, the seconds spent saving each table the catalog gives Spark
(``SparkLakeTableDataset``: bronze's polars frames, silver's and quality's Spark frames).

Spark settings come from conf/spark/spark.yml and its variables (``SPARK_MASTER``,
``SPARK_DRIVER_MEMORY``, ``SPARK_SHUFFLE_PARTITIONS``); ``--conf key=value`` adds one it
does not set.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from pipeline import _keep_only_landing, _measure, run_stage

from medallion_kedro.spark.plans import PYTHON_OPERATORS

_BETWEEN = "(between nodes)"


@dataclass
class Work:
    """Spark work: jobs and what their stages did."""

    jobs: int = 0
    stages: int = 0
    tasks: int = 0
    shuffle_written: int = 0
    run_ms: float = 0.0
    cpu_ms: float = 0.0
    python: set[str] = field(default_factory=set)


def read_events(folder: Path) -> tuple[list[tuple[int, int]], dict[int, Work], set[str]]:
    """The jobs of an (uncompressed) event log as (submission ms, job id), the work of
    each job, and the Python operators found in any physical plan."""
    jobs: list[tuple[int, int]] = []
    stage_job: dict[int, int] = {}
    work: dict[int, Work] = defaultdict(Work)
    python: set[str] = set()
    for path in sorted(folder.rglob("events_*")) or sorted(folder.glob("*")):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            kind = event["Event"]
            if kind == "SparkListenerJobStart":
                job = event["Job ID"]
                jobs.append((event["Submission Time"], job))
                work[job].jobs = 1
                for stage in event["Stage IDs"]:
                    stage_job[stage] = job
            elif kind == "SparkListenerStageCompleted":
                work[stage_job[event["Stage Info"]["Stage ID"]]].stages += 1
            elif kind == "SparkListenerTaskEnd":
                metrics = event.get("Task Metrics") or {}
                done = work[stage_job[event["Stage ID"]]]
                done.tasks += 1
                written = metrics.get("Shuffle Write Metrics") or {}
                done.shuffle_written += written.get("Shuffle Bytes Written", 0)
                done.run_ms += metrics.get("Executor Run Time", 0)
                done.cpu_ms += metrics.get("Executor CPU Time", 0) / 1e6
            elif "physicalPlanDescription" in event:
                plan = event["physicalPlanDescription"]
                python |= {op for op in PYTHON_OPERATORS if op in plan}
    return jobs, work, python


def _ms(moment: dt.datetime) -> float:
    """A naive UTC time (the run records') as milliseconds since the epoch."""
    return moment.replace(tzinfo=dt.UTC).timestamp() * 1000


def node_windows(lake: str) -> list[tuple[str, float, float, float]]:
    """(node, start ms, end ms, seconds) of the run's nodes, from ``quality.node_runs``."""
    runs = pl.read_parquet(f"{lake}/quality/node_runs/*.parquet").sort("started_at")
    out = []
    for row in runs.iter_rows(named=True):
        start, end = (_ms(row["started_at"]), _ms(row["finished_at"]))
        out.append((row["node"], start, end, row["seconds"] or 0.0))
    return out


def saving_seconds(log: str) -> dict[str, float]:
    """Seconds from each "Saving data to <table> (SparkLakeTableDataset)" line of a Kedro
    log (``conf/logging.yml``: each line starts with its time, to the second) to the line
    after it."""
    out: defaultdict[str, float] = defaultdict(float)
    now, pending = None, None
    for line in log.splitlines():
        if found := re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ", line):
            now = dt.datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S")
        if pending and line.strip() and now is not None:
            out[pending[0]] += (now - pending[1]).total_seconds()
            pending = None
        if (saving := re.search(r"Saving data to (\S+) \(SparkLakeTableDataset\)", line)) and now:
            pending = (saving[1], now)
    return dict(out)


def report(events: Path, lake: str, log: str) -> None:
    """Print the event log's totals, the per-node table and the saves."""
    jobs, work, python = read_events(events)
    windows = node_windows(lake)
    per_node: dict[str, Work] = defaultdict(Work)
    for submitted, job in jobs:
        name = next((n for n, s, e, _ in windows if s - 50 <= submitted <= e + 50), _BETWEEN)
        total, done = per_node[name], work[job]
        total.jobs += 1
        total.stages += done.stages
        total.tasks += done.tasks
        total.shuffle_written += done.shuffle_written
        total.run_ms += done.run_ms
        total.cpu_ms += done.cpu_ms
    everything = list(work.values())
    print(
        f"spark: {len(jobs)} jobs, {sum(w.stages for w in everything)} stages, "
        f"{sum(w.tasks for w in everything)} tasks, "
        f"{sum(w.shuffle_written for w in everything) / 2**20:.0f} MiB shuffled, executor "
        f"run {sum(w.run_ms for w in everything) / 1000:.1f} s, CPU "
        f"{sum(w.cpu_ms for w in everything) / 1000:.1f} s; Python on the executors: "
        f"{', '.join(sorted(python)) or 'none'}"
    )
    print(f"{'node':<24}{'s':>7}{'jobs':>6}{'tasks':>7}{'shuffle MiB':>12}{'run s':>7}{'CPU s':>7}")
    seconds = {name: s for name, _, _, s in windows}
    for name in [*seconds, _BETWEEN]:
        done = per_node.get(name, Work())
        if name == _BETWEEN and not done.jobs:
            continue
        print(
            f"{name:<24}{seconds.get(name, 0.0):7.1f}{done.jobs:6d}{done.tasks:7d}"
            f"{done.shuffle_written / 2**20:12.1f}{done.run_ms / 1000:7.1f}"
            f"{done.cpu_ms / 1000:7.1f}"
        )
    saves = saving_seconds(log)
    print(
        f"saving the Spark lake tables: {sum(saves.values()):.0f} s ("
        + ", ".join(f"{t} {s:.0f}" for t, s in saves.items())
        + ")"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=None, help="default: orders / 10")
    parser.add_argument("--lake", default=None, help="default: a temporary folder")
    parser.add_argument("--conf", action="append", default=[], help="key=value (Spark)")
    args = parser.parse_args()
    customers = args.customers or max(args.orders // 10, 1)
    lake = args.lake or tempfile.mkdtemp(prefix="medallion-spark-profile-")
    params = f"n_orders={args.orders},n_customers={customers}"
    master = os.environ.get("SPARK_MASTER", "local[*]")
    print(f"orders={args.orders:,} customers={customers:,} lake={lake} master={master}")
    if not (Path(lake) / "landing").is_dir():
        run_stage("generate", params, lake)
    _keep_only_landing(lake)
    with tempfile.TemporaryDirectory(prefix="medallion-spark-events-") as folder:
        events = Path(folder)
        conf = [
            "spark.eventLog.enabled=true",
            f"spark.eventLog.dir={events.as_uri()}",
            "spark.eventLog.compress=false",
            *args.conf,
        ]
        submit = " ".join(f"--conf {c}" for c in conf) + " pyspark-shell"
        with tempfile.NamedTemporaryFile("w+", suffix=".log") as log:
            os.environ.update(PYSPARK_SUBMIT_ARGS=submit, COLUMNS="300")
            cmd = [sys.executable, "-m", "kedro", "run", "--pipelines", "bronze,silver,gold"]
            wall, rss = _measure([*cmd, "--env", "spark"], lake, "kedro run --env spark", log)
            text = Path(log.name).read_text()
        print(f"kedro run --env spark: wall {wall:.1f} s, peak RSS {rss:.0f} MiB")
        report(events, lake, text)


if __name__ == "__main__":
    main()
