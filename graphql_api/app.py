"""The ASGI application: ``/graphql`` (GraphiQL in a browser), ``/health``, and ``/``.

Without authentication configured it serves this machine only, checked at startup and on
every request, whatever serves it (:mod:`graphql_api.exposure`).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pymongo
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult

from graphql_api.auth import EXPOSED_WITHOUT_AUTH, build_authenticator
from graphql_api.context import Context, build_context
from graphql_api.errors import ClientFacingError, DataNotExported
from graphql_api.exposure import check_startup, watch_binds
from graphql_api.graphiql import OfflineGraphiQL, static_routes
from graphql_api.health import health
from graphql_api.manifest import ManifestCache
from graphql_api.middleware import BodySizeLimit, protect
from graphql_api.schema import build_schema
from graphql_api.settings import Settings
from graphql_api.store import GoldStore, create_client
from medallion_kedro.export_manifest import EXPORT_HINT


class GraphQLView(OfflineGraphiQL, GraphQL[Context, None]):
    """Strawberry's ASGI view, with one export run and one time budget per request."""

    #: Budget of all MongoDB work of one request, in seconds (``API_REQUEST_TIMEOUT``).
    request_timeout: float = Settings.request_timeout_seconds
    #: Budget of reading the manifest (one MongoDB operation: ``API_MONGO_TIMEOUT_MS``).
    manifest_timeout: float = Settings.mongo_timeout_ms / 1000

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        store: GoldStore = request.app.state.store
        with pymongo.timeout(min(self.request_timeout, self.manifest_timeout)):
            bound = await live_store(store, request.app.state.manifests)
        return build_context(
            bound,
            request if isinstance(request, Request) else None,
            response if isinstance(response, Response) else None,
        )

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        """Run the operation with every MongoDB call of it under one deadline."""
        with pymongo.timeout(self.request_timeout):
            return await super().execute_single(*args, **kwargs)


async def live_store(store: GoldStore, manifests: ManifestCache) -> GoldStore:
    """``store`` bound to the live export run, or failing with the reason there is none."""
    try:
        manifest = await manifests.current()
    except ClientFacingError as exc:
        return store.failing(exc)
    if manifest is None:
        return store.failing(
            DataNotExported(f"Nothing has been exported to this database yet: {EXPORT_HINT}.")
        )
    return store.bind(manifest)


async def _home(request: Request) -> RedirectResponse:
    return RedirectResponse("/graphql")


def create_app(
    settings: Settings | None = None, schema: BaseSchema | None = None, **client_kwargs: Any
) -> ASGIApp:
    """Build the app; ``client_kwargs`` go to ``AsyncMongoClient`` (tests add listeners)."""
    settings = settings or Settings.from_env()

    open_mode = not build_authenticator(settings).configured

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        watcher = None
        if open_mode:  # no authentication: this machine only (graphql_api.exposure)
            check_startup(settings.host, EXPOSED_WITHOUT_AUTH)
            watcher = asyncio.create_task(watch_binds(EXPOSED_WITHOUT_AUTH))
        client = create_client(settings, **client_kwargs)
        app.state.settings = settings
        db = client[settings.mongo_db]
        app.state.store = GoldStore(db, settings.cache_ttl_seconds)
        app.state.manifests = ManifestCache(db, settings.manifest_ttl_seconds)
        app.state.started = time.monotonic()
        # Everything imported so far (schema, modules) lives as long as the process: keep it
        # out of the collector's generations, which shortens full collections under load.
        gc.freeze()
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
            await client.close()

    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["content-type", "authorization"],
                max_age=600,
            )
        )
    view = GraphQLView(schema or build_schema(settings), allow_queries_via_get=True)
    view.request_timeout = settings.request_timeout_seconds
    view.manifest_timeout = settings.mongo_timeout_ms / 1000
    routes = [
        Route("/graphql", view, methods=["GET", "POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/", _home, methods=["GET"]),
        *static_routes(),
    ]
    starlette = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    # Outermost, so an oversized body is refused before any other layer reads it.
    return BodySizeLimit(protect(starlette, settings), settings.max_body_bytes)


app = create_app()
