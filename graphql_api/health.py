"""``GET /health``: the process is up, and whether MongoDB answers a ping in time."""

from __future__ import annotations

import os
import time

import pymongo
from pymongo.errors import PyMongoError
from starlette.requests import Request
from starlette.responses import JSONResponse

from graphql_api.store import GoldStore


def _reason(exc: BaseException) -> str:
    text = str(exc).split(", Timeout:")[0].split(", Topology Description:")[0]
    return f"{type(exc).__name__}: {text}"[:300]


async def health(request: Request) -> JSONResponse:
    store: GoldStore = request.app.state.store
    budget: float = request.app.state.settings.health_timeout_seconds
    body: dict[str, object] = {
        "status": "ok",
        "pid": os.getpid(),
        "uptime_seconds": round(time.monotonic() - request.app.state.started, 1),
    }
    started = time.perf_counter()
    try:
        with pymongo.timeout(budget):
            await store.ping()
    except PyMongoError as exc:
        body["status"] = "unavailable"
        body["mongo"] = {
            "ok": False,
            "reason": f"MongoDB did not answer a ping within {budget} s ({_reason(exc)})",
        }
        return JSONResponse(body, status_code=503)
    latency = round((time.perf_counter() - started) * 1000, 1)
    body["mongo"] = {"ok": True, "database": store.db.name, "ping_ms": latency}
    return JSONResponse(body)
