"""A small hand-made source data set with every kind of dirt, and what silver must keep.

The expected silver rows below are written by hand from the CSV text, so tests can compute
gold expectations from them without calling the project's code.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl

from medallion_kedro.schemas import RAW_COLUMNS, SOURCES

#: No as_of parameter: the day after the latest valid order (order 100, 2026-10-15).
AS_OF = dt.date(2026, 10, 16)

_CUSTOMERS = """customer_id,name,email,signup_date,country
1,Alice Martin,Alice@Example.com,2024-01-10,France
2,Bob Stone,bob@example.com,2024-02-11,  germany
3,Carla Diaz,carla@example.com,2024-03-12,ESPAÑA
4,Dan Wu,dan@example.com,2024-04-13,Narnia
5,,eve@example.com,2024-05-14,France
6,Finn Hale,not-an-email,2024-06-15,France
7,Gus Lee,gus@example.com,2024-02-30,Italy
x8,Hal Moe,hal@example.com,2024-01-01,Italy
2,Bob Stone,bob.new@example.com,2024-02-11,Germany
9,Ivy Chen,ivy@example.com,2024-07-01,USA
"""

_ORDERS = """order_id,customer_id,order_ts,amount,product
100,1,2026-10-15 10:00:00,10.50,laptop
101,1,2026-09-20 12:30:00,20.25,Mouse
102,2,2026-10-01 08:00:00,100.00,laptop
103,3,2026-08-05 09:15:00,5.10,headphones
104,3,2026-09-10 18:45:00,7.35,  mouse
105,2,2026-09-30 23:59:59,-3.00,laptop
106,2,2026-10-02 10:00:00,0,laptop
107,4,2026-10-03 10:00:00,12.00,laptop
108,99,2026-10-04 10:00:00,12.00,laptop
109,1,2026-13-01 10:00:00,12.00,laptop
110,,2026-10-05 10:00:00,12.00,laptop
111,1,2026-10-06 10:00:00,,laptop
112,1,2026-10-07 10:00:00,8.00,
100,1,2026-10-15 10:00:00,10.50,laptop
113,2,2025-11-20 10:00:00,50.00,keyboard
abc,2,2025-11-20 10:00:00,50.00,keyboard
"""


def with_source_columns(text: str, table: str) -> str:
    """``text`` (a CSV export under the project's column names) with every source column
    of ``table`` its header lacks appended, holding the contract's example text
    (``schemas.SOURCES``): a new source column changes no hand-written row."""
    header, *rows = text.splitlines()
    given = header.split(",")
    extra = [c for c in SOURCES[table] if c.name not in given]
    tail = "".join(f",{c.example}" for c in extra)
    names = "".join(f",{c.name}" for c in extra)
    return "\n".join([header + names, *(row + tail for row in rows)]) + "\n"


#: The hand-made exports, with every source column (the ones above give those they test).
CUSTOMERS_CSV = with_source_columns(_CUSTOMERS, "customers")
ORDERS_CSV = with_source_columns(_ORDERS, "orders")

#: The silver columns the expected rows below give, per table (the gold oracle reads
#: these; a source column added later is compared by its own tests).
EXPECTED_COLUMNS = {
    "customers": ("customer_id", "name", "email", "signup_date", "country"),
    "orders": ("order_id", "customer_id", "order_ts", "amount", "product"),
}


def expected_rows(silver: pl.DataFrame, table: str) -> list[tuple[object, ...]]:
    """``silver``'s rows of the :data:`EXPECTED_COLUMNS`, in key order: what the expected
    rows below are compared with."""
    columns = EXPECTED_COLUMNS[table]
    return silver.select(columns).sort(columns[0]).rows()


#: (customer_id, name, email, signup_date, country) kept in silver.
SILVER_CUSTOMERS = [
    (1, "Alice Martin", "alice@example.com", dt.date(2024, 1, 10), "France"),
    (2, "Bob Stone", "bob.new@example.com", dt.date(2024, 2, 11), "Germany"),
    (3, "Carla Diaz", "carla@example.com", dt.date(2024, 3, 12), "Spain"),
    (4, "Dan Wu", "dan@example.com", dt.date(2024, 4, 13), None),
    (9, "Ivy Chen", "ivy@example.com", dt.date(2024, 7, 1), "United States"),
]
REJECTED_CUSTOMERS = {
    "5": "missing name",
    "6": "invalid email",
    "7": "invalid signup_date",
    "x8": "invalid customer_id",
}
DUPLICATE_CUSTOMERS = 1
#: (table, key, column, raw value, reason prefix) of the rows kept with a warning.
WARNINGS = [
    ("customers", "4", "country", "Narnia", "unknown country"),
    ("orders", "112", "product", None, "missing product"),
]

#: (order_id, customer_id, order_ts, amount, product) kept in silver.
SILVER_ORDERS = [
    (100, 1, dt.datetime(2026, 10, 15, 10, 0, 0), Decimal("10.50"), "Laptop"),
    (101, 1, dt.datetime(2026, 9, 20, 12, 30, 0), Decimal("20.25"), "Mouse"),
    (102, 2, dt.datetime(2026, 10, 1, 8, 0, 0), Decimal("100.00"), "Laptop"),
    (103, 3, dt.datetime(2026, 8, 5, 9, 15, 0), Decimal("5.10"), "Headphones"),
    (104, 3, dt.datetime(2026, 9, 10, 18, 45, 0), Decimal("7.35"), "Mouse"),
    (107, 4, dt.datetime(2026, 10, 3, 10, 0, 0), Decimal("12.00"), "Laptop"),
    (112, 1, dt.datetime(2026, 10, 7, 10, 0, 0), Decimal("8.00"), None),
    (113, 2, dt.datetime(2025, 11, 20, 10, 0, 0), Decimal("50.00"), "Keyboard"),
]
REJECTED_ORDERS = {
    "105": "invalid amount",
    "106": "invalid amount",
    "109": "invalid order_ts",
    "110": "invalid customer_id",
    "111": "invalid amount",
    "abc": "invalid order_id",
}
#: Orders whose customer is not known: they wait in quality.waiting_orders.
WAITING_ORDERS = ["108"]
DUPLICATE_ORDERS = 1


def write_landing(
    lake: Path,
    customers: str = CUSTOMERS_CSV,
    orders: str = ORDERS_CSV,
    names: tuple[str, str] = ("customers.csv", "orders.csv"),
) -> Path:
    landing = lake / "landing"
    landing.mkdir(parents=True, exist_ok=True)
    (landing / names[0]).write_text(customers, encoding="utf-8")
    (landing / names[1]).write_text(orders, encoding="utf-8")
    return landing


def csv_text(table: str, rows: list[str]) -> str:
    """A landing file's text: ``rows`` (CSV lines giving the columns of the hand-made
    export above) under the table's header, completed by :func:`with_source_columns`."""
    header = (_CUSTOMERS if table == "customers" else _ORDERS).splitlines()[0]
    return with_source_columns("\n".join([header, *rows]), table)


def drop_batch(lake: Path, table: str, name: str, rows: list[str]) -> Path:
    """One export file ``landing/<table>/<name>`` holding ``rows``: one batch."""
    folder = lake / "landing" / table
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(csv_text(table, rows), encoding="utf-8")
    return path


def source_frame(table: str, given: pl.DataFrame) -> pl.DataFrame:
    """Every source column of ``table`` (``RAW_COLUMNS``), as text, in order: the columns of
    ``given``, and the contract's example text (``schemas.SOURCES``) in each of the others."""
    example = {c.name: c.example for c in SOURCES[table]}
    return given.select(
        pl.col(c) if c in given.columns else pl.lit(example[c]).alias(c) for c in RAW_COLUMNS[table]
    )


def source_csv(
    table: str, given: dict[str, list[str]], column_map: dict[str, str] | None = None
) -> str:
    """A CSV export of ``table`` from the ``given`` columns (see ``source_frame``), with the
    source's own headers when a ``column_map`` (source name -> project name) is given."""
    frame = source_frame(table, pl.DataFrame(given, schema=dict.fromkeys(given, pl.String)))
    if column_map:
        frame = frame.rename({ours: theirs for theirs, ours in column_map.items()})
    return frame.write_csv()
