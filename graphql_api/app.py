"""The ASGI application: ``/graphql`` (GraphiQL in a browser), ``/health``, and ``/``."""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

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

from graphql_api.context import Context, build_context
from graphql_api.graphiql import OfflineGraphiQL, static_routes
from graphql_api.health import health
from graphql_api.middleware import BodySizeLimit
from graphql_api.schema import build_schema
from graphql_api.settings import Settings
from graphql_api.store import GoldStore, create_client


class GraphQLView(OfflineGraphiQL, GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        store: GoldStore = request.app.state.store
        return build_context(
            store,
            request if isinstance(request, Request) else None,
            response if isinstance(response, Response) else None,
        )


async def _home(request: Request) -> RedirectResponse:
    return RedirectResponse("/graphql")


def create_app(
    settings: Settings | None = None, schema: BaseSchema | None = None, **client_kwargs: Any
) -> ASGIApp:
    """Build the app; ``client_kwargs`` go to ``AsyncMongoClient`` (tests add listeners)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client = create_client(settings, **client_kwargs)
        app.state.settings = settings
        app.state.store = GoldStore(client[settings.mongo_db], settings.cache_ttl_seconds)
        app.state.started = time.monotonic()
        # Everything imported so far (schema, modules) lives as long as the process: keep it
        # out of the collector's generations, which shortens full collections under load.
        gc.freeze()
        try:
            yield
        finally:
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
    routes = [
        Route("/graphql", view, methods=["GET", "POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/", _home, methods=["GET"]),
        *static_routes(),
    ]
    starlette = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    # Outermost, so an oversized body is refused before any other layer reads it.
    return BodySizeLimit(starlette, settings.max_body_bytes)


app = create_app()
