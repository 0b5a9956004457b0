"""The published history of the commit record, as a property over random commit sequences:
time travel and restores resolve to exactly what readers were given, and nothing else."""

from __future__ import annotations

import tempfile
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medallion_kedro.lake import (
    Lake,
    LakeHistoryError,
    check_published,
    commit_entries,
    lake_at,
    version_at,
)
from medallion_kedro.lake.history import state_after, state_at, state_before_last
from medallion_kedro.lake.record import utc

KEYS = ("bronze.orders", "silver.orders", "gold.kpis")

#: One commit: the run that made it and, per table it names, a new version or a withdrawal.
commit = st.tuples(
    st.integers(min_value=0, max_value=3),  # run number: a run may commit several stages
    st.dictionaries(st.sampled_from(KEYS), st.booleans(), min_size=1),  # True: new version
)


def _build(lake: Lake, commits: list[tuple[int, dict[str, bool]]]) -> list[dict[str, Any]]:
    """Commit ``commits`` to ``lake``; return what readers were given after each, as
    (at, {key: version}) written down independently of the history module."""
    latest: dict[str, int] = {}
    seen: dict[str, int | None] = {}
    given_after: list[dict[str, Any]] = []
    for run, tables in commits:
        entries: dict[str, dict[str, Any] | None] = {}
        for key, new in tables.items():
            if new:
                latest[key] = latest.get(key, -1) + 1
                entries[key] = {"format": "delta", "version": latest[key], "run_id": f"r{run}"}
            else:
                entries[key] = None
        record = commit_entries(lake, entries, f"r{run}")
        for key, entry in entries.items():
            seen[key] = None if entry is None else int(entry["version"])
        given_after.append({"at": record["history"][-1]["at"], "tables": dict(seen)})
    return given_after


@settings(max_examples=40, deadline=None)
@given(st.lists(commit, min_size=1, max_size=12))
def test_time_travel_gives_what_readers_were_given(commits: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as root:
        lake = lake_at(root)
        given_after = _build(lake, commits)
        record = lake.read_record()
        published = {k: {s["tables"][k] for s in given_after if s["tables"].get(k) is not None}
                     for k in KEYS}  # fmt: skip
        for moment in given_after:
            # the last commit at or before this time decides (commits may share a time)
            last = [m for m in given_after if utc(m["at"]) <= utc(moment["at"])][-1]
            state = state_at(record, moment["at"])
            assert {k: (e or {}).get("version") for k, e in state.items()} == last["tables"]
            for key in KEYS:
                expected = last["tables"].get(key)
                if expected is None:
                    with pytest.raises(LakeHistoryError):
                        version_at(record, key, moment["at"])
                else:
                    assert version_at(record, key, moment["at"]) == expected
        for key in KEYS:
            for version in range(-1, 14):
                if version in published[key]:
                    check_published(record, key, version)
                else:
                    with pytest.raises(LakeHistoryError, match="never published"):
                        check_published(record, key, version)
            first = min((utc(m["at"]) for m in given_after if key in m["tables"]), default=None)
            if first is not None:
                with pytest.raises(LakeHistoryError, match="before the first published"):
                    version_at(record, key, "2000-01-01T00:00:00")


@settings(max_examples=40, deadline=None)
@given(st.lists(commit, min_size=2, max_size=12))
def test_restore_points_are_the_state_after_a_runs_last_commit(commits: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as root:
        lake = lake_at(root)
        given_after = _build(lake, commits)
        record = lake.read_record()
        for run in {f"r{r}" for r, _ in commits}:
            last = max(i for i, (r, _) in enumerate(commits) if f"r{r}" == run)
            state = state_after(record, run)
            assert {k: (e or {}).get("version") for k, e in state.items()} == {
                k: v for k, v in given_after[last]["tables"].items()
            }
        last_run = f"r{commits[-1][0]}"
        first = min(i for i, (r, _) in enumerate(commits) if f"r{r}" == last_run)
        if first == 0:
            with pytest.raises(LakeHistoryError, match="nothing before it"):
                state_before_last(record)
        else:
            run, state = state_before_last(record)
            assert run == last_run
            before = given_after[first - 1]["tables"]
            assert {k: (e or {}).get("version") for k, e in state.items()} == before
