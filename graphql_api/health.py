"""``GET /health``: the process is up, MongoDB answers in time, and which export is live."""

from __future__ import annotations

import os
import time

import pymongo
from starlette.requests import Request
from starlette.responses import JSONResponse

from graphql_api.guard import during_login
from graphql_api.manifest import ManifestCache
from graphql_api.store import GoldStore
from medallion_kedro.export_manifest import EXPORT_HINT
from medallion_kedro.mongo_auth import redact


def _reason(exc: BaseException) -> str:
    text = str(exc).split(", Timeout:")[0].split(", Topology Description:")[0]
    return redact(f"{type(exc).__name__}: {text}")[:300]


def _failure(exc: BaseException, budget: float) -> str:
    cause = exc.__cause__ or exc
    if during_login(cause):
        return (
            "MongoDB refused the login with the credentials in MONGO_URI (authentication "
            f"failed: {_reason(cause)}). Check the user, password, authSource and "
            "authMechanism, or remove them if the server has no users."
        )
    return f"MongoDB did not answer a ping within {budget} s ({_reason(cause)})"


async def health(request: Request) -> JSONResponse:
    store: GoldStore = request.app.state.store
    manifests: ManifestCache = request.app.state.manifests
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
            latency = round((time.perf_counter() - started) * 1000, 1)
            manifest = await manifests.read()
    except Exception as exc:  # noqa: BLE001 - whatever it is, the answer is 503 and why
        body["status"] = "unavailable"
        body["mongo"] = {"ok": False, "reason": _failure(exc, budget)}
        return JSONResponse(body, status_code=503)
    body["mongo"] = {"ok": True, "database": store.db.name, "ping_ms": latency}
    if manifest is None:
        body["status"] = "not_exported"
        body["export"] = {"ok": False, "reason": f"No export manifest yet: {EXPORT_HINT}."}
        return JSONResponse(body, status_code=503)
    body["export"] = {
        "ok": True,
        "run_id": manifest.run_id,
        "exported_at": manifest.exported_at.isoformat(),
        "age_seconds": round(manifest.age_seconds(), 1),
        "pipeline_run_id": manifest.document.get("pipeline_run_id"),
        "lake_version": (manifest.document.get("lake_version") or {}).get("run_id"),
        "collections": dict(manifest.collections),
    }
    return JSONResponse(body)
