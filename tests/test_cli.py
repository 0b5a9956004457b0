"""`kedro run` as a user types it: no warning of ours, and a one-line answer to a typo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
WARNING_WORDS = ("Warning", "deprecated", "is not supported for validation")


def _kedro_run(
    *args: str, lake: Path, mongo_uri: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "LAKE_PATH": str(lake)}
    if mongo_uri:
        env.update(MONGO_URI=mongo_uri, MONGO_DB="cli_tests")
    # Wide, plain output so a message is one line whatever the terminal.
    env.update(COLUMNS="300", NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "kedro", "run", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip


def test_a_normal_run_prints_no_warning(tmp_path: Path, mongo) -> None:  # type: ignore[no-untyped-def]
    generate = _kedro_run(
        "--pipelines", "generate", "--params", "n_customers=200,n_orders=2000", lake=tmp_path
    )
    assert generate.returncode == 0, generate.stderr[-3000:]
    run = _kedro_run(lake=tmp_path, mongo_uri=mongo.uri)
    assert run.returncode == 0, run.stderr[-3000:]
    for result in (generate, run):
        output = result.stdout + result.stderr
        noisy = [line for line in output.splitlines() if any(w in line for w in WARNING_WORDS)]
        assert not noisy, "\n".join(noisy)


@pytest.mark.parametrize("option", ["--pipelines", "--pipeline"])
def test_an_unknown_pipeline_gets_one_line_naming_the_registered_ones(
    tmp_path: Path, option: str
) -> None:
    result = _kedro_run(option, "nosuch", lake=tmp_path)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors == [
        "Error: unknown pipeline 'nosuch'; registered pipelines: bronze, export, generate, "
        "gold, silver (without --pipelines, `kedro run` runs bronze, silver, gold and export)"
    ]
    assert "Traceback" not in result.stdout + result.stderr
    assert not list(tmp_path.iterdir()), "nothing may run before the name is checked"


def test_a_known_pipeline_still_runs_through_the_project_command(tmp_path: Path) -> None:
    result = _kedro_run(
        "--pipelines", "generate", "--params", "n_customers=50,n_orders=300", lake=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "landing" / "orders.csv").exists()


def test_the_pipeline_names_listed_without_building_them_are_the_registered_ones() -> None:
    from kedro.framework.project import configure_project

    from medallion_kedro.cli import pipeline_names
    from medallion_kedro.pipeline_registry import register_pipelines

    configure_project("medallion_kedro")
    assert pipeline_names() == sorted(set(register_pipelines()) - {"__default__"})
    assert pipeline_names() == ["bronze", "export", "generate", "gold", "silver"]


def test_the_check_before_a_run_reads_the_environment_kedro_would_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The nothing-new check builds its catalog without a session: same environment choice
    (``--env``, else ``KEDRO_ENV``, else ``local`` over ``base``), same absolute paths."""
    from medallion_kedro.project_catalog import build_catalog

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKE_PATH", str(tmp_path))

    def folder(env: str | None) -> str:
        return str(build_catalog(env).get("landing.customers")._describe()["folder"])

    monkeypatch.delenv("KEDRO_ENV", raising=False)
    assert folder(None) == str(tmp_path / "landing" / "customers")
    assert folder("fr_layout") == str(tmp_path / "landing" / "clients")
    monkeypatch.setenv("KEDRO_ENV", "fr_layout")
    assert folder(None) == str(tmp_path / "landing" / "clients")


def test_objects_alive_at_exit_are_left_out_of_the_final_collections(tmp_path: Path) -> None:
    # the interpreter's last garbage collections would walk everything a run created: a
    # `kedro run` freezes it at exit (after atexit handlers registered later, logging's
    # flush among them), which the handler registered here, before the run, sees
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"
        "from kedro.framework.cli.cli import main\n"
        "sys.argv = ['kedro', 'run', '--pipelines', 'silvr']\n"
        "main()\n"
    )
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "LAKE_PATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and "unknown pipeline 'silvr'" in done.stderr, done.stderr
    assert done.stdout.splitlines()[-1] == "frozen at exit: True"
