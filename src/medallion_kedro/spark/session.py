"""The process's SparkSession, made from ``conf/<env>/spark.yml`` (:func:`configure_from`).

The hook only records the configuration; the session (and its JVM) starts when a dataset
first needs it, so ``kedro viz``, ``kedro catalog`` and the bronze/silver stages of the
``spark`` environment never start Java. PySpark is imported only then, too: it is the
optional ``spark`` extra.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl

if TYPE_CHECKING:
    from kedro.framework.context import KedroContext
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)
_lock = threading.Lock()
_conf: dict[str, str] | None = None

#: The session extension delta-spark asks for (``spark.sql.extensions``).
DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"


def has_delta(conf: Mapping[str, Any]) -> bool:
    """Whether Spark settings configure Delta Lake (delta-spark's session extension), so
    lake tables are read and written by Spark natively; otherwise the lake datasets read
    the Parquet files of a Delta version and write through the driver (Arrow, delta-rs)."""
    extensions = str(conf.get("spark.sql.extensions") or "")
    return DELTA_EXTENSION in (e.strip() for e in extensions.split(","))


def session_has_delta(spark: SparkSession) -> bool:
    """:func:`has_delta` of a running session's settings."""
    return has_delta({"spark.sql.extensions": spark.conf.get("spark.sql.extensions", None)})


def describe(conf: Mapping[str, Any], spark_layers: Iterable[str]) -> str:
    """What the ``spark`` environment runs where, for the start-up line: ``spark_layers``
    are the layers whose lake tables the catalog loads as Spark DataFrames."""
    layers = sorted(set(spark_layers))
    if layers:
        named = ", ".join(layers[:-1]) + (" and " if len(layers) > 1 else "") + layers[-1]
        where = (
            f"the {named} tables load as Spark DataFrames (Spark starts on first use), so "
            "the nodes that read them run on Spark; the others run on polars (landing files "
            "are parsed on polars, and gold collects its small tables to polars to publish "
            "them)"
        )
    else:
        where = "no lake table loads as a Spark DataFrame: every node runs on polars"
    io = (
        "Spark reads and writes the lake's Delta tables natively (delta-spark)"
        if has_delta(conf)
        else "this session has no Delta support: Spark reads each lake table from the "
        "Parquet files of its published Delta version, and writes go through the driver "
        "(Spark DataFrame to Arrow, written by delta-rs)"
    )
    return f"Spark environment (master {conf.get('spark.master')}): {where}; {io}."


def spark_layers(catalog: Mapping[str, Any]) -> set[str]:
    """The lake layers of the catalog entries that load as Spark DataFrames."""
    return {
        PurePosixPath(str(entry["filepath"])).parent.name
        for name, entry in catalog.items()
        if not name.startswith("_")  # YAML anchors, which Kedro ignores
        and isinstance(entry, Mapping)
        and "filepath" in entry
        and str(entry.get("type", "")).endswith("SparkLakeTableDataset")
    }


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


def configure_from(loader: Mapping[str, Any]) -> dict[str, Any] | None:
    """Record the Spark settings of a configuration loader's environment (its
    ``spark.yml``), if it has any, and return them; ``None`` for an environment without.

    Both a run (:class:`SparkHooks`) and a catalog built outside a run
    (:mod:`medallion_kedro.project_catalog`) call it, so ``--env spark`` gives the same
    sessions to ``kedro run`` and ``kedro lake``.
    """
    try:
        conf = loader["spark"]
    except MissingConfigException:
        return None
    if not conf:
        return None
    configure(conf)
    return dict(conf)


class SparkHooks:
    """Read ``spark.yml`` of the run's environment, if it has one, for :func:`spark_session`."""

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        conf = configure_from(context.config_loader)
        if conf is None:
            return
        try:
            catalog = context.config_loader["catalog"]
        except (KeyError, MissingConfigException):
            catalog = {}
        log.info(describe(conf, spark_layers(catalog)))
