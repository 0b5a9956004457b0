"""The guide's French-layout example, run as written: its commands, read from the guide."""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pymongo
import pytest
import yaml

from medallion_kedro.datasets.mongo_manifest import live_collections
from medallion_kedro.lake import read_table
from tests.servers import BIN, mongo_server

ROOT = Path(__file__).resolve().parents[1]
GUIDE = "docs/guide.md"
SECTION = "### Another source layout: `conf/fr_layout`"
FR_SOURCES = yaml.safe_load(
    (ROOT / "conf/fr_layout/parameters_bronze.yml").read_text(encoding="utf-8")
)["bronze"]["sources"]


def readme_commands() -> list[list[str]]:
    """The ``kedro`` command lines of the guide's French-layout section, in order."""
    text = (ROOT / GUIDE).read_text()
    assert SECTION in text, f"{GUIDE} has no section {SECTION!r}"
    section = re.split(r"\n#{2,6} ", text.split(SECTION, 1)[1], maxsplit=1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    lines = (line.split(" #")[0].strip() for block in blocks for line in block.splitlines())
    return [shlex.split(line) for line in lines if line.startswith("kedro ")]


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode:
        raise AssertionError(f"{shlex.join(command)} failed:\n{result.stdout[-4000:]}")


def test_readme_french_example_runs_as_written(tmp_path: Path) -> None:
    commands = readme_commands()
    assert len(commands) >= 2 and all("fr_layout" in c for c in commands), commands
    assert any("generate" in " ".join(c) for c in commands), "the example generates its files"
    lake = tmp_path / "lake"
    with mongo_server(tmp_path / "medallion.db") as mongo:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGO_", "LAKE_"))}
        env.update(
            LAKE_PATH=str(lake), MONGO_URI=mongo.uri, MONGO_DB="fr", KEDRO_DISABLE_TELEMETRY="1"
        )
        for command in commands:
            _run(command, env)
        with pymongo.MongoClient[dict[str, Any]](mongo.uri) as client:
            kpis_doc = client["fr"][live_collections(client["fr"])["kpis"]].find_one()

    landing = lake / "landing"
    assert sorted(p.name for p in landing.iterdir()) == ["achats.csv", "clients.csv"]
    for table, name in (("customers", "clients.csv"), ("orders", "achats.csv")):
        header = (landing / name).read_text().splitlines()[0].split(",")
        assert sorted(header) == sorted(FR_SOURCES[table]["column_map"]), name
    bronze = read_table(str(lake), "bronze", "customers")
    assert set(bronze["_source_file"]) == {"clients.csv"}
    silver = {t: read_table(str(lake), "silver", t) for t in ("customers", "orders")}
    assert silver["customers"].height > 9_000 and silver["orders"].height > 90_000
    recon = read_table(str(lake), "quality", "reconciliation")
    assert recon["balanced"].all()

    kpis = read_table(str(lake), "gold", "kpis")
    assert kpis["total_orders"][0] == silver["orders"].height
    # No as_of given: gold infers it from the generated data, whose history ends the day
    # before generator.reference_date.
    assert kpis["as_of"][0] == dt.date(2026, 11, 1)
    assert kpis["active_customers"][0] > 0
    for table in ("revenue_by_country", "revenue_by_product", "monthly_revenue"):
        assert read_table(str(lake), "gold", table).height > 0, table
    assert kpis_doc is not None and kpis_doc["total_orders"] == kpis["total_orders"][0]


@pytest.mark.parametrize(
    "readme",
    [
        "```bash\n# comment\nkedro run --env fr_layout   # builds it\n```\n",
        "no commands here\n",
    ],
)
def test_readme_commands_are_read_from_the_section(
    readme: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader finds the section's commands, and only those (so the test above follows
    the guide)."""
    (tmp_path / "docs").mkdir()
    (tmp_path / GUIDE).write_text(f"# x\n{SECTION}\n\n{readme}\n## Next\n```bash\nkedro x\n```\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    expected = [["kedro", "run", "--env", "fr_layout"]] if "kedro" in readme else []
    assert readme_commands() == expected


def test_fr_layout_has_a_lake_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """``kedro run --env fr_layout`` writes ``data/lake_fr``, never the default lake."""
    from medallion_kedro import settings

    monkeypatch.delenv("LAKE_PATH", raising=False)

    def lake(env: str) -> str:
        conf = str(ROOT / "conf")
        loader = settings.CONFIG_LOADER_CLASS(conf, env=env, **settings.CONFIG_LOADER_ARGS)
        return str(loader["globals"]["lake"])

    assert lake("local") == "data/lake"
    assert lake("fr_layout") == "data/lake_fr"
    conf = str(ROOT / "conf")
    fr = settings.CONFIG_LOADER_CLASS(conf, env="fr_layout", **settings.CONFIG_LOADER_ARGS)
    assert fr["catalog"]["landing.customers"]["folder"] == "data/lake_fr/landing/clients"
