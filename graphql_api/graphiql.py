"""GraphiQL served by the API itself: the page and its assets come from ``static/graphiql``.

Strawberry's page loads React and GraphiQL from a CDN, so it stays on "Loading..." without
internet access. ``OfflineGraphiQL`` serves the same page with the same pinned files (the
integrity hashes are Strawberry's) from this package; ``scripts/vendor_graphiql.sh``
regenerates them from the npm registry and checks those hashes.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
PAGE = STATIC_DIR / "graphiql" / "index.html"


@cache
def graphiql_html() -> str:
    """The GraphiQL page; its asset URLs are relative (``static/graphiql/...``)."""
    return PAGE.read_text(encoding="utf-8")


class OfflineGraphiQL:
    """Mix into a Strawberry view, before the view class, to serve the local page."""

    @property
    def graphql_ide_html(self) -> str:
        return graphiql_html()


def static_routes() -> list[Mount]:
    """``/static/graphiql/...``: the files the page loads, relative to ``/graphql``."""
    return [Mount("/static", StaticFiles(directory=STATIC_DIR), name="static")]
