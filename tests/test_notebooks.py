"""Every notebook runs headless against a small lake, and `kedro jupyter lab` opens ours."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nbformat
import pytest
from nbclient import NotebookClient

from tests import handmade as hm
from tests.kedro_run import PROJECT_ROOT, kedro_run
from tests.servers import free_port, stop_process_group

pytestmark = pytest.mark.slow
#: What `make notebook` adds to `kedro jupyter lab`: the lab opens on the project notebook.
OPEN_NOTEBOOK = "--LabApp.default_url=/lab/tree/notebooks/explore_gold.ipynb"
NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A lake built by the real pipelines from the hand-made landing files; LAKE_PATH set."""
    lake = tmp_path_factory.mktemp("notebook") / "lake"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKE_PATH", str(lake))
        hm.write_landing(lake)
        kedro_run(["bronze", "silver", "gold"])
        yield lake


def test_there_is_a_notebook_and_make_notebook_opens_it() -> None:
    assert [p.name for p in NOTEBOOKS] == ["explore_gold.ipynb"]
    assert f"kedro jupyter lab {OPEN_NOTEBOOK}" in (PROJECT_ROOT / "Makefile").read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_without_a_cell_error(path: Path, small_lake: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    # The kernel inherits this process's environment (LAKE_PATH) and starts in notebooks/.
    NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": path.parent}}
    ).execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = "".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    for column in ("total_revenue", "country", "segment", "customers"):
        assert column in shown, f"{path.name} showed no {column!r}"


def test_kedro_jupyter_lab_opens_the_project_notebook(tmp_path: Path) -> None:
    port, token = free_port(), "nb-test-token"
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "1",
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),  # its kernel spec goes here
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
    }
    log = (tmp_path / "lab.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "kedro", "jupyter", "lab", OPEN_NOTEBOOK,
         "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"token {token}"}
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/status", headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp_path / "lab.log").read_text()[-3000:]
            time.sleep(0.5)
        else:
            pytest.fail("kedro jupyter lab did not answer within 90 s")
        home = httpx.get(f"{base}/", headers=headers, timeout=10)
        assert home.headers["location"].split("?")[0] == "/lab/tree/notebooks/explore_gold.ipynb"
        content = httpx.get(
            f"{base}/api/contents/notebooks/explore_gold.ipynb", headers=headers, timeout=10
        )
        assert content.status_code == 200
        assert content.json()["type"] == "notebook"
        specs = httpx.get(f"{base}/api/kernelspecs", headers=headers, timeout=10).json()
        assert specs["default"] == "kedro_medallion_kedro"
        assert "kedro_medallion_kedro" in specs["kernelspecs"]
        # the notebook names that kernel, so Jupyter opens it with the project's
        kernel = content.json()["content"]["metadata"]["kernelspec"]
        assert kernel["name"] == specs["default"]
        assert (
            kernel["display_name"] == specs["kernelspecs"][kernel["name"]]["spec"]["display_name"]
        )
    finally:
        stop_process_group(process)
        log.close()


def test_jupyter_checkpoints_are_not_tracked() -> None:
    """``make notebook`` leaves ``notebooks/.ipynb_checkpoints/``: git ignores it."""
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "notebooks/.ipynb_checkpoints/explore_gold-checkpoint.ipynb"],
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert ignored.returncode == 0
