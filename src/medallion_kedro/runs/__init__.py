"""Run history (``quality.runs``, ``quality.node_runs``) and OpenLineage events of each run."""

from medallion_kedro.runs.hooks import RunRecordHooks, current_run_id
from medallion_kedro.runs.records import latest

__all__ = ["RunRecordHooks", "current_run_id", "latest"]
