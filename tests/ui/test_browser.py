"""A real browser (Debian's Chromium, driven by Playwright) clicks through the app.

Screenshots of every tab land in ``test-artifacts/ui/`` (git-ignored).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.ui.conftest import API_LABEL, LAKE_LABEL

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDTH = 1280  # the narrowest laptop screen we support: nothing may be cut off at this width

#: Widths of the page and of every table that is wider than the space it is given.
OVERFLOW_JS = """() => {
  const cut = [];
  const page = document.documentElement;
  if (page.scrollWidth > window.innerWidth) cut.push(['page', page.scrollWidth]);
  for (const table of document.querySelectorAll('table')) {
    if (table.offsetParent === null) continue;  // on another tab
    const block = table.closest('.block') || page;
    const over = table.getBoundingClientRect().right - block.getBoundingClientRect().right;
    if (over > 1) cut.push([block.id || table.closest('[id]')?.id || 'table', Math.round(over)]);
  }
  return cut;
}"""


def _nothing_cut_off(page: Any, tab: str) -> None:
    assert page.evaluate(OVERFLOW_JS) == [], f"{tab}: content wider than {WIDTH} px"


def test_click_through_every_tab_with_both_sources(
    app_url: str, gold: dict[str, pl.DataFrame], project_root: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = project_root / "test-artifacts" / "ui"
    shots.mkdir(parents=True, exist_ok=True)
    customer = gold["customer_metrics"].sort("total_spent", descending=True).row(0, named=True)
    kpis = gold["kpis"].row(0, named=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            page.goto(app_url)
            expect(page.locator(".kpi-card").first).to_be_visible(timeout=30_000)
            expect(page.locator("#where")).to_contain_text(LAKE_LABEL)
            revenue_card = page.locator('.kpi-card[data-field="total_revenue"]')
            expect(revenue_card).to_have_attribute("data-value", repr(kpis["total_revenue"]))
            page.screenshot(path=shots / "kpis-lake.png", full_page=True)

            page.get_by_label(API_LABEL).check()
            expect(page.locator("#where")).to_contain_text(API_LABEL)
            expect(page.locator(".kpi-asof")).to_contain_text(f"source: {API_LABEL}")
            expect(revenue_card).to_have_attribute("data-value", repr(kpis["total_revenue"]))
            trend = page.locator("#kpi-trend")
            expect(trend.locator("canvas, svg").first).to_be_visible(timeout=15_000)
            cards = page.locator("#kpis").bounding_box()
            beside = trend.bounding_box()
            assert cards and beside and beside["x"] >= cards["x"] + cards["width"] - 1, (
                "the monthly trend is not beside the KPI cards"
            )
            page.wait_for_timeout(500)
            _nothing_cut_off(page, "KPIs")
            page.screenshot(path=shots / "kpis.png", full_page=True)

            page.get_by_role("tab", name="Revenue").click()
            expect(page.locator("#tab-revenue canvas, #tab-revenue svg").first).to_be_visible()
            expect(page.locator("#tab-revenue")).to_contain_text(
                gold["revenue_by_country"]["country"][0]
            )
            page.wait_for_timeout(500)  # let the charts finish drawing
            by_country = page.locator("#tab-revenue table").first
            expect(by_country).to_contain_text("Revenue")
            expect(by_country).to_contain_text("€")
            assert "total_revenue" not in by_country.inner_text()
            _nothing_cut_off(page, "Revenue")
            page.screenshot(path=shots / "revenue.png", full_page=True)

            page.get_by_role("tab", name="Customers").click()
            page.locator("#customer-query textarea, #customer-query input").first.fill(
                customer["email"]
            )
            page.locator("#lookup").click()
            card = page.locator(".customer-card")
            expect(card).to_contain_text(customer["name"], timeout=15_000)
            expect(card).to_have_attribute("data-value", str(customer["customer_id"]))
            page.wait_for_timeout(500)
            _nothing_cut_off(page, "Customers")
            page.screenshot(path=shots / "customers.png", full_page=True)

            page.get_by_role("tab", name="Sources").click()
            page.locator("#compare").click()
            expect(page.locator("table.compare")).to_be_visible(timeout=60_000)
            expect(page.locator("#compare-result")).to_contain_text("All 7 views agree exactly.")
            page.wait_for_timeout(500)
            _nothing_cut_off(page, "Sources")
            page.screenshot(path=shots / "sources.png", full_page=True)

            assert page.locator(".msg-error").count() == 0
        finally:
            browser.close()
