"""The throw-away servers of ``medallion_dev``, under the names the tests import."""

from __future__ import annotations

from medallion_dev.api import api_server
from medallion_dev.mongo import MongoServer, mongo_server
from medallion_dev.processes import (
    BIN,
    Server,
    free_port,
    start_server,
    stop_process_group,
    wait_for_port,
)
from medallion_dev.s3 import S3Server, s3_server

__all__ = [
    "BIN",
    "MongoServer",
    "S3Server",
    "Server",
    "api_server",
    "free_port",
    "mongo_server",
    "s3_server",
    "start_server",
    "stop_process_group",
    "wait_for_port",
]
