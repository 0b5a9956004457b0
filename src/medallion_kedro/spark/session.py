"""The process's SparkSession, made from ``conf/<env>/spark.yml`` by :class:`SparkHooks`.

The hook only records the configuration; the session (and its JVM) starts when a dataset
first needs it, so ``kedro viz``, ``kedro catalog`` and the bronze/silver stages of the
``spark`` environment never start Java. PySpark is imported only then, too: it is the
optional ``spark`` extra.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl

if TYPE_CHECKING:
    from kedro.framework.context import KedroContext
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)
_lock = threading.Lock()
_conf: dict[str, str] | None = None


def configure(conf: Mapping[str, Any]) -> None:
    """Record the Spark settings (``spark.master``, ...) the session will be made with."""
    global _conf
    with _lock:
        _conf = {str(key): str(value) for key, value in conf.items()}


def spark_session() -> SparkSession:
    """The SparkSession of this process, started on first use from the recorded settings."""
    with _lock:
        conf = _conf
    if conf is None:
        raise RuntimeError(
            "No Spark settings: a Spark dataset needs the environment that configures "
            "Spark. Run with `kedro run --env spark` (conf/spark/spark.yml)."
        )
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise RuntimeError(
            "The spark environment needs PySpark and Java 17: `pip install -e '.[spark]'` "
            "and `apt-get install openjdk-17-jre-headless`."
        ) from exc
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


class SparkHooks:
    """Read ``spark.yml`` of the run's environment, if it has one, for :func:`spark_session`."""

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        try:
            conf = context.config_loader["spark"]
        except MissingConfigException:
            return
        if not conf:
            return
        configure(conf)
        log.info(
            "Spark environment (master %s): gold runs on Spark, started on first use; "
            "bronze and silver run on polars; Spark reads each lake table from the Parquet "
            "files of its published version (this session has no Delta support).",
            conf.get("spark.master"),
        )
