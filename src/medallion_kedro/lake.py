"""Pre-flight checks of the lake: fail before any node runs, with the fix in the message."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


class LakeUnavailableError(RuntimeError):
    """The lake cannot be read or written; the message says what to do."""


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
