"""``generate --params batches=N``: N export files per table, late orders, corrections."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from medallion_kedro import settings
from medallion_kedro.pipelines.generate.nodes import generate_customers, generate_orders, to_landing

CONF = Path(__file__).resolve().parents[3] / "conf"
PARAMS = settings.CONFIG_LOADER_CLASS(str(CONF), **settings.CONFIG_LOADER_ARGS)["parameters"]
GEN, CORRECTIONS = PARAMS["generator"], PARAMS["corrections"]


def test_batches_split_every_row_with_late_orders_and_corrections() -> None:
    customers = generate_customers(300, 3, 0.0, GEN)
    orders = generate_orders(3000, 300, 3, 0.0, GEN)
    files_c, files_o = to_landing(customers, orders, 4, 3, {"file": "customers.csv"},
                                  {"file": "orders.csv"}, CORRECTIONS)  # fmt: skip
    assert isinstance(files_o, dict) and isinstance(files_c, dict)
    assert list(files_o) == [f"orders_3_000{k}.csv" for k in range(1, 5)]
    every = pl.concat(files_o.values())
    # every generated order is in some batch; the extra rows are corrections of earlier ones
    assert set(every["order_id"]) == set(orders["order_id"])
    corrections = every.height - orders.height
    assert 0 < corrections < 0.05 * orders.height
    changed = every.join(orders, on="order_id").filter(pl.col("amount") != pl.col("amount_right"))
    assert changed.height == corrections
    first = files_o["orders_3_0001.csv"]
    assert first.join(orders, on=list(orders.columns), how="anti").is_empty()  # no fix in it
    assert set(pl.concat(files_c.values())["customer_id"]) == set(customers["customer_id"])
    # late orders: a batch holds orders older than the newest of the batch before it
    second = files_o["orders_3_0002.csv"]
    newest_first = files_o["orders_3_0001.csv"]["order_ts"].max()
    assert (second["order_ts"] < newest_first).sum() > 0


def test_one_batch_writes_the_single_file_layout() -> None:
    customers = generate_customers(10, 1, 0.0, GEN)
    orders = generate_orders(20, 10, 1, 0.0, GEN)
    files_c, files_o = to_landing(customers, orders, 0, 1, {}, {}, CORRECTIONS)
    assert isinstance(files_c, pl.DataFrame) and files_o.equals(orders)
    with pytest.raises(ValueError, match="batches must be >= 0"):
        to_landing(customers, orders, -1, 1, {}, {}, CORRECTIONS)
