"""Where a lake is: a local folder or ``s3://bucket[/prefix]``, and how delta-rs reaches it."""

from __future__ import annotations

import os
from typing import Any

import fsspec

from medallion_kedro.lake.record import Lake


def delta_storage_options(credentials: dict[str, Any] | None) -> dict[str, str]:
    """delta-rs ``storage_options`` from s3fs-style credentials (``key``, ``secret``, endpoint).

    ``conditional_put=etag`` makes delta-rs commit each new log entry with a conditional PUT
    (``If-None-Match``), so two writers of one table on S3/MinIO cannot both write version N:
    the loser retries on the new version or fails; no lock service is needed.
    """
    creds = dict(credentials or {})
    options: dict[str, str] = {"conditional_put": "etag", "AWS_REGION": "us-east-1"}
    if creds.get("key"):
        options["AWS_ACCESS_KEY_ID"] = str(creds["key"])
    if creds.get("secret"):
        options["AWS_SECRET_ACCESS_KEY"] = str(creds["secret"])
    if creds.get("token"):
        options["AWS_SESSION_TOKEN"] = str(creds["token"])
    endpoint = (creds.get("client_kwargs") or {}).get("endpoint_url")
    if endpoint:
        options["AWS_ENDPOINT_URL"] = str(endpoint)
        if str(endpoint).startswith("http://"):
            options["AWS_ALLOW_HTTP"] = "true"
    region = (creds.get("client_kwargs") or {}).get("region_name")
    if region:
        options["AWS_REGION"] = str(region)
    options.update({k: str(v) for k, v in (creds.get("storage_options") or {}).items()})
    return options


def fs_credentials(credentials: dict[str, Any] | None) -> dict[str, Any]:
    """The fsspec (s3fs) part of the lake's credentials."""
    return {k: v for k, v in (credentials or {}).items() if k != "storage_options"}


def lake_at(uri: str, credentials: dict[str, Any] | None = None) -> Lake:
    """The :class:`Lake` at ``uri`` (a local folder or ``s3://bucket[/prefix]``)."""
    if uri.startswith("s3://"):
        fs = fsspec.filesystem("s3", **fs_credentials(credentials))
        root = uri.removeprefix("s3://").rstrip("/")
        return Lake("s3", root, fs, delta_storage_options(credentials))
    return Lake("file", os.path.abspath(uri), fsspec.filesystem("file"))
