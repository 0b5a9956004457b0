"""The typed per-request context every resolver receives as ``info.context``."""

from __future__ import annotations

from typing import TypedDict

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info

from graphql_api.auth import Principal
from graphql_api.loaders import Loaders
from graphql_api.store import GoldStore


class Context(TypedDict):
    store: GoldStore
    loaders: Loaders
    request: Request | None
    response: Response | None
    #: The authenticated client, or None for an anonymous one (see graphql_api.auth).
    principal: Principal | None


AppInfo = Info[Context, None]


def build_context(
    store: GoldStore,
    request: Request | None = None,
    response: Response | None = None,
    principal: Principal | None = None,
) -> Context:
    """A fresh context: new DataLoaders (so no cache outlives a request), shared store.

    The principal comes from ``request.state.principal`` (set by the bearer middleware)
    when there is a request, else from ``principal``.
    """
    if request is not None:
        principal = getattr(request.state, "principal", None)
    return Context(
        store=store,
        loaders=Loaders.create(store),
        request=request,
        response=response,
        principal=principal,
    )
