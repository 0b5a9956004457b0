"""``kedro lake retract``: take a landing batch back, or bring it back (``--undo``).

A retraction is a row of ``bronze.retractions``, recorded by an ordinary run of the
lakehouse (``params:retraction``), so it is published through the commit record under the
lake lock like any run. The retracted batch stops being live (see
:mod:`medallion_kedro.pipelines.bronze.ledger`): the same run checks silver again without
it, and builds gold, so the lake becomes what a build without that file gives. Its rows
stay in bronze (append-only history), and its file is not ingested again while it is
retracted.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, cast

from medallion_kedro.pipelines.bronze.ledger import retraction

#: The pipelines a retraction runs: the record, then everything that reads bronze.
PIPELINES = ["bronze", "silver", "gold"]


def retract(target: str, *, undo: bool = False, env: str | None = None) -> str:
    """Take batch ``target`` (a batch id or a landing file name) back, or bring it back
    with ``undo``, in one run of the lakehouse; the line to print."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    project = Path.cwd()
    bootstrap_project(project)
    params: dict[str, Any] = {"retraction": {"target": target, "undo": undo}}
    with KedroSession.create(project_path=project, env=env, runtime_params=params) as opened:
        session = cast("KedroSession", opened)
        ledger = session.load_context().catalog.load("previous.bronze_batches")
        retraction(ledger, target, undo, dt.datetime.now())  # an unknown batch: no run
        session.run(pipeline_names=PIPELINES)
    if undo:
        return f"Batch {target} is back in the lake: silver and gold include it again."
    return (
        f"Batch {target} is retracted: silver and gold are built without it, and its file "
        f"is not ingested again. Bring it back with `kedro lake retract {target} --undo`."
    )
