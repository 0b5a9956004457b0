"""Spark tests: each module skips itself when PySpark (the ``spark`` extra) or Java is
missing, before it imports PySpark."""

from __future__ import annotations

import shutil

import pytest


def skip_without_spark() -> None:
    """Skip the calling test module when PySpark or Java is not installed (call it at
    module level, before importing pyspark)."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed (openjdk-17-jre-headless)", allow_module_level=True)
