"""``project_catalog``: the one catalog builder outside a run (``kedro run``'s checks,
``kedro lake``, the app's lake source), and no private Kedro or OmegaConf name anywhere."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from medallion_kedro import project_catalog
from medallion_kedro.spark import session

ROOT = Path(__file__).resolve().parents[1]
CODE = ("src", "medallion_dev", "graphql_api", "ui")


def test_relative_paths_are_under_the_project_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAKE_PATH", raising=False)
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    monkeypatch.chdir(tmp_path)
    catalog = project_catalog.build_catalog(root=ROOT)
    folder = catalog.get("landing.customers")._describe()["folder"]
    assert str(folder) == (ROOT / "data/lake/landing/customers").as_posix()


def test_urls_and_absolute_paths_stay_as_they_are() -> None:
    conf = {"a": {"filepath": "s3://bucket/x", "folder": "/abs/y", "path": "rel/z", "n": 1}}
    assert project_catalog.absolute_paths(conf, Path("/root")) == {
        "a": {"filepath": "s3://bucket/x", "folder": "/abs/y", "path": "/root/rel/z", "n": 1}
    }


def test_the_spark_environment_records_its_spark_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``kedro lake ... --env spark`` builds its catalog here, so the Spark datasets find
    the settings of ``conf/spark/spark.yml`` as they do in ``kedro run --env spark``."""
    recorded: list[dict[str, Any]] = []
    monkeypatch.setattr(session, "configure", lambda conf: recorded.append(dict(conf)))
    project_catalog.build_catalog("local", root=ROOT)
    assert recorded == []
    project_catalog.build_catalog("spark", root=ROOT)
    assert [conf["spark.app.name"] for conf in recorded] == ["medallion-kedro"]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
            "kedro",
            "omegaconf",
        ):
            parts = (node.module or "").split(".")
            names = [a.name for a in node.names]
            if any(_private(name) for name in [*parts, *names]):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module} {names}")
    return found


def test_no_private_kedro_or_omegaconf_name_is_imported() -> None:
    found = [
        hit for d in CODE for p in sorted((ROOT / d).rglob("*.py")) for hit in _private_imports(p)
    ]
    assert found == []
