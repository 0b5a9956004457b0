"""moto's standalone S3 server (real HTTP) on a free loopback port."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from medallion_dev.processes import free_port, start_server


@dataclass
class S3Server:
    """moto's S3 server on a loopback port, with the key pair it accepts."""

    port: int
    key: str = "testing-key"
    secret: str = "testing-secret"  # noqa: S105 - moto accepts any key pair

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, bucket: str) -> dict[str, str]:
        """The environment ``kedro run --env minio`` reads (conf/minio/credentials.yml)."""
        return {
            "AWS_ACCESS_KEY_ID": self.key,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "S3_ENDPOINT_URL": self.endpoint_url,
            "LAKE_BUCKET": bucket,
        }

    def credentials(self) -> dict[str, object]:
        return {
            "key": self.key,
            "secret": self.secret,
            "client_kwargs": {"endpoint_url": self.endpoint_url},
        }


@contextmanager
def s3_server() -> Iterator[S3Server]:
    """Start moto's server (a development dependency: ``pip install -e '.[dev]'``) in a
    process of its own: served from a thread of the caller, every request would wait for
    the caller's GIL, which an in-process ``kedro run`` (and delta-rs inside it) holds."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="moto-") as folder:
        server = start_server(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            env=dict(os.environ),
            port=port,
            log=Path(folder) / "moto.log",
        )
        try:
            yield S3Server(port=port)
        finally:
            server.stop()
