"""The typed per-request context every resolver receives as ``info.context``."""

from __future__ import annotations

from typing import TypedDict

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info

from graphql_api.loaders import Loaders
from graphql_api.store import GoldStore


class Context(TypedDict):
    store: GoldStore
    loaders: Loaders
    request: Request | None
    response: Response | None


AppInfo = Info[Context, None]


def build_context(
    store: GoldStore, request: Request | None = None, response: Response | None = None
) -> Context:
    """A fresh context: new DataLoaders (so no cache outlives a request), shared store."""
    return Context(store=store, loaders=Loaders.create(store), request=request, response=response)
