"""``SparkLakeTableDataset``: a lake table that Spark reads and writes as Delta itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import polars as pl
from kedro.io.core import DatasetError
from kedro_datasets._typing import TablePreview

import medallion_kedro.lake as lakes
from medallion_kedro.datasets._preview import table_preview
from medallion_kedro.datasets.delta_table import DeltaTableDataset, is_delta
from medallion_kedro.lake.changes import KeyedChanges
from medallion_kedro.schemas import contract_of
from medallion_kedro.spark import spark_session
from medallion_kedro.spark.session import session_has_delta

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def _spark_uri(path: str, protocol: str) -> str:
    """A path as Spark's Hadoop file systems name it (``s3a://`` for S3)."""
    if protocol == "file" or "://" in path:
        return path.replace("s3://", "s3a://", 1)
    return f"s3a://{path}" if protocol in {"s3", "s3a"} else f"{protocol}://{path}"


_S3A = "org.apache.hadoop.fs.s3a"


def s3a_settings(uri: str, storage_options: dict[str, str]) -> dict[str, str]:
    """hadoop-aws (``s3a://``) settings for the bucket of ``uri`` from the lake's delta-rs
    storage options (the ``lake`` credentials): key pair, endpoint with path-style access
    (MinIO, moto), TLS as the endpoint says, region. Per bucket
    (``fs.s3a.bucket.<bucket>.*``), so other buckets keep the cluster's own settings."""
    bucket = urlparse(uri).netloc
    options = {
        "access.key": storage_options.get("AWS_ACCESS_KEY_ID"),
        "secret.key": storage_options.get("AWS_SECRET_ACCESS_KEY"),
        "session.token": storage_options.get("AWS_SESSION_TOKEN"),
        "endpoint.region": storage_options.get("AWS_REGION"),
    }
    endpoint = storage_options.get("AWS_ENDPOINT_URL")
    if endpoint:
        options["endpoint"] = endpoint
        options["path.style.access"] = "true"
        options["connection.ssl.enabled"] = str(endpoint.startswith("https://")).lower()
    if options["session.token"]:
        options["aws.credentials.provider"] = f"{_S3A}.TemporaryAWSCredentialsProvider"
    elif options["access.key"]:
        options["aws.credentials.provider"] = (
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
        )
    return {f"fs.s3a.bucket.{bucket}.{k}": v for k, v in options.items() if v}


def is_spark(data: object) -> bool:
    """Whether ``data`` is a PySpark DataFrame (without importing PySpark for polars)."""
    return type(data).__module__.startswith("pyspark.")


def polars_schema(frame: DataFrame) -> pl.Schema:
    """The polars schema of ``frame``'s rows as the lake stores them, from its Spark schema
    alone (no Spark job runs): what the data contracts check before a save. A Spark
    ``Timestamp`` is stored as the lake's naive UTC time."""
    from pyspark.sql.pandas.types import to_arrow_schema

    empty = pl.from_arrow(to_arrow_schema(frame.schema, timezone="UTC").empty_table())
    assert isinstance(empty, pl.DataFrame)
    return _naive_utc(empty).schema


def _naive_utc(frame: pl.DataFrame) -> pl.DataFrame:
    instants = [
        pl.col(name).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    ]
    return frame.with_columns(instants) if instants else frame


