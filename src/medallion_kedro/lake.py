"""Pre-flight checks of the lake: fail before any node runs, with the fix in the message."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fsspec
import polars as pl

from medallion_kedro.datasets._commit import Lake

if TYPE_CHECKING:
    from medallion_kedro.datasets.delta_table import DeltaTableDataset
    from medallion_kedro.datasets.parquet_table import ParquetTableDataset

    LakeTable = ParquetTableDataset | DeltaTableDataset

#: The pipeline that rebuilds each layer, for "run this" advice.
_REBUILD = {"bronze": "bronze", "silver": "silver", "quality": "silver", "gold": "gold"}


class LakeUnavailableError(RuntimeError):
    """The lake cannot be read or written; the message says what to do."""


class LakeMixedError(RuntimeError):
    """A run's input tables do not belong together (different batches or runs)."""


def lake_at(uri: str, credentials: dict[str, Any] | None = None) -> Lake:
    """The :class:`Lake` at ``uri`` (a local folder or ``s3://bucket[/prefix]``)."""
    if uri.startswith("s3://"):
        fs = fsspec.filesystem("s3", **(credentials or {}))
        return Lake("s3", uri.removeprefix("s3://").rstrip("/"), fs)
    return Lake("file", os.path.abspath(uri), fsspec.filesystem("file"))


def current_file(
    uri: str, layer: str, table: str, credentials: dict[str, Any] | None = None
) -> str:
    """Path of the Parquet version of ``layer.table`` readers see now (Parquet tables only).

    A Delta table has no single file: use :func:`read_table`.
    """
    lake = lake_at(uri, credentials)
    entry = _entry(lake, layer, table)
    if "file" not in entry:
        raise LakeUnavailableError(
            f"{layer}.{table} in {lake.uri} is a Delta table, not one file: read it with "
            f"medallion_kedro.lake.read_table({uri!r}, {layer!r}, {table!r})."
        )
    return lake.path(entry["file"])


def _entry(lake: Lake, layer: str, table: str) -> dict[str, Any]:
    entry: dict[str, Any] | None = lake.read_record()["tables"].get(f"{layer}.{table}")
    if entry is None:
        raise LakeUnavailableError(
            f"{layer}.{table} has no published version in {lake.uri}: build it with "
            f"`kedro run --pipeline {_REBUILD.get(layer, layer)}`."
        )
    return entry


def read_table(
    uri: str,
    layer: str,
    table: str,
    credentials: dict[str, Any] | None = None,
    version: int | None = None,
) -> pl.DataFrame:
    """The rows of ``layer.table`` readers see now (or at Delta ``version``), any format."""
    from medallion_kedro.datasets.delta_table import DeltaTableDataset

    lake = lake_at(uri, credentials)
    entry = _entry(lake, layer, table) if version is None else {"format": "delta"}
    if "file" in entry:
        with lake.fs.open(lake.path(entry["file"]), "rb") as f:
            return pl.read_parquet(f)
    dataset = DeltaTableDataset(filepath=f"{uri.rstrip('/')}/{layer}/{table}",
                                credentials=credentials)  # fmt: skip
    if version is not None:
        return dataset.load_version(version=version).collect()
    return dataset.load().collect()


