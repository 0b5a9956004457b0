"""Pre-flight checks of the lake: fail before any node runs, with the fix in the message."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from medallion_kedro.errors import UserError
from medallion_kedro.lake.record import Record

#: The pipeline that builds each layer (named in "build it" and "rebuild it" advice).
BUILT_BY = {"bronze": "bronze", "silver": "silver", "quality": "silver", "gold": "gold"}


def build_command(layer: str) -> str:
    """The command that (re)builds ``layer``: ``kedro run --pipelines <pipeline>``."""
    return f"kedro run --pipelines {BUILT_BY.get(layer, layer)}"


class LakeTable(Protocol):
    """A lake table as the checks see it: its ``<layer>.<table>`` key and layer."""

    @property
    def key(self) -> str: ...

    @property
    def layer(self) -> str: ...


class LakeUnavailableError(UserError, RuntimeError):
    """The lake cannot be read or written; the message says what to do."""


class LakeMixedError(UserError, RuntimeError):
    """A run's input tables do not belong together (different batches or runs)."""


def check_consistent(inputs: Mapping[str, LakeTable], record: Record) -> None:
    """Refuse input tables of one layer that come from different runs.

    Tables of one layer are published together by one run (bronze is appended to, all its
    tables in each run's commit). Raises :class:`LakeMixedError` naming the tables and the
    fix.
    """
    by_layer: dict[str, dict[str, str]] = {}
    for key, table in sorted(inputs.items()):
        entry = record.get("tables", {}).get(table.key)
        if entry is not None:
            by_layer.setdefault(table.layer, {})[key] = str(entry["run_id"])
    for layer, runs in by_layer.items():
        if len(set(runs.values())) > 1:
            found = "; ".join(f"{k} from run {run}" for k, run in runs.items())
            raise LakeMixedError(
                f"The {layer} tables this run reads come from different runs ({found}): the "
                f"result would mix them. Run `{build_command(layer)}` to rebuild the whole "
                f"{layer} layer, or `kedro lake restore --run <run id>` to publish a whole "
                "earlier commit, then this run."
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