class SparkLakeTableDataset(DeltaTableDataset):
    """``DeltaTableDataset`` that loads as a Spark DataFrame and saves Spark or polars frames.

    Spark reads and writes the Delta table itself (delta-spark in the session, configured
    in ``conf/spark/spark.yml``), from the executors: loading reads
    ``format("delta")`` with ``versionAsOf`` the version the lake's commit record names
    (staged by the running session, else committed; ``load_args`` ``version``/``as_of``
    for time travel); saving a Spark frame writes ``append``/``overwrite`` with
    ``DataFrameWriter.format("delta")`` and ``merge`` with ``DeltaTable.merge`` on the
    catalog's keys, and :class:`~medallion_kedro.lake.changes.KeyedChanges` of Spark
    frames as one ``MERGE`` that updates, inserts and deletes the given keys. The version
    written is staged in the run's transaction (or committed alone, under the lake lock,
    outside a run), exactly as the polars writer's. See :mod:`._spark_delta`.

    polars frames are saved by the base class, so the bronze stage (landing files parsed
    on polars) and gold (small tables collected to polars) never start a JVM to save.
    ``missing: empty`` reads a table not built yet as no rows with its contract's columns.
    An S3 lake is reached through ``s3a://`` with the ``lake`` credentials (key pair,
    endpoint). ``preview`` reads with polars, so Kedro-Viz never starts Spark.

    Example catalog entry (``conf/spark/catalog.yml``)::

        silver.orders:
          type: medallion_kedro.datasets.SparkLakeTableDataset
          filepath: ${globals:lake}/silver/orders
          credentials: lake
          save_args: {mode: merge, keys: [order_id], compression: lz4}
    """

    def load(self) -> DataFrame:  # type: ignore[override, unused-ignore]
        entry = self.read_entry()
        if entry is not None:
            self.last_read = int(entry["version"])  # the run's provenance names it
        spark = self._session()
        if entry is None and self._load_args.get("missing") == "empty":
            return self._no_rows(spark)
        if entry is None or not is_delta(entry):
            raise DatasetError(
                f"Lake table {self.key} has no published version in {self.lake.uri}: build "
                f"it with `{lakes.build_command(self.layer)}`."
            )
        from medallion_kedro.datasets import _spark_delta

        return _spark_delta.read(spark, self.spark_uri, int(entry["version"]))

    def _session(self) -> SparkSession:
        """The process's session, with Delta (else a one-line error that says what to set)
        and, for an S3 lake, the bucket's ``s3a`` settings."""
        spark = spark_session(s3=self.lake.protocol != "file")
        if not session_has_delta(spark):
            raise DatasetError(
                f"Lake table {self.key}: the Spark session has no Delta Lake support. Start "
                "it from conf/spark/spark.yml (`kedro run --env spark`), which sets "
                "spark.jars.packages and spark.sql.extensions for delta-spark."
            )
        for key, value in s3a_settings(self.spark_uri, self._storage_options).items():
            spark.conf.set(key, value)
        return spark

    def _no_rows(self, spark: SparkSession) -> DataFrame:
        """A table not built yet (``load_args.missing: empty``): no rows, with the columns
        its layer's contract declares (``schemas.py``), else none. Spark frames of
        different schemas do not combine, so the columns are there for the nodes that
        compare this run's rows with the table's."""
        contract = contract_of(self.key)
        if contract is None:
            return spark.createDataFrame([], "")
        empty = pl.DataFrame(schema=contract).to_arrow(compat_level=pl.CompatLevel.oldest())
        return spark.createDataFrame(empty)

    def save(self, data: Any) -> None:
        spark_changes = isinstance(data, KeyedChanges) and is_spark(data.rows)
        if not (spark_changes or is_spark(data)):
            super().save(data)
            return
        transaction = lakes.active(self.lake)
        if transaction is not None:
            transaction.stage(
                self.key, self._write_spark(data, transaction.run_id, self.current_entry())
            )
            return
        run_id = lakes.new_run_id()
        with lakes.LakeLock(self.lake, run_id):
            current = self.lake.read_record()["tables"].get(self.key)
            entry = self._write_spark(data, run_id, current)
            lakes.commit_entries(self.lake, {self.key: entry}, run_id)

    @property
    def spark_uri(self) -> str:
        """The table's folder as Spark's file systems name it."""
        return _spark_uri(self.uri, self.lake.protocol)

    def _write_spark(
        self, data: DataFrame | KeyedChanges, run_id: str, entry: lakes.Entry | None
    ) -> lakes.Entry:
        """Write one Delta version from Spark on top of the version ``entry`` names."""
        from medallion_kedro.datasets import _spark_delta

        self._session()
        has_table = self._align(entry)
        if isinstance(data, KeyedChanges):
            if self._mode != "merge" or not self._keys:
                raise DatasetError(
                    f"Lake table {self.key}: a node returned changes to some keys, which "
                    "needs save_args.mode 'merge' and save_args.keys in the catalog."
                )
            _spark_delta.refuse_repeated_keys(data.rows, self._keys, self.key)
            if not has_table:
                return _spark_delta.write(data.rows, self.spark_uri, mode="overwrite",
                                          predicate=None, run_id=run_id, before=entry)  # fmt: skip
            assert entry is not None
            return _spark_delta.apply_changes(
                data.rows, data.keys, self.spark_uri,
                key_columns=self._keys, run_id=run_id, before=entry,
            )  # fmt: skip
        mode = self._mode if has_table else "overwrite"
        if mode == "merge" and self._keys and not self._predicate:
            _spark_delta.refuse_repeated_keys(data, self._keys, self.key)
        return _spark_delta.write(
            data,
            self.spark_uri,
            mode=mode,
            predicate=self._spark_merge_predicate() if mode == "merge" else None,
            run_id=run_id,
            before=entry,
        )

    def _spark_merge_predicate(self) -> str:
        """The merge condition in Spark SQL (identifiers in backquotes; a ``predicate`` from
        the catalog is passed as written)."""
        if self._predicate:
            return self._predicate
        return " AND ".join(f"s.`{k}` = t.`{k}`" for k in self._keys)

    def read_entry(self) -> lakes.Entry | None:
        """The version to read: ``load_args`` ``version``/``as_of`` (time travel), else the
        one the commit record names for this process."""
        version = self._load_args.get("version")
        as_of = self._load_args.get("as_of")
        if version is not None or as_of is not None:
            version = self.published_version(version=version, as_of=as_of)
            return {"format": "delta", "version": version}
        return self.current_entry()

    def preview(self, nrows: int = 10) -> TablePreview:
        return table_preview(DeltaTableDataset.load(self).head(nrows).collect())

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "engine": "spark"}
