"""Whether MongoDB publishes the gold the lake holds now (read before a run, no node)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _matches(facts: Mapping[str, Any], gold: Mapping[str, Mapping[str, Any]]) -> bool:
    """``facts`` (a manifest's ``sources``) name every gold table at its current version."""
    for key, entry in gold.items():
        seen = facts.get(key.removeprefix("gold."))
        if not isinstance(seen, Mapping):
            return False
        if (seen.get("version"), seen.get("lake_run_id")) != (
            entry.get("version"),
            entry.get("run_id"),
        ):
            return False
    return bool(gold)


def export_behind(catalog: Any) -> str | None:
    """One line when the current export does not come from the lake's current gold
    versions (a new gold never exported, or an export that failed or was killed), else
    ``None``.

    A manifest's ``sources`` name the gold versions it publishes (an export that found
    gold unchanged and kept the manifest names the new versions there too). A manifest
    another lake published raises the export's own ``OtherLakeError``, which names both
    lakes and ``--params replace_other_lake=true``.
    """
    gold = catalog.load("lake.gold_versions")
    manifest = catalog.get("mongo.gold").current_manifest()
    if manifest is not None:  # another lake's export is never replaced unasked
        from medallion_kedro.datasets.mongo_manifest import check_owner

        check_owner(manifest, catalog.load("lake.identity"), str(manifest["database"]), False)
    if manifest is not None and _matches(manifest.get("sources") or {}, gold):
        return None
    runs = sorted({str(entry.get("run_id")) for entry in gold.values()})
    exported = "nothing" if manifest is None else f"export run {manifest['run_id']}"
    return (
        f"Nothing new in landing and gold is up to date, but MongoDB publishes {exported}, "
        f"not gold run {', '.join(runs)}: running the export."
    )
