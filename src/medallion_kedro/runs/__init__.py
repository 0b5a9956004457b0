"""Run history (``quality.runs``, ``quality.node_runs``) and OpenLineage events of each run."""

from medallion_kedro.runs.hooks import RunRecordHooks, current_run_id
from medallion_kedro.runs.records import NODE_RUNS, RUNS, history, latest

__all__ = ["NODE_RUNS", "RUNS", "RunRecordHooks", "current_run_id", "history", "latest"]
