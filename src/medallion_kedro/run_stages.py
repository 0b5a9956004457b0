"""Rows in and out of each stage of a run, from its nodes' rows per dataset.

A stage's rows in are those of the datasets its nodes read that no node of the stage
wrote (``previous.*``, a stage's own earlier state, excepted); its rows out those of the
catalog datasets it wrote (named ``<layer>.<table>``) and of any other output no node of
the stage read. Each dataset counts once, however many nodes read it, and the frames
passed from node to node inside a stage are not counted. The app's lake source and the
API both describe stages with :func:`stage_rows` (this module imports no Kedro).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

#: Datasets a stage reads that are its own earlier state, not rows flowing in.
OWN_STATE = "previous."
#: The stage of a node without a tag.
UNTAGGED = "other"


class StageRows(TypedDict):
    stage: str
    rows_in: int | None
    rows_out: int | None
    seconds: float


def _rows(entries: Any) -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for entry in entries or []:
        rows = entry.get("rows")
        found[str(entry["dataset"])] = None if rows is None else int(rows)
    return found


def _total(rows: dict[str, int | None]) -> int | None:
    counted = [n for n in rows.values() if n is not None]
    return sum(counted) if counted else None


def stage_rows(nodes: Iterable[Mapping[str, Any]]) -> list[StageRows]:
    """One entry per stage (a node's first tag), in the order the stages first ran."""
    stages: dict[str, list[Mapping[str, Any]]] = {}
    for node in nodes:
        tags = node.get("tags") or []
        stages.setdefault(str(tags[0]) if tags else UNTAGGED, []).append(node)
    out: list[StageRows] = []
    for stage, members in stages.items():
        read: dict[str, int | None] = {}
        written: dict[str, int | None] = {}
        for node in members:
            read.update(_rows(node.get("inputs")))
            written.update(_rows(node.get("outputs")))
        rows_in = {
            d: n for d, n in read.items() if d not in written and not d.startswith(OWN_STATE)
        }
        rows_out = {d: n for d, n in written.items() if "." in d or d not in read}
        seconds = sum(float(node.get("seconds") or 0.0) for node in members)
        out.append(
            StageRows(
                stage=stage,
                rows_in=_total(rows_in),
                rows_out=_total(rows_out),
                seconds=round(seconds, 3),
            )
        )
    return out
