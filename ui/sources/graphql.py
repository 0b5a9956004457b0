"""Read the same views from the GraphQL API (``graphql_api``) over HTTP with httpx."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

import httpx
import polars as pl

from medallion_kedro.pipelines.gold.rfm import SEGMENTS as SEGMENT_NAMES
from ui.sources.base import (
    GOLD,
    Customer,
    Kpis,
    SourceError,
    SourceUnavailableError,
)

LABEL = "GraphQL API"

#: Largest page the app asks for; the API caps pages, so bigger top-N lists are paged.
PAGE_SIZE = 100


def _camel(column: str) -> str:
    head, *rest = column.split("_")
    return head + "".join(part.title() for part in rest)


def _fields(table: str) -> str:
    """The API's fields of every column of ``gold.<table>`` (the gold contract's names)."""
    return " ".join(_camel(c) for c in GOLD[table].names())


CUSTOMER_FIELDS = _fields("customer_metrics")
KPIS = f"query Kpis {{ kpis {{ {_fields('kpis')} }} }}"
REVENUE_BY_COUNTRY = f"query ByCountry {{ revenueByCountry {{ {_fields('revenue_by_country')} }} }}"
REVENUE_BY_PRODUCT = f"query ByProduct {{ revenueByProduct {{ {_fields('revenue_by_product')} }} }}"
MONTHLY_REVENUE = f"query Monthly {{ monthlyRevenue {{ {_fields('monthly_revenue')} }} }}"
CUSTOMER = f"query Customer($id: Int!) {{ customer(customerId: $id) {{ {CUSTOMER_FIELDS} }} }}"
CUSTOMERS = f"""
query Customers($filter: CustomerFilter, $first: Int, $after: String) {{
  customers(filter: $filter, orderBy: {{field: TOTAL_SPENT, direction: DESC}},
            first: $first, after: $after) {{
    edges {{ node {{ {CUSTOMER_FIELDS} }} cursor }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""
SEGMENTS = f"query Segments {{ segments {{ {_fields('segments')} }} }}"

#: GraphQL field -> gold column, for every column of the gold contract.
_COLUMNS = {_camel(c): c for schema in GOLD.values() for c in schema.names()}


#: The API's ``Segment`` enum names (``AT_RISK``) and the gold segment names (``At Risk``).
_SEGMENT_NAMES = {s.upper().replace(" ", "_"): s for s in SEGMENT_NAMES}
_SEGMENT_ENUMS = {name: enum for enum, name in _SEGMENT_NAMES.items()}
#: Error codes of a refusal by the API's access control.
_AUTH_CODES = {"UNAUTHENTICATED", "FORBIDDEN"}


def _snake(record: Mapping[str, Any]) -> dict[str, Any]:
    row = {_COLUMNS.get(k, k): v for k, v in record.items()}
    if "segment" in row:
        row["segment"] = _SEGMENT_NAMES.get(row["segment"], row["segment"])
    return row


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _datetime(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:  # gold timestamps are naive UTC
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _customer(node: Mapping[str, Any]) -> Customer:
    row = _snake(node)
    row["signup_date"] = _date(row["signup_date"])
    row["first_order"] = _datetime(row["first_order"])
    row["last_order"] = _datetime(row["last_order"])
    return Customer(**row)


def _frame(rows: list[Mapping[str, Any]], schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame([_snake(r) for r in rows], schema=schema, orient="row")


class GraphQLSource:
    """The GraphQL service at ``url`` (one pooled httpx client per source)."""

    def __init__(self, url: str, timeout: float = 15.0, token: str | None = None) -> None:
        self._url = url
        self._timeout = timeout
        self._headers = {"authorization": f"Bearer {token}"} if token else {}
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    @property
    def label(self) -> str:
        return LABEL

    def describe(self) -> str:
        return f"GraphQL API at {self._url}"

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=httpx.Timeout(self._timeout, connect=3.0), trust_env=False
                )
            return self._client

    def _query(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        payload = {"query": query, "variables": dict(variables or {})}
        try:
            response = self._http().post(self._url, json=payload, headers=self._headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise SourceUnavailableError(
                f"The GraphQL API at {self._url} does not answer: start it with "
                "`medallion-api` (it reads MONGO_URI and MONGO_DB), or point API_URL at it."
            ) from exc
        except httpx.TimeoutException as exc:
            raise SourceError(
                f"The GraphQL API at {self._url} took more than {self._timeout:.0f} s to answer: "
                "check that its MongoDB is up (`curl <api>/health`)."
            ) from exc
        except httpx.HTTPError as exc:
            raise SourceError(f"Request to the GraphQL API at {self._url} failed: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
            raise SourceError(
                f"{self._url} answered HTTP {response.status_code} without a GraphQL result: "
                "is API_URL the API's /graphql endpoint?"
            )
        errors = body.get("errors") or []
        codes = {(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)}
        if codes & _AUTH_CODES:
            messages = "; ".join(str(e.get("message", e)) for e in errors)
            raise SourceError(
                f"The GraphQL API refused the app's token: {messages} Set API_TOKEN to an API "
                "key (or JWT) with the scope `customers:pii` for the app."
            )
        if errors:
            messages = "; ".join(str(e.get("message", e)) for e in errors)
            raise SourceError(f"The GraphQL API reported: {messages}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise SourceError(f"The GraphQL API at {self._url} returned no data")
        return data

    def kpis(self) -> Kpis:
        row = _snake(self._query(KPIS)["kpis"])
        row["as_of"] = _date(row["as_of"])
        return Kpis(**row)

    def revenue_by_country(self) -> pl.DataFrame:
        rows = self._query(REVENUE_BY_COUNTRY)["revenueByCountry"]
        return _frame(rows, GOLD["revenue_by_country"])

    def revenue_by_product(self) -> pl.DataFrame:
        rows = self._query(REVENUE_BY_PRODUCT)["revenueByProduct"]
        return _frame(rows, GOLD["revenue_by_product"])

    def monthly_revenue(self) -> pl.DataFrame:
        rows = self._query(MONTHLY_REVENUE)["monthlyRevenue"]
        return _frame(rows, GOLD["monthly_revenue"]).sort("month")

    def customer_by_id(self, customer_id: int) -> Customer | None:
        node = self._query(CUSTOMER, {"id": customer_id})["customer"]
        return None if node is None else _customer(node)

    def customer_by_email(self, email: str) -> Customer | None:
        wanted = email.strip().lower()
        for node in self._customers({"email": wanted}, limit=1):
            if str(node["email"]).lower() == wanted:
                return _customer(node)
        return None

    def top_customers(
        self, n: int, country: str | None = None, segment: str | None = None
    ) -> pl.DataFrame:
        flt: dict[str, Any] = {"country": country} if country else {}
        if segment:
            flt["segment"] = _SEGMENT_ENUMS.get(segment, segment)
        customers = [_customer(node) for node in self._customers(flt or None, limit=n)]
        return pl.DataFrame(
            [asdict(c) for c in customers], schema=GOLD["customer_metrics"], orient="row"
        )

    def _customers(self, flt: Mapping[str, Any] | None, limit: int) -> list[dict[str, Any]]:
        nodes: list[dict[str, Any]] = []
        after: str | None = None
        while len(nodes) < limit:
            variables = {"filter": flt, "first": min(PAGE_SIZE, limit - len(nodes)), "after": after}
            page = self._query(CUSTOMERS, variables)["customers"]
            nodes.extend(edge["node"] for edge in page["edges"])
            if not page["pageInfo"]["hasNextPage"] or not page["edges"]:
                break
            after = page["pageInfo"]["endCursor"]
        return nodes[:limit]

    def segments(self) -> pl.DataFrame:
        rows = self._query(SEGMENTS)["segments"]
        return _frame(rows, GOLD["segments"])
