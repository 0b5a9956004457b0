"""Benchmark: silver's lenient casts (``strict=False``) against an engine-neutral form.

Polars turns invalid text into null with ``cast(..., strict=False)``; narwhals' ``cast``
is strict (and Spark 4 runs in ANSI mode). The engine-neutral form checks the text with a
regular expression, nulls what fails, then casts strictly. This times both on the
``order_id`` and ``amount`` text of a lake's bronze orders (plus edge cases), checks that
they give the same values, and prints the median of ``--repeat`` runs.

    python bench/pipeline.py --orders 1000000 --lake /tmp/bench-lake
    python bench/try_cast.py --lake /tmp/bench-lake [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import narwhals as nw
import polars as pl

from medallion_kedro.lake import read_table
from medallion_kedro.pipelines.silver import rules

EDGES = [
    *("+5", "007", " 12 ", "-0", "\t3\t", "00000000000000000000001", "", "x", "+", "-"),
    *("9223372036854775807", "9223372036854775808", "-9223372036854775808"),
    *("-9223372036854775809", "1e3", "12.0", "12.500", "12.345", "0012.1", "12\x00", None),
]
_MAX, _MIN = "9223372036854775807", "9223372036854775808"


def _trimmed(column: str) -> nw.Expr:
    return nw.col(column).str.strip_chars(" \t")


def try_int_exact(column: str) -> nw.Expr:
    """Int64 or null, as polars' ``strict=False`` (19 significant digits compared as text)."""
    text = _trimmed(column)
    digits = text.str.replace(r"^[+-]?0*", "")
    size = digits.str.len_chars()
    limit = nw.when(text.str.starts_with("-")).then(nw.lit(_MIN)).otherwise(nw.lit(_MAX))
    fits = (size <= 18) | ((size == 19) & (digits <= limit))  # noqa: PLR2004
    return nw.when(text.str.contains(r"^[+-]?[0-9]+$") & fits).then(text).cast(nw.Int64)


def try_int_18(column: str) -> nw.Expr:
    """Int64 or null for up to 18 significant digits (a valid 19-digit value becomes null)."""
    text = _trimmed(column)
    return nw.when(text.str.contains(r"^[+-]?0*[0-9]{1,18}$")).then(text).cast(nw.Int64)


def try_amount(column: str) -> nw.Expr:
    """``Decimal(18, 2)`` or null, with silver's amount rule."""
    text = _trimmed(column)
    valid = text.str.contains(r"^[0-9]{1,16}(\.[0-9]{0,2}0*)?$")
    return nw.when(valid).then(text).cast(nw.Decimal(18, 2))


def _neutral(expr: Callable[[str], nw.Expr], column: str) -> Callable[[pl.DataFrame], Any]:
    return lambda frame: nw.from_native(frame).select(expr(column)).to_native()


def _polars(expr: Callable[[str], pl.Expr], column: str) -> Callable[[pl.DataFrame], Any]:
    return lambda frame: frame.select(expr(column))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", required=True, help="a lake with bronze orders")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    bronze = read_table(args.lake, "bronze", "orders").select("order_id", "amount")
    edges = pl.DataFrame({"order_id": EDGES, "amount": EDGES})
    cases = {
        "order_id: polars strict=False": _polars(rules.parse_int, "order_id"),
        "order_id: regex, exact": _neutral(try_int_exact, "order_id"),
        "order_id: regex, <= 18 digits": _neutral(try_int_18, "order_id"),
        "amount: polars (regex, strict=False)": _polars(rules.parse_amount, "amount"),
        "amount: regex, strict cast": _neutral(try_amount, "amount"),
    }
    reference = {"order_id": cases["order_id: polars strict=False"]}
    reference["amount"] = cases["amount: polars (regex, strict=False)"]
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeat):
        for name, run in cases.items():
            start = time.perf_counter()
            run(bronze)
            times[name].append(time.perf_counter() - start)
    print(f"bronze orders: {bronze.height:,} rows")
    for name, run in cases.items():
        column = name.split(":")[0]
        same = all(run(f).equals(reference[column](f)) for f in (bronze, edges))
        print(
            f"{name:<38} median {statistics.median(times[name]) * 1000:7.1f} ms  "
            f"same values as polars: {same}"
        )


if __name__ == "__main__":
    main()
