"""Every event of the app, called through gradio_client for both sources, against gold.

The lake is built by the real pipelines, exported to an nx-27017 server by the export
pipeline and served by the real GraphQL API; the app runs as ``python -m ui``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl
import pymongo
import pytest
from gradio_client import Client

from medallion_kedro.datasets.mongo_manifest import live_collections
from tests.servers import MongoServer
from tests.ui.conftest import API_LABEL, LAKE_LABEL
from tests.ui.helpers import html_fields, shown, table, top_of
from ui import render
from ui.app import CUSTOMER_COLUMNS

pytestmark = pytest.mark.slow
SOURCES = pytest.mark.parametrize("source", [LAKE_LABEL, API_LABEL])


@pytest.fixture(scope="module")
def client(app_url: str) -> Iterator[Client]:
    yield Client(app_url, verbose=False)


def call(client: Client, api_name: str, *args: Any) -> Any:
    return client.predict(*args, api_name=api_name)


@SOURCES
def test_kpis_show_the_gold_row(client: Client, gold: dict[str, pl.DataFrame], source: str) -> None:
    fields = html_fields(call(client, "/kpis", source))
    row = gold["kpis"].row(0, named=True)
    assert float(fields["total_revenue"]) == row["total_revenue"]
    assert int(fields["total_orders"]) == row["total_orders"]
    assert int(fields["total_customers"]) == row["total_customers"]
    assert int(fields["active_customers"]) == row["active_customers"]
    assert float(fields["avg_basket"]) == row["avg_basket"]
    growth = row["revenue_growth_last_month"]
    assert fields["revenue_growth_last_month"] == ("" if growth is None else repr(growth))
    assert fields["as_of"] == row["as_of"].isoformat()


@SOURCES
def test_revenue_tables_and_plots_match_gold(
    client: Client, gold: dict[str, pl.DataFrame], source: str
) -> None:
    status, country_plot, country, product_plot, product, monthly_plot, monthly = call(
        client, "/revenue", source
    )
    assert status == ""
    for got, plot, name, key in (
        (country, country_plot, "revenue_by_country", "country"),
        (product, product_plot, "revenue_by_product", "product"),
        (monthly, monthly_plot, "monthly_revenue", "month"),
    ):
        expected = gold[name].sort(key)
        assert table(got).sort(key).rows() == expected.rows(), name
        assert plot["columns"] == expected.columns
        assert sorted(map(tuple, plot["data"])) == sorted(expected.rows())
    assert table(monthly)["month"].to_list() == sorted(gold["monthly_revenue"]["month"])
    revenues = table(country)["total_revenue"].to_list()
    assert revenues == sorted(revenues, reverse=True)


@SOURCES
def test_customer_lookup_by_id_and_email(
    client: Client, gold: dict[str, pl.DataFrame], source: str
) -> None:
    metrics = gold["customer_metrics"]
    biggest = metrics.sort("total_spent", descending=True).row(0, named=True)
    for query in (str(biggest["customer_id"]), biggest["email"].upper()):
        card, details = call(client, "/customer", source, query)
        assert html_fields(card)["customer_id"] == str(biggest["customer_id"])
        assert biggest["name"] in card and biggest["segment"] in card
        field_of = {render.label(field): field for field in CUSTOMER_COLUMNS}
        values = {field_of[k]: v for k, v in table(details).rows()}
        assert values == {
            k: render.money_cell(v, "€") if k in render.MONEY else shown(v)
            for k, v in biggest.items()
        }


@SOURCES
def test_top_customers_with_filters(
    client: Client, gold: dict[str, pl.DataFrame], source: str
) -> None:
    metrics = gold["customer_metrics"]
    country = gold["revenue_by_country"]["country"][0]
    segment = metrics["segment"].mode().sort()[0]
    for n, ctry, seg, filters in (
        (20, "All", "All", {}),
        (15, country, "All", {"country": country}),
        (10, country, segment, {"country": country, "segment": segment}),
        (120, "All", segment, {"segment": segment}),  # more than one API page
    ):
        status, got = call(client, "/top_customers", source, n, ctry, seg)
        frame = table(got)
        assert frame["customer_id"].to_list() == top_of(metrics, n, **filters), (n, filters)
        assert frame["rank"].to_list() == list(range(1, frame.height + 1))
        for column, value in filters.items():
            assert set(frame[column]) == {value}
    status, got = call(client, "/top_customers", source, 10, "Atlantis", "All")
    assert "No customer matches" in status and table(got).height == 0


@SOURCES
def test_segments_and_filters(client: Client, gold: dict[str, pl.DataFrame], source: str) -> None:
    status, plot, got = call(client, "/segments", source)
    assert status == ""
    rows = {r[0]: tuple(r[1:]) for r in table(got).rows()}
    assert rows == {r[0]: tuple(r[1:]) for r in gold["segments"].rows()}
    assert sorted(map(tuple, plot["data"])) == sorted((k, *v) for k, v in rows.items())

    countries, segments = call(client, "/filters", source)
    assert [c[0] for c in countries["choices"]] == [
        "All",
        *sorted(gold["revenue_by_country"]["country"]),
    ]
    assert [c[0] for c in segments["choices"]] == ["All", *sorted(rows)]


def test_sources_tab_times_both_sources_and_finds_them_equal(client: Client) -> None:
    summary, latency, plot = call(client, "/compare_sources", 3)
    assert "All 7 views agree exactly." in summary
    assert "msg-error" not in summary and 'class="bad"' not in summary
    frame = table(latency)
    assert frame.height == 14
    assert set(frame["source"]) == {LAKE_LABEL, API_LABEL}
    assert frame["runs"].to_list() == [3] * 14
    assert (frame["median_ms"] > 0).all()
    assert (frame["p25_ms"] <= frame["median_ms"]).all() and (
        frame["median_ms"] <= frame["p75_ms"]
    ).all()
    assert len(plot["data"]) == 14


def test_sources_tab_shows_a_disagreement_in_red(
    client: Client, mongo: MongoServer, exported: str, gold: dict[str, pl.DataFrame]
) -> None:
    """Change one exported number behind the API's back: the tab names the field, in red."""
    country = gold["revenue_by_country"].row(0, named=True)
    with pymongo.MongoClient(mongo.uri) as mc:
        live = live_collections(mc[exported])["revenue_by_country"]  # the exported run's
        collection = mc[exported][live]
        collection.update_one({"_id": country["country"]}, {"$inc": {"total_revenue": 0.01}})
        try:
            summary, _, _ = call(client, "/compare_sources", 1)
        finally:
            collection.update_one(
                {"_id": country["country"]}, {"$set": {"total_revenue": country["total_revenue"]}}
            )
    assert "1 of 7 views differ." in summary
    row = summary.split('data-view="revenue_by_country"')[1].split("</tr>")[0]
    assert 'class="bad" data-differing="total_revenue"' in row
    assert f"{country['country']} · total_revenue" in row
    assert 'data-view="kpis"' in summary and "✔ identical" in summary
