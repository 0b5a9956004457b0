"""GraphiQL works with no network: the page and its assets come from the API itself.

Headless Chromium opens ``/graphql`` with every non-loopback request refused (a Playwright
route and a host-resolver rule), runs a query and shows its result; the screenshot lands in
``test-artifacts/graphiql/``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest

from graphql_api.graphiql import PAGE, STATIC_DIR
from tests.graphql_api import data
from tests.graphql_api.conftest import api_process
from tests.servers import MongoServer

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ASSET = re.compile(r'(?:src|href)="(static/graphiql/[^"]+)"\s+integrity="([^"]+)"')


def test_the_page_loads_nothing_from_outside_and_pins_every_asset() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assets = ASSET.findall(page)
    assert len(assets) == 7
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page), "an asset would need a CDN"
    for path, integrity in assets:
        algorithm, _, expected = integrity.partition("-")
        digest = hashlib.new(algorithm, (STATIC_DIR.parent / path).read_bytes()).digest()
        assert base64.b64encode(digest).decode() == expected, path
    licences = {p.stem for p in (STATIC_DIR / "graphiql" / "LICENSES").iterdir()}
    assert licences == {"react", "react-dom", "js-cookie", "graphiql", "graphiql-plugin-explorer"}


@pytest.fixture(scope="module")
def api_url(seeded: MongoServer) -> Iterator[str]:
    with api_process(seeded.uri, data.DB_NAME) as url:
        yield url


@pytest.mark.slow
def test_graphiql_page_and_assets_are_served(api_url: str) -> None:
    page = httpx.get(f"{api_url}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "static/graphiql/graphiql.min.js" in page.text
    assert "unpkg.com" not in page.text
    for path, _ in ASSET.findall(page.text):
        asset = httpx.get(f"{api_url}/{path}")
        assert asset.status_code == 200, path
        assert asset.content == (STATIC_DIR.parent / path).read_bytes()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")
def test_graphiql_runs_a_query_with_the_network_blocked(api_url: str) -> None:
    from playwright.sync_api import Route, expect, sync_playwright

    refused: list[str] = []

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in {"127.0.0.1", "localhost"}:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    shots = ROOT / "test-artifacts" / "graphiql"
    shots.mkdir(parents=True, exist_ok=True)
    args = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ]  # fmt: skip
    query = "{ kpis { totalRevenue totalOrders } }"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.route("**/*", only_loopback)
            page.goto(f"{api_url}/graphql?q={quote(query)}")
            run = page.locator(".graphiql-execute-button")
            expect(run).to_be_visible(timeout=30_000)
            run.click()
            result = page.locator(".graphiql-response")
            total = data.kpis_document()["total_revenue"]
            expect(result).to_contain_text('"totalRevenue"', timeout=15_000)
            expect(result).to_contain_text(str(total))
            page.screenshot(path=shots / "graphiql.png")
        finally:
            browser.close()
    assert refused == [], f"GraphiQL tried to reach the network: {refused}"
