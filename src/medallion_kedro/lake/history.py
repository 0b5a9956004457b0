"""The published history of the lake, from its commit record: which Delta version of a
table readers got at a given time, which versions were ever published, and the whole
lake as a past commit left it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from medallion_kedro.errors import UserError
from medallion_kedro.lake.record import Entry, Record, utc


class LakeHistoryError(UserError, ValueError):
    """A time or version that the published history does not have; the message says why."""


@dataclass(frozen=True)
class Published:
    """One commit's publication of one table (``entry`` None: the commit withdrew it)."""

    at: dt.datetime
    run_id: str
    op: str
    entry: Entry | None

    @property
    def version(self) -> int | None:
        return None if self.entry is None else int(self.entry["version"])


def publications(record: Record, key: str) -> list[Published]:
    """Every commit that published (or withdrew) table ``key``, oldest first."""
    return [
        Published(utc(item["at"]), str(item["run_id"]), str(item.get("op", "run")), entry)
        for item in record.get("history", [])
        for name, entry in item["tables"].items()
        if name == key
    ]


def published_versions(record: Record, key: str) -> list[int]:
    """The Delta versions of ``key`` that a commit published, ascending."""
    return sorted({p.version for p in publications(record, key) if p.version is not None})


def version_at(record: Record, key: str, when: str | dt.datetime) -> int:
    """The Delta version of ``key`` readers got at time ``when`` (naive times are UTC)."""
    moment = utc(when)
    found = publications(record, key)
    before = [p for p in found if p.at <= moment]
    if not found:
        raise LakeHistoryError(f"{key} has no published version: it was never built.")
    if not before:
        raise LakeHistoryError(
            f"{moment.isoformat()} is before the first published version of {key} "
            f"(version {found[0].version}, published {found[0].at.isoformat()}): pick a later "
            f"time (see `kedro lake history {key}`)."
        )
    last = before[-1]
    if last.version is None:
        raise LakeHistoryError(
            f"{key} was not published at {moment.isoformat()} (a restore withdrew it at "
            f"{last.at.isoformat()}): see `kedro lake history {key}`."
        )
    return last.version


def check_published(record: Record, key: str, version: int) -> None:
    """Refuse a Delta ``version`` of ``key`` that no commit published."""
    versions = published_versions(record, key)
    if version not in versions:
        shown = ", ".join(map(str, versions[-10:])) or "none"
        raise LakeHistoryError(
            f"Version {version} of {key} was never published (a run that did not finish "
            f"wrote it, or it does not exist): its published versions are {shown}. "
            f"See `kedro lake history {key}`."
        )


def run_of_version(record: Record, key: str, version: int) -> str | None:
    """The id of the commit that published Delta ``version`` of ``key``, if one did."""
    for published in publications(record, key):
        if published.version == version:
            return published.run_id
    return None


def state_after(record: Record, run_id: str) -> dict[str, Entry | None]:
    """Every table as readers saw it just after the last commit of ``run_id`` (None for a
    table not published then)."""
    items = record.get("history", [])
    last = max((i for i, item in enumerate(items) if item["run_id"] == run_id), default=None)
    if last is None:
        raise LakeHistoryError(
            f"No commit of the lake has run id {run_id}: see `kedro lake history` for the "
            "commits it has."
        )
    return _fold(items[: last + 1])


def state_at(record: Record, when: str | dt.datetime) -> dict[str, Entry | None]:
    """Every table as readers saw it at time ``when``."""
    moment = utc(when)
    items = [item for item in record.get("history", []) if utc(item["at"]) <= moment]
    if not items:
        raise LakeHistoryError(
            f"{moment.isoformat()} is before the lake's first commit: pick a later time "
            "(see `kedro lake history`)."
        )
    return _fold(items)


def state_before_last(record: Record) -> tuple[str, dict[str, Entry | None]]:
    """The id of the lake's last change (a run, restore or rollback; not a realign, which
    publishes the same rows again) and every table as readers saw it before it."""
    items = record.get("history", [])
    changes = [i for i, item in enumerate(items) if item.get("op") != "realign"]
    if not changes:
        raise LakeHistoryError("The lake has no commit to roll back.")
    last = items[changes[-1]]["run_id"]
    first = min(i for i, item in enumerate(items) if item["run_id"] == last)
    if first == 0:
        raise LakeHistoryError(
            f"The lake's first run ({last}) has nothing before it to roll back to: build "
            "the lake again instead."
        )
    return str(last), _fold(items[:first])


def commits(record: Record) -> list[dict[str, Any]]:
    """The lake's commits, newest first: ``run_id``, ``op``, ``at``, tables published."""
    return list(reversed(record.get("history", [])))


def _fold(items: list[dict[str, Any]]) -> dict[str, Entry | None]:
    state: dict[str, Entry | None] = {}
    for item in items:
        state.update(item["tables"])
    return state
