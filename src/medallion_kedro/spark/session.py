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

#: The ``spark.yml`` key of the packages an S3 lake adds to ``spark.jars.packages``.
S3_PACKAGES = "s3.jars.packages"
#: The session extension delta-spark asks for (``spark.sql.extensions``).
DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"


def has_delta(conf: Mapping[str, Any]) -> bool:
    """Whether Spark settings configure Delta Lake (delta-spark's session extension), which
    the lake datasets need to read and write lake tables on Spark."""
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
        "Spark reads and writes the lake's Delta tables itself (delta-spark), from the executors"
        if has_delta(conf)
        else "these settings have no Delta Lake support (spark.sql.extensions), so Spark "
        "cannot read or write the lake's tables: see conf/spark/spark.yml"
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


def session_settings(conf: Mapping[str, str], s3: bool = False) -> dict[str, str]:
    """The Spark settings of a session from ``spark.yml``'s: :data:`S3_PACKAGES` (the S3
    connector, hadoop-aws with its AWS SDK) joins ``spark.jars.packages`` only for a lake
    on S3, so a session on a local lake neither loads nor ships those jars."""
    settings = {k: v for k, v in conf.items() if k != S3_PACKAGES}
    if s3 and conf.get(S3_PACKAGES):
        packages = [settings.get("spark.jars.packages", ""), conf[S3_PACKAGES]]
        settings["spark.jars.packages"] = ",".join(p for p in packages if p)
    return settings


def spark_session(s3: bool = False) -> SparkSession:
    """The SparkSession of this process, started on first use from the recorded settings
    (with the S3 connector when ``s3``: the first lake table that starts it decides)."""
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
    for key, value in session_settings(conf, s3).items():
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
