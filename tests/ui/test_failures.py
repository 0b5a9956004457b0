"""What the app says when the API is down, the lake was never built, or a customer is unknown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gradio_client import Client

from tests.ui.conftest import API_LABEL, LAKE_LABEL
from tests.ui.helpers import table

pytestmark = pytest.mark.slow
SOURCES = pytest.mark.parametrize("source", [LAKE_LABEL, API_LABEL])

#: What each source's failure must say: what is wrong, and the command that fixes it.
EXPECTED = {
    LAKE_LABEL: ("Lake (Delta) unavailable.", "has no readable gold table", "<code>kedro run"),
    API_LABEL: ("GraphQL API unavailable.", "does not answer", "<code>medallion-api</code>"),
}


@pytest.fixture(scope="module")
def broken(broken_app_url: str) -> Iterator[Client]:
    yield Client(broken_app_url, verbose=False)


@pytest.fixture(scope="module")
def client(app_url: str) -> Iterator[Client]:
    yield Client(app_url, verbose=False)


def assert_explains(fragment: str, source: str) -> None:
    assert 'class="msg msg-error" role="alert"' in fragment
    for words in EXPECTED[source]:
        assert words in fragment, (words, fragment)


@SOURCES
def test_every_tab_says_what_is_wrong_and_how_to_fix_it(broken: Client, source: str) -> None:
    assert_explains(broken.predict(source, api_name="/kpis"), source)

    status, *outputs = broken.predict(source, api_name="/revenue")
    assert_explains(status, source)
    for plot, frame in zip(outputs[::2], outputs[1::2], strict=True):
        assert plot is None and table(frame).height == 0

    card, details = broken.predict(source, "42", api_name="/customer")
    assert_explains(card, source)
    assert table(details).height == 0

    status, top = broken.predict(source, 20, "All", "All", api_name="/top_customers")
    assert_explains(status, source)
    status, _, _ = broken.predict(source, api_name="/segments")
    assert_explains(status, source)
    countries, segments = broken.predict(source, api_name="/filters")
    assert countries["choices"] == [["All", "All"]]


def test_sources_tab_reports_both_failures_once(broken: Client) -> None:
    summary, latency, _ = broken.predict(2, api_name="/compare_sources")
    assert_explains(summary, LAKE_LABEL)
    assert_explains(summary, API_LABEL)
    assert summary.count("does not answer") == 1  # one banner per source, not one per view
    assert summary.count("not compared") == 7
    assert table(latency).height == 0


@SOURCES
def test_unknown_customer(client: Client, source: str) -> None:
    card, details = client.predict(source, "987654321", api_name="/customer")
    assert "No customer with id 987654321 in " + source in card
    assert "msg-warning" in card and table(details).height == 0

    card, _ = client.predict(source, "nobody@nowhere.invalid", api_name="/customer")
    assert "No customer with email nobody@nowhere.invalid" in card

    card, _ = client.predict(source, "Robert'); DROP", api_name="/customer")
    assert "neither a customer id nor an email address" in card

    card, _ = client.predict(source, "  ", api_name="/customer")
    assert "Enter a customer id or an email address." in card
