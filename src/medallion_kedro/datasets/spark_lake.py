"""``SparkLakeTableDataset``: a lake table that loads as a Spark DataFrame."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    from deltalake import DeltaTable
    from pyspark.sql import DataFrame, SparkSession

#: Delta reader features that make a version's files differ from its rows.
UNREADABLE_FEATURES = {"deletionVectors", "columnMapping"}


def delta_files(table: DeltaTable, where: str) -> list[str]:
    """The Parquet files of the Delta version ``table`` is at, as delta-rs lists them:
    exactly that version's rows (reading the table folder would also read the files of
    earlier versions that a merge or an overwrite replaced)."""
    features = set(table.protocol().reader_features or ()) & UNREADABLE_FEATURES
    if features:
        raise DatasetError(
            f"Delta table {where} uses {sorted(features)}: its Parquet files "
            "alone do not give its rows. Read it with a Spark session that has Delta "
            "(delta-spark), or rewrite the table without these features."
        )
    return list(table.file_uris())


def _spark_uri(path: str, protocol: str) -> str:
    """A path as Spark's Hadoop file systems name it (``s3a://`` for S3)."""
    if protocol == "file" or "://" in path:
        return path.replace("s3://", "s3a://", 1)
    return f"s3a://{path}" if protocol in {"s3", "s3a"} else f"{protocol}://{path}"


def is_spark(data: object) -> bool:
    """Whether ``data`` is a PySpark DataFrame (without importing PySpark for polars)."""
    return type(data).__module__.startswith("pyspark.")


def to_polars(frame: DataFrame) -> pl.DataFrame:
    """A Spark DataFrame's rows on the driver, as polars, through Arrow.

    Decimals, dates and ``TimestampNTZ`` keep their types. A Spark ``Timestamp`` (an
    instant, in the session's time zone) becomes the lake's naive UTC ``Datetime``, as the
    polars pipeline writes it, so both engines write the same Delta schema.
    """
    converted = pl.from_arrow(frame.toArrow())
    assert isinstance(converted, pl.DataFrame)
    return _naive_utc(converted)


def polars_schema(frame: DataFrame) -> pl.Schema:
    """The schema :func:`to_polars` gives ``frame``'s rows, from its Spark schema alone (no
    Spark job runs): what the data contracts check before a save."""
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

    Two ways to Delta, chosen from the session's settings (:func:`has_delta
    <medallion_kedro.spark.session.has_delta>`):

    - **No Delta in the session** (delta-spark not configured, as offline): a Spark
      DataFrame is brought to the driver through Arrow (``DataFrame.toArrow()``) and saved
      by the base class, so staging, the lake's commit record and the delta-rs write
      (``append``, ``overwrite``, ``merge`` by the catalog's keys) are exactly the polars
      path's. Loading reads the Parquet files of the published version (below).
    - **Delta in the session**: Spark reads ``format("delta")`` with ``versionAsOf`` and
      writes natively (``save``/``DeltaTable.forPath(...).merge``) from the executors; the
      commit record still names the version. See :mod:`._spark_delta`.

    polars frames are always saved by the base class, so the bronze stage (landing files
    parsed on polars) and gold (small tables collected to polars) never start a JVM to
    save. Loading resolves the version readers get: ``load_args`` ``version``/``as_of``
    when given (time travel), else the version the commit record names for this session
    (staged by the running session, else committed); ``missing: empty`` reads a table not
    built yet as no rows with its contract's columns. Without Delta in the session it
    reads exactly that version's files with ``spark.read.parquet``: for a Delta entry
    (``{"format": "delta", "version": N}``) the files delta-rs lists for version N. The
    session comes from
    :func:`medallion_kedro.spark.spark_session` (``conf/spark/spark.yml``). ``preview``
    reads with polars, so Kedro-Viz never starts Spark.

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
        spark = spark_session()
        if entry is None and self._load_args.get("missing") == "empty":
            return self._no_rows(spark)
        if entry is None:
            raise DatasetError(
                f"Lake table {self.key} has no published version in {self.lake.uri}: build "
                f"it with `{lakes.build_command(self.layer)}`."
            )
        if session_has_delta(spark) and is_delta(entry):
            from medallion_kedro.datasets import _spark_delta

            return _spark_delta.read(spark, self.spark_uri, int(entry["version"]))
        files = self.published_files(entry)
        return spark.read.parquet(*(_spark_uri(f, self.lake.protocol) for f in files))

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
        if isinstance(data, KeyedChanges) and is_spark(data.rows):
            data = KeyedChanges(to_polars(data.rows), to_polars(data.keys))
        if isinstance(data, KeyedChanges) or not is_spark(data):
            super().save(data)
        elif session_has_delta(data.sparkSession):
            self._save_natively(data)
        else:
            super().save(to_polars(data))

    @property
    def spark_uri(self) -> str:
        """The table's folder as Spark's file systems name it."""
        return _spark_uri(self.uri, self.lake.protocol)

    def _save_natively(self, frame: DataFrame) -> None:
        """Write ``frame`` with Spark's Delta writer and stage (or commit) its version."""
        transaction = lakes.active(self.lake)
        if transaction is None:
            self._commit_alone(frame, lakes.new_run_id())  # type: ignore[arg-type, unused-ignore]
            return
        entry = self._write(frame, transaction.run_id, self.current_entry())
        transaction.stage(self.key, entry)

    def _write(
        self, frame: Any, run_id: str, entry: lakes.Entry | None, mode: str | None = None
    ) -> lakes.Entry:
        if not is_spark(frame):
            return super()._write(frame, run_id, entry, mode)
        from medallion_kedro.datasets import _spark_delta

        has_table = self._align(entry)
        mode = (mode or self._mode) if has_table else "overwrite"
        return _spark_delta.write(
            frame,
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

    def published_files(self, entry: lakes.Entry) -> list[str]:
        """The files holding the Delta version a commit record ``entry`` names."""
        version = int(entry["version"])
        return delta_files(self.table(version), f"{self.uri} version {version}")

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
