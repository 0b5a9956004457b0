"""Schema-level tests: ``schema.execute`` on the seeded nx-27017 server, values as variables."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any, cast

import pytest
from strawberry.types import ExecutionResult

from graphql_api.context import build_context
from graphql_api.errors import MASKED_MESSAGE
from graphql_api.schema import schema
from graphql_api.store import GoldStore
from tests.graphql_api import data
from tests.graphql_api.conftest import CommandCounter, Execute

SPENT = {d["_id"]: d["total_spent"] for d in data.customer_documents()}


def ok(result: ExecutionResult) -> dict[str, Any]:
    assert result.errors is None, [e.message for e in result.errors or []]
    assert result.data is not None
    return result.data


def error_message(result: ExecutionResult) -> str:
    assert result.errors, f"expected an error, got {result.data}"
    return " | ".join(e.message for e in result.errors)


def test_kpis_match_the_orders(gql: Execute) -> None:
    kpis = ok(
        gql(
            "{ kpis { totalRevenue totalOrders totalCustomers activeCustomers "
            "avgBasket revenueGrowthLastMonth asOf } }"
        )
    )["kpis"]
    total = sum(o[2] for o in data.ORDERS)
    assert kpis == {
        "totalRevenue": pytest.approx(round(total, 2)),
        "totalOrders": 16,
        "totalCustomers": 12,
        "activeCustomers": 9,
        "avgBasket": pytest.approx(round(total / 16, 2)),
        "revenueGrowthLastMonth": pytest.approx((459.99 - 360.0) / 360.0, abs=1e-4),
        "asOf": "2024-06-30",
    }


def test_revenue_by_country_order_and_limit(gql: Execute) -> None:
    query = """query($order: RevenueOrder, $limit: Int) {
      revenueByCountry(orderBy: $order, limit: $limit) {
        country totalRevenue totalOrders avgBasket
      }
    }"""
    rows = ok(gql(query))["revenueByCountry"]
    expected: dict[str, float] = defaultdict(float)
    for cid, _, amount, _ in data.ORDERS:
        expected[data.CUSTOMERS[cid][2]] += amount
    assert [r["country"] for r in rows] == sorted(expected, key=lambda c: -expected[c])
    for row in rows:
        assert row["totalRevenue"] == pytest.approx(expected[row["country"]])
    assert [
        r["country"]
        for r in ok(gql(query, {"order": {"field": "NAME", "direction": "ASC"}}))[
            "revenueByCountry"
        ]
    ] == [
        "France",
        "Germany",
        "Italy",
    ]
    limited = ok(gql(query, {"order": {"field": "REVENUE", "direction": "ASC"}, "limit": 1}))[
        "revenueByCountry"
    ]
    assert [r["country"] for r in limited] == [min(expected, key=lambda c: expected[c])]


def test_revenue_by_product(gql: Execute) -> None:
    rows = ok(
        gql("{ revenueByProduct(orderBy: {field: ORDERS}) { product totalOrders avgPrice } }")
    )
    products = rows["revenueByProduct"]
    assert products[0] == {"product": "Mouse", "totalOrders": 5, "avgPrice": pytest.approx(63.6)}
    assert len(products) == len({o[3] for o in data.ORDERS})


def test_monthly_revenue_range(gql: Execute) -> None:
    query = """query($from: String, $to: String) {
      monthlyRevenue(from: $from, to: $to) { month totalOrders }
    }"""
    everything = ok(gql(query))["monthlyRevenue"]
    assert [m["month"] for m in everything] == [
        "2023-12",
        "2024-01",
        "2024-02",
        "2024-03",
        "2024-04",
        "2024-05",
        "2024-06",
    ]
    window = ok(gql(query, {"from": "2024-02", "to": "2024-04"}))["monthlyRevenue"]
    assert window == [
        {"month": "2024-02", "totalOrders": 3},
        {"month": "2024-03", "totalOrders": 2},
        {"month": "2024-04", "totalOrders": 2},
    ]
    assert [m["month"] for m in ok(gql(query, {"from": "2024-06"}))["monthlyRevenue"]] == [
        "2024-06"
    ]


CUSTOMER = """query($id: Int!) { customer(customerId: $id) {
  customerId name email country signupDate totalSpent orderCount avgBasket firstOrder lastOrder
  recencyDays rfmScore segment countryRevenue { country totalOrders } } }"""


def test_customer_by_id(gql: Execute) -> None:
    assert ok(gql(CUSTOMER, {"id": 1}))["customer"] == {
        "customerId": 1,
        "name": "Alice Martin",
        "email": "alice@example.com",
        "country": "France",
        "signupDate": "2023-01-10",
        "totalSpent": 500.75,
        "orderCount": 3,
        "avgBasket": pytest.approx(166.92),
        "firstOrder": "2024-01-05T10:00:00",
        "lastOrder": "2024-06-20T09:15:00",
        "recencyDays": 10,
        "rfmScore": "545",
        "segment": "CHAMPIONS",
        "countryRevenue": {"country": "France", "totalOrders": 6},
    }


def test_customer_without_orders_has_nulls(gql: Execute) -> None:
    customer = ok(gql(CUSTOMER, {"id": 9}))["customer"]
    assert customer["totalSpent"] == 0 and customer["orderCount"] == 0
    assert customer["segment"] == "INACTIVE"
    for field in ("avgBasket", "firstOrder", "lastOrder", "recencyDays", "rfmScore"):
        assert customer[field] is None


@pytest.mark.parametrize("unknown", [999, 0, -5])
def test_unknown_customer_is_null_not_an_error(gql: Execute, unknown: int) -> None:
    assert ok(gql(CUSTOMER, {"id": unknown})) == {"customer": None}


PAGE = """query($filter: CustomerFilter, $order: CustomerOrder, $first: Int, $after: String) {
  customers(filter: $filter, orderBy: $order, first: $first, after: $after) {
    totalCount
    edges { cursor node { customerId totalSpent } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


def walk(gql: Execute, order: str, first: int, filter: dict[str, Any] | None = None) -> list[int]:
    ids: list[int] = []
    after = None
    for _ in range(50):
        variables = {"order": order_input(order), "first": first, "after": after, "filter": filter}
        page = ok(gql(PAGE, variables))["customers"]
        assert len(page["edges"]) <= first
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        ids += [e["node"]["customerId"] for e in page["edges"]]
        if page["edges"]:
            assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("pagination did not end")


ORDERS = [
    "TOTAL_SPENT_DESC",
    "TOTAL_SPENT_ASC",
    "CUSTOMER_ID_ASC",
    "CUSTOMER_ID_DESC",
    "NAME_ASC",
    "NAME_DESC",
]


def order_input(order: str) -> dict[str, str]:
    field, _, direction = order.rpartition("_")
    return {"field": field, "direction": direction}


def expected_ids(order: str, keep: Any = lambda cid: True) -> list[int]:
    ids = [cid for cid in data.CUSTOMERS if keep(cid)]
    if order == "TOTAL_SPENT_DESC":
        return sorted(ids, key=lambda cid: (-SPENT[cid], cid))
    if order == "TOTAL_SPENT_ASC":
        return sorted(ids, key=lambda cid: (SPENT[cid], -cid))
    if order == "NAME_ASC":
        return sorted(ids, key=lambda cid: (data.CUSTOMERS[cid][0], cid))
    if order == "NAME_DESC":
        return sorted(ids, key=lambda cid: (data.CUSTOMERS[cid][0], cid), reverse=True)
    return sorted(ids, reverse=order == "CUSTOMER_ID_DESC")


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("first", [1, 5, 100])
def test_pagination_walks_every_customer_once(gql: Execute, order: str, first: int) -> None:
    assert walk(gql, order, first) == expected_ids(order)


def test_default_page_and_total_count(gql: Execute) -> None:
    page = ok(gql(PAGE))["customers"]
    assert page["totalCount"] == 12
    assert [e["node"]["customerId"] for e in page["edges"]] == expected_ids("TOTAL_SPENT_DESC")
    assert page["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize(
    ("filter", "keep"),
    [
        ({"country": "France"}, lambda c: data.CUSTOMERS[c][2] == "France"),
        ({"segment": "AT_RISK"}, lambda c: data.CUSTOMERS[c][5] == "At Risk"),
        ({"minTotalSpent": 150}, lambda c: SPENT[c] >= 150),
        (
            {"country": "France", "minTotalSpent": 150.0},
            lambda c: data.CUSTOMERS[c][2] == "France" and SPENT[c] >= 150,
        ),
        ({"email": " ALICE@Example.com "}, lambda c: c == 1),
        ({"email": "nobody@example.com"}, lambda c: False),
        ({"namePrefix": "Al"}, lambda c: data.CUSTOMERS[c][0].startswith("Al")),
        ({"namePrefix": "al"}, lambda c: False),
        ({"namePrefix": "Gü"}, lambda c: c == 8),
        ({"country": "France", "segment": "INACTIVE"}, lambda c: c in (9, 11)),
    ],
)
def test_filters_with_pagination(gql: Execute, filter: dict[str, Any], keep: Any) -> None:
    for order in ("TOTAL_SPENT_DESC", "TOTAL_SPENT_ASC"):
        assert walk(gql, order, 1, filter) == expected_ids(order, keep)
    count = ok(gql(PAGE, {"filter": filter}))["customers"]["totalCount"]
    assert count == len(expected_ids("CUSTOMER_ID_ASC", keep))


def test_segments(gql: Execute) -> None:
    rows = ok(gql("{ segments { segment customers totalSpent avgBasket } }"))["segments"]
    by_segment = {r["segment"]: r for r in rows}
    assert set(by_segment) == {"CHAMPIONS", "LOYAL", "AT_RISK", "INACTIVE"}
    assert sum(r["customers"] for r in rows) == 12
    assert [r["totalSpent"] for r in rows] == sorted((r["totalSpent"] for r in rows), reverse=True)
    champions = [1, 5]
    assert by_segment["CHAMPIONS"]["totalSpent"] == pytest.approx(sum(SPENT[c] for c in champions))
    assert by_segment["CHAMPIONS"]["avgBasket"] == pytest.approx(round((500.75 + 160) / 6, 2))
    assert by_segment["INACTIVE"] == {
        "segment": "INACTIVE",
        "customers": 3,
        "totalSpent": 0,
        "avgBasket": None,
    }


def test_customer_lookups_are_batched(gql: Execute) -> None:
    counter = CommandCounter()
    query = """query($a: Int!, $b: Int!, $c: Int!) {
      a: customer(customerId: $a) { name countryRevenue { totalRevenue } }
      b: customer(customerId: $b) { name countryRevenue { totalRevenue } }
      c: customer(customerId: $c) { name }
    }"""
    result = ok(gql(query, {"a": 1, "b": 2, "c": 4242}, counter=counter))
    assert [result["a"]["name"], result["b"]["name"], result["c"]] == [
        "Alice Martin",
        "Bruno Keller",
        None,
    ]
    assert counter.reads() == [("find", "customer_metrics"), ("find", "revenue_by_country")]


def test_a_page_costs_one_query_per_collection(gql: Execute) -> None:
    counter = CommandCounter()
    query = """{ customers(first: 100) { edges { node { customerId countryRevenue { avgBasket }
                 } } } }"""
    edges = ok(gql(query, counter=counter))["customers"]["edges"]
    assert len(edges) == 12
    assert counter.reads() == [("find", "customer_metrics"), ("find", "revenue_by_country")]


def test_nested_top_customers(gql: Execute) -> None:
    query = """query($first: Int!) { revenueByCountry(orderBy: {field: NAME, direction: ASC}) {
      country topCustomers(first: $first) { customerId } } }"""
    rows = ok(gql(query, {"first": 2}))["revenueByCountry"]
    assert rows[0] == {"country": "France", "topCustomers": [{"customerId": 1}, {"customerId": 4}]}


# --- bad input: every case is a GraphQL error that says what was wrong, and no query runs.


def cursor_of(payload: str) -> str:
    import base64

    return base64.urlsafe_b64encode(payload.encode()).decode()


BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    (PAGE, {"first": 0}, "`first` must be between 1 and 100; got 0"),
    (PAGE, {"first": 101}, "`first` must be between 1 and 100; got 101"),
    (PAGE, {"first": -3}, "`first` must be between 1 and 100"),
    (PAGE, {"after": "not a cursor!"}, "`after` is not a valid cursor"),
    (PAGE, {"after": "x" * 500}, "`after` is not a valid cursor"),
    (PAGE, {"after": cursor_of('["c1","TOTAL_SPENT_DESC",{"$gt":0},1]')}, "not a finite number"),
    (PAGE, {"after": cursor_of('["c1","TOTAL_SPENT_DESC",1.5,{"$ne":1}]')}, "not an integer"),
    (PAGE, {"after": cursor_of('["c1","TOTAL_SPENT_DESC",1.5,"1"]')}, "not an integer"),
    (PAGE, {"after": cursor_of('{"$where":"sleep(1000)"}')}, "expected shape"),
    (
        PAGE,
        {"after": cursor_of('["c1","CUSTOMER_ID_ASC",null,1]')},
        "issued for orderBy 'CUSTOMER_ID_ASC'",
    ),
    (
        PAGE,
        {"order": {"field": "CUSTOMER_ID"}, "after": cursor_of('["c1","CUSTOMER_ID_DESC",3.5,1]')},
        "sort value",
    ),
    (
        PAGE,
        {"order": {"field": "BOGUS"}},
        "Value 'BOGUS' does not exist in 'CustomerOrderField' enum",
    ),
    (
        PAGE,
        {"filter": {"segment": "Champs"}},
        "Value 'Champs' does not exist in 'Segment' enum",
    ),
    (
        PAGE,
        {"filter": {"segment": "Champions"}},
        "Value 'Champions' does not exist in 'Segment' enum",
    ),
    (PAGE, {"filter": {"country": {"$ne": None}}}, "String cannot represent a non string value"),
    (PAGE, {"filter": {"$where": "1"}}, "not to include unknown field '$where'"),
    (PAGE, {"filter": {"email": "   "}}, "`filter.email` must be 1 to 254 characters"),
    (
        PAGE,
        {"filter": {"minTotalSpent": -1}},
        "`filter.minTotalSpent` must be a number of at least 0",
    ),
    (PAGE, {"filter": {"namePrefix": "a" * 101}}, "`filter.namePrefix` must be 1 to 100"),
    (
        "query($f: String, $t: String) { monthlyRevenue(from: $f, to: $t) { month } }",
        {"f": "2024-05", "t": "2024-02"},
        "`from` (2024-05) must not be later than `to` (2024-02)",
    ),
    (
        "query($f: String) { monthlyRevenue(from: $f) { month } }",
        {"f": "2024-13"},
        "`from` must be a month written YYYY-MM",
    ),
    (
        "query($t: String) { monthlyRevenue(to: $t) { month } }",
        {"t": "2024-1"},
        "`to` must be a month written YYYY-MM",
    ),
    (
        "query($o: RevenueOrder) { revenueByProduct(orderBy: $o) { product } }",
        {"o": {"field": "CHEAPEST"}},
        "Value 'CHEAPEST' does not exist in 'RevenueOrderField' enum",
    ),
    (
        "query($l: Int) { revenueByCountry(limit: $l) { country } }",
        {"l": 0},
        "`limit` must be between 1 and 1000; got 0",
    ),
    (
        "query($n: Int!) { revenueByCountry { topCustomers(first: $n) { customerId } } }",
        {"n": 1000},
        "`first` must be between 1 and 100; got 1000",
    ),
    ("query($id: Int!) { customer(customerId: $id) { id } }", {"id": "1"}, "Int cannot represent"),
    (
        "query($id: Int!) { customer(customerId: $id) { id } }",
        {"id": 2**40},
        "Int cannot represent",
    ),
]


@pytest.mark.parametrize(("query", "variables", "message"), BAD_INPUTS)
def test_bad_input_is_a_clear_error(
    gql: Execute, query: str, variables: dict[str, Any], message: str
) -> None:
    counter = CommandCounter()
    result = gql(query, variables, counter=counter)
    assert message in error_message(result)
    # refused before any read, except where a parent list loads before its child's argument
    parents_load_first = query.startswith("query($n")
    assert bool(counter.reads()) is parents_load_first, counter.reads()


DEEP = (
    "{ customers { edges { node { countryRevenue { topCustomers { countryRevenue { "
    "topCustomers { countryRevenue { topCustomers { customerId } } } } } } } } } }"
)


def test_query_deeper_than_the_limit_is_refused(gql: Execute) -> None:
    counter = CommandCounter()
    assert "exceeds maximum operation depth of 8" in error_message(gql(DEEP, counter=counter))
    assert counter.reads() == []


def test_too_many_aliases_are_refused(gql: Execute) -> None:
    query = "{ " + " ".join(f"k{i}: kpis {{ totalOrders }}" for i in range(30)) + " }"
    assert "aliases found" in error_message(gql(query)).lower()


def test_too_many_tokens_are_refused(gql: Execute) -> None:
    query = "{ kpis { " + " ".join(["totalOrders"] * 3000) + " } }"
    assert "more than 2000 tokens" in error_message(gql(query))


class ExplodingStore:
    """A store whose every read fails the way a bug would."""

    async def kpis(self) -> None:
        raise RuntimeError("secret internal detail")


def test_unexpected_errors_are_masked() -> None:
    store = cast(GoldStore, ExplodingStore())
    result = asyncio.run(
        schema.execute("{ kpis { totalOrders } }", context_value=build_context(store))
    )
    assert error_message(result) == MASKED_MESSAGE
    assert "secret" not in str(result.errors)


class EmptyStore:
    """A store on a database the export pipeline has not filled yet."""

    async def kpis(self) -> None:
        return None


def test_missing_kpis_say_to_run_the_export() -> None:
    store = cast(GoldStore, EmptyStore())
    result = asyncio.run(
        schema.execute("{ kpis { totalOrders } }", context_value=build_context(store))
    )
    assert "run the export pipeline" in error_message(result)
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "DATA_NOT_EXPORTED"}


# --- conventions: global ids, paging both ways, closed sets as enums.

BACK = """query($order: CustomerOrder, $last: Int, $before: String, $filter: CustomerFilter) {
  customers(orderBy: $order, last: $last, before: $before, filter: $filter) {
    edges { cursor node { customerId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


def walk_back(
    gql: Execute, order: str, last: int, filter: dict[str, Any] | None = None
) -> list[int]:
    """Every customer from the end with ``last``/``before``, in the list's own order."""
    pages: list[list[int]] = []
    before = None
    for _ in range(50):
        variables = {"order": order_input(order), "last": last, "before": before, "filter": filter}
        page = ok(gql(BACK, variables))["customers"]
        ids = [e["node"]["customerId"] for e in page["edges"]]
        assert len(ids) <= last
        assert page["pageInfo"]["hasNextPage"] is (before is not None)
        if page["edges"]:
            assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        pages.insert(0, ids)
        if not page["pageInfo"]["hasPreviousPage"]:
            return [cid for ids in pages for cid in ids]
        before = page["pageInfo"]["startCursor"]
    raise AssertionError("backward pagination did not end")


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("last", [1, 5, 100])
def test_backward_pagination_sees_every_customer_once(gql: Execute, order: str, last: int) -> None:
    assert walk_back(gql, order, last) == expected_ids(order)


def test_backward_pagination_with_a_filter(gql: Execute) -> None:
    keep = lambda c: SPENT[c] >= 150  # noqa: E731
    flt = {"minTotalSpent": 150}
    for order in ("TOTAL_SPENT_DESC", "TOTAL_SPENT_ASC"):
        assert walk_back(gql, order, 1, flt) == expected_ids(order, keep)


def test_has_previous_page_means_customers_come_before(gql: Execute) -> None:
    first = ok(gql(PAGE, {"first": 3}))["customers"]
    assert first["pageInfo"]["hasPreviousPage"] is False
    second = ok(gql(PAGE, {"first": 3, "after": first["pageInfo"]["endCursor"]}))["customers"]
    assert second["pageInfo"]["hasPreviousPage"] is True
    # Back from the second page's start: the first page again, and nothing before it.
    back = ok(gql(BACK, {"last": 3, "before": second["pageInfo"]["startCursor"]}))["customers"]
    assert [e["node"]["customerId"] for e in back["edges"]] == [
        e["node"]["customerId"] for e in first["edges"]
    ]
    assert back["pageInfo"]["hasPreviousPage"] is False
    assert back["pageInfo"]["hasNextPage"] is True
    # The last page read forward has customers before it but none after.
    tail = ok(gql(BACK, {"last": 2}))["customers"]
    assert tail["pageInfo"]["hasPreviousPage"] is True and tail["pageInfo"]["hasNextPage"] is False


def test_mixing_forward_and_backward_paging_is_refused(gql: Execute) -> None:
    query = "{ customers(first: 2, last: 2) { edges { cursor } } }"
    assert "not both in one query" in error_message(gql(query))


def test_a_cursor_is_checked_against_its_direction(gql: Execute) -> None:
    result = gql(BACK, {"before": "not a cursor"})
    assert "`before` is not a valid cursor" in error_message(result)


NODE = """query($id: ID!) { node(id: $id) { id __typename
  ... on Customer { customerId totalSpent } } }"""


def test_node_round_trip(gql: Execute) -> None:
    edges = ok(gql("{ customers(first: 12) { edges { node { id customerId totalSpent } } } }"))[
        "customers"
    ]["edges"]
    ids = {e["node"]["id"] for e in edges}
    assert len(ids) == 12  # global ids are unique
    for edge in edges:
        node = ok(gql(NODE, {"id": edge["node"]["id"]}))["node"]
        assert node == {**edge["node"], "__typename": "Customer"}


def test_node_of_an_unknown_customer_is_null(gql: Execute) -> None:
    import base64

    for raw in ("Customer:4242", "Customer:abc"):
        gid = base64.b64encode(raw.encode()).decode()
        assert ok(gql(NODE, {"id": gid})) == {"node": None}


def test_node_of_a_malformed_id_is_an_error(gql: Execute) -> None:
    assert gql(NODE, {"id": "not-a-global-id"}).errors
    import base64

    other_type = base64.b64encode(b"Kpis:1").decode()
    assert "not the global id of a Customer" in error_message(gql(NODE, {"id": other_type}))


def test_segment_enum_matches_the_gold_segments() -> None:
    from graphql_api.types.segment import Segment
    from medallion_kedro.pipelines.gold.rfm import SEGMENTS

    assert [s.value for s in Segment] == list(SEGMENTS)


def test_segment_filter_is_an_enum(gql: Execute) -> None:
    page = ok(gql(PAGE, {"filter": {"segment": "CHAMPIONS"}, "first": 100}))["customers"]
    assert sorted(e["node"]["customerId"] for e in page["edges"]) == [1, 5]


def test_has_previous_page_looks_before_the_page_not_at_the_cursor(gql: Execute) -> None:
    """A cursor placed before everyone (or after everyone) has nothing on its far side."""
    top = cursor_of('["c1","TOTAL_SPENT_DESC",1e9,0]')
    page = ok(gql(PAGE, {"first": 3, "after": top}))["customers"]
    assert [e["node"]["customerId"] for e in page["edges"]] == expected_ids("TOTAL_SPENT_DESC")[:3]
    assert page["pageInfo"]["hasPreviousPage"] is False
    bottom = cursor_of('["c1","TOTAL_SPENT_DESC",-1.0,0]')
    back = ok(gql(BACK, {"last": 3, "before": bottom}))["customers"]
    assert [e["node"]["customerId"] for e in back["edges"]] == expected_ids("TOTAL_SPENT_DESC")[-3:]
    assert back["pageInfo"]["hasNextPage"] is False and back["pageInfo"]["hasPreviousPage"]


@pytest.mark.parametrize("order", ["NAME_ASC", "NAME_DESC"])
def test_name_orderings_keep_the_name_prefix_both_ways(gql: Execute, order: str) -> None:
    keep = lambda c: data.CUSTOMERS[c][0].startswith("Al")  # noqa: E731
    flt = {"namePrefix": "Al"}
    assert walk(gql, order, 1, flt) == expected_ids(order, keep)
    assert walk_back(gql, order, 1, flt) == expected_ids(order, keep)


@pytest.mark.parametrize(
    ("order", "expected"),
    [("NAME_ASC", []), ("NAME_DESC", ["Alina Dupont", "Alice Martin", "Alex Stone"])],
)
def test_a_cursor_outside_the_name_prefix_never_widens_it(
    gql: Execute, order: str, expected: list[str]
) -> None:
    """A cursor on "Bruno Keller" with the prefix "Al": only "Al..." names ever come back."""
    query = """query($o: CustomerOrder, $a: String) {
      customers(orderBy: $o, after: $a, filter: {namePrefix: "Al"}) { edges { node { name } } } }"""
    after = cursor_of(f'["c1","{order}","Bruno Keller",0]')
    edges = ok(gql(query, {"o": order_input(order), "a": after}))["customers"]["edges"]
    assert [e["node"]["name"] for e in edges] == expected
    further = cursor_of(f'["c1","{order}","Zz",0]')
    edges = ok(gql(query, {"o": order_input(order), "a": further}))["customers"]["edges"]
    assert all(e["node"]["name"].startswith("Al") for e in edges)