def _origin(table: LakeTable, record: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(run id, batch ids) of the version of ``table`` a run would read; None if absent."""
    entry = record.get("tables", {}).get(table.key)
    if entry is not None:
        return str(entry["run_id"]), list(entry.get("batch_ids", []))
    legacy = f"{table.lake.path(table.key.replace('.', '/'))}.parquet"
    if not table.lake.fs.exists(legacy):
        return None
    batches: list[str] = []
    if table.layer == "bronze":
        with table.lake.fs.open(legacy, "rb") as f:
            frame = pl.read_parquet(f, columns=["_batch_id"])
        batches = sorted(frame.get_column("_batch_id").unique().drop_nulls())
    return "an unversioned single file", batches


def check_consistent(inputs: dict[str, LakeTable], record: dict[str, Any]) -> None:
    """Refuse input tables of one layer that come from different batches or runs.

    Tables of one layer must come from the same run (bronze is appended to, all its tables
    in each run's commit); unversioned bronze files of older releases must hold the same
    ingestion batch. Raises :class:`LakeMixedError` naming the tables and the fix.
    """
    by_layer: dict[str, dict[str, tuple[str, list[str]]]] = {}
    for key, table in sorted(inputs.items()):
        origin = _origin(table, record)
        if origin is not None:
            by_layer.setdefault(table.layer, {})[key] = origin
    for layer, origins in by_layer.items():
        rebuild = f"`kedro run --pipeline {_REBUILD.get(layer, layer)}`"
        if (
            layer == "bronze"
            and any("single file" in run for run, _ in origins.values())
            and len({tuple(b) for _, b in origins.values()}) > 1
        ):
            found = "; ".join(
                f"{k} holds batch {', '.join(b) or '?'}" for k, (_, b) in origins.items()
            )
            raise LakeMixedError(
                f"The bronze tables come from different ingestions ({found}): silver would "
                f"mix them. Run {rebuild} to ingest every landing file again, then this run."
            )
        if len({run for run, _ in origins.values()}) > 1:
            found = "; ".join(f"{k} from run {run}" for k, (run, _) in origins.items())
            raise LakeMixedError(
                f"The {layer} tables this run reads come from different runs ({found}): the "
                f"result would mix them. Run {rebuild} to rebuild the whole {layer} layer, "
                "then this run."
            )


def check_lake(lake: str, credentials: dict[str, Any] | None = None) -> None:
    """Raise :class:`LakeUnavailableError` unless the lake root ``lake`` can be written."""
    if lake.startswith("s3://"):
        _check_s3(lake, credentials or {})
    else:
        _check_local(Path(lake))


def _check_local(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LakeUnavailableError(
            f"The lake folder {root} cannot be created ({exc.strerror}): fix its permissions "
            "or point `lake` in conf/<env>/globals.yml to a writable folder."
        ) from exc
    if not os.access(root, os.W_OK | os.X_OK):
        raise LakeUnavailableError(
            f"The lake folder {root} is not writable: fix its permissions or point `lake` "
            "in conf/<env>/globals.yml to a writable folder."
        )


def _check_s3(lake: str, credentials: dict[str, Any]) -> None:
    import s3fs
    from botocore.exceptions import BotoCoreError

    bucket = lake.removeprefix("s3://").split("/", 1)[0]
    endpoint = (credentials.get("client_kwargs") or {}).get("endpoint_url", "AWS S3")
    config = {"connect_timeout": 3, "read_timeout": 10, "retries": {"max_attempts": 1}}
    fs = s3fs.S3FileSystem(**credentials, config_kwargs=config, skip_instance_cache=True)
    try:
        fs.ls(bucket, refresh=True)
    except FileNotFoundError as exc:
        raise LakeUnavailableError(
            f"The lake bucket '{bucket}' does not exist at {endpoint}: create it "
            "(`docker compose up createbuckets`, or `mc mb`), or set LAKE_BUCKET."
        ) from exc
    except PermissionError as exc:
        raise LakeUnavailableError(
            f"{endpoint} refused the access key for bucket '{bucket}': check "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
        ) from exc
    except (OSError, BotoCoreError) as exc:
        raise LakeUnavailableError(
            f"Cannot reach the S3 endpoint {endpoint} ({type(exc).__name__}): start MinIO "
            "(`docker compose up -d minio`) or set S3_ENDPOINT_URL."
        ) from exc


def rollback(uri: str, layers: list[str], credentials: dict[str, Any] | None = None) -> list[str]:
    """Make the previous version of every table of ``layers`` current again, in one commit.

    Roll back silver and quality together (they are published together); a second rollback
    undoes the first. Refused, with nothing changed, when a table has no previous version.
    Returns the tables rolled back.
    """
    from medallion_kedro.datasets._commit import new_run_id, now_iso
    from medallion_kedro.lake_lock import LakeLock

    lake = lake_at(uri, credentials)
    run_id = new_run_id()
    with LakeLock(lake, run_id):
        record = lake.read_record()
        tables, previous = record["tables"], record.setdefault("previous", {})
        keys = sorted(k for k in tables if k.split(".", 1)[0] in layers)
        missing = [k for k in keys if k not in previous]
        if not keys or missing:
            raise LakeUnavailableError(
                f"Cannot roll back {layers} in {lake.uri}: no previous version of "
                f"{missing or layers}. Nothing was changed."
            )
        for key in keys:
            tables[key], previous[key] = previous[key], tables[key]
        record["last_commit"] = {"run_id": run_id, "at": now_iso(), "tables": keys,
                                 "rollback": True}  # fmt: skip
        lake.write_record(record)
    return keys
