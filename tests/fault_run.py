"""``kedro run`` in a process of its own, with a real fault injected after one dataset save.

``python -m tests.fault_run --pipelines bronze --kill-after bronze.customers`` sends itself
SIGKILL right after ``bronze.customers`` is saved (the fault of a crash, an OOM kill or a
power cut between two writes); ``--pause-after NAME`` prints ``PAUSED`` and sleeps there,
holding the lake lock, so a test can start a second run or kill this one. ``fault_run`` and
``paused_run`` start it from a test. The hook is
registered only in this process: the project's own settings carry no fault switch.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kedro.framework.hooks import hook_impl
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def fault_run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.fault_run", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env, "KEDRO_DISABLE_TELEMETRY": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@contextlib.contextmanager
def paused_run(env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[str]]:
    """A real run stopped after a save (holding the lake lock); killed with SIGKILL at exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fault_run", *args, "--seconds", "120"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env, "KEDRO_DISABLE_TELEMETRY": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == "PAUSED":
                break
        else:
            pytest.fail(f"the paused run exited early (rc={proc.wait()})")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


class Fault:
    def __init__(self, dataset: str, kill: bool, seconds: float) -> None:
        self.dataset, self.kill, self.seconds = dataset, kill, seconds

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        if dataset_name != self.dataset:
            return
        if self.kill:
            os.kill(os.getpid(), signal.SIGKILL)
        print("PAUSED", flush=True)
        time.sleep(self.seconds)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pipelines", default="bronze,silver,gold")
    parser.add_argument("--env", default=None)
    parser.add_argument("--kill-after", default=None)
    parser.add_argument("--pause-after", default=None)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(project_path=PROJECT_ROOT, env=args.env) as session:
        target = args.kill_after or args.pause_after
        if target:
            session._hook_manager.register(Fault(target, bool(args.kill_after), args.seconds))
        session.run(pipeline_names=args.pipelines.split(","))


if __name__ == "__main__":
    main(sys.argv[1:])
