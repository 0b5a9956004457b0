"""Spark for the ``spark`` Kedro environment: one session per process, from ``spark.yml``."""

from medallion_kedro.spark.session import SparkHooks, configure, spark_session

__all__ = ["SparkHooks", "configure", "spark_session"]
