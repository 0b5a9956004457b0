"""``generate --params batches=N``: N export files per table, late orders, corrections."""

from __future__ import annotations

import functools
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import settings as settings_h
from hypothesis import strategies as st

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


@functools.cache
def _shop(n_orders: int, n_customers: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A clean generated shop (customers, orders), made once per size."""
    return (
        generate_customers(n_customers, 5, 0.0, GEN),
        generate_orders(n_orders, n_customers, 5, 0.0, GEN),
    )


def _labelled(files: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Every row of the export files, with its file's position (``file``, 0-based)."""
    return pl.concat([frame.with_columns(file=pl.lit(k)) for k, frame in enumerate(files.values())])


def _ages(files: dict[str, pl.DataFrame], originals: pl.DataFrame) -> pl.DataFrame:
    """Each correction of an order (its amount changed) with its file and its age in days:
    the file's export date (its latest order) minus the corrected order's date."""
    rows = _labelled(files).with_columns(day=pl.col("order_ts").str.to_date("%Y-%m-%d %H:%M:%S"))
    export_day = rows.group_by("file").agg(export_day=pl.col("day").max())
    return (
        rows.join(originals.select("order_id", original=pl.col("amount")), on="order_id")
        .filter(pl.col("amount") != pl.col("original"))
        .join(export_day, on="file")
        .with_columns(age=(pl.col("export_day") - pl.col("day")).dt.total_days())
    )


def test_correction_ages_per_batch_realistic_and_worst() -> None:
    """Realistic: in every file, most corrections are of orders of the recent weeks before
    its export date, and a tail reaches far back; worst: they are spread over the history."""
    customers, orders = _shop(40_000, 2_000)
    recent = CORRECTIONS["recent_days"]
    by_mode = {}
    for mode in ("realistic", "worst"):
        _, files = to_landing(customers, orders, 50, 5, {}, {},
                              {**CORRECTIONS, "mode": mode})  # fmt: skip
        assert isinstance(files, dict)
        ages = _ages(files, orders)
        by_mode[mode] = (
            ages.filter(pl.col("file") >= 10)  # a history longer than the recent days
            .group_by("file")
            .agg(n=pl.len(), recent=(pl.col("age") <= recent).mean(), oldest=pl.col("age").max())
            .sort("file")
        )
    realistic, worst = by_mode["realistic"], by_mode["worst"]
    assert realistic.height == worst.height == 40 and (realistic["n"] >= 50).all()
    assert (realistic["recent"] >= 0.75).all(), realistic
    assert (realistic["recent"] < 1).sum() >= 30  # the tail is there, in most files
    assert realistic["oldest"].max() > recent + 2 * CORRECTIONS["tail_days"]  # and reaches back
    assert (worst["recent"] <= 0.25).all(), worst
    # both modes carry about the same number of corrections per file: only their ages differ
    ratio = realistic["n"].sum() / worst["n"].sum()
    assert 0.9 < ratio < 1.1


def test_the_tail_grows_rarer_with_age_or_spreads_over_the_history() -> None:
    """Realistic tail ages beyond the recent days follow an exponential of mean tail_days
    (about as many tail corrections older than twice the mean as e^-2 says); with tail_days
    null the tail spreads over the whole history."""
    customers, orders = _shop(40_000, 2_000)
    recent, mean = CORRECTIONS["recent_days"], 60
    tails = {}
    for tail_days in (mean, None):
        settings = {**CORRECTIONS, "tail_share": 0.5, "tail_days": tail_days}
        _, files = to_landing(customers, orders, 50, 5, {}, {}, settings)
        assert isinstance(files, dict)
        ages = _ages(files, orders).filter(pl.col("file") >= 25, pl.col("age") > recent)
        tails[tail_days] = ages["age"] - recent
    decaying, spread = tails[mean], tails[None]
    assert decaying.len() > 500 and spread.len() > 500
    assert 0.6 * mean < decaying.mean() < 1.4 * mean  # type: ignore[operator]
    assert 0.05 < (decaying > 2 * mean).mean() < 0.25  # e^-2 = 0.135
    assert (spread > 365).mean() > 0.2 and (decaying > 365).mean() < 0.02


@settings_h(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    batches=st.integers(2, 12),
    mode=st.sampled_from(["realistic", "worst"]),
    share=st.floats(0.0, 0.3),
    recent_days=st.integers(1, 120),
    tail_share=st.floats(0.0, 1.0),
    tail_days=st.one_of(st.none(), st.floats(0.5, 400)),
)
def test_every_correction_corrects_an_earlier_row(
    seed: int,
    batches: int,
    mode: str,
    share: float,
    recent_days: int,
    tail_share: float,
    tail_days: float | None,
) -> None:
    """Whatever the settings: every generated row is exported once, and every other row of
    the files is a copy of a row of an earlier file with only the corrected column changed;
    the same settings give the same files."""
    customers, orders = _shop(2_000, 200)
    corrections = {"mode": mode, "share": share, "recent_days": recent_days,
                   "tail_share": tail_share, "tail_days": tail_days}  # fmt: skip
    files_c, files_o = to_landing(customers, orders, batches, seed, {}, {}, corrections)
    assert isinstance(files_c, dict) and isinstance(files_o, dict)
    for files, generated, key, fixed in (
        (files_o, orders, "order_id", "amount"),
        (files_c, customers, "customer_id", "email"),
    ):
        rows = _labelled(files).with_row_index("i")
        first = rows.group_by(key).agg(pl.col("i").min())
        originals = rows.join(first, on=["i", key], how="semi").drop("i", "file")
        assert originals.sort(key).equals(generated.sort(key))
        copies = rows.join(first, on=["i", key], how="anti")
        of = copies.join(rows.join(first, on=["i", key]), on=key, suffix="_original")
        assert (of["file"] > of["file_original"]).all()  # an earlier file's row
        same = [c for c in generated.columns if c not in (key, fixed)]
        assert all(of[c].equals(of[f"{c}_original"], null_equal=True) for c in same)
        assert (of[fixed] != of[f"{fixed}_original"]).all()
        assert rows.group_by("file", key).len()["len"].max() == 1  # no key twice in a file
    again = to_landing(customers, orders, batches, seed, {}, {}, corrections)
    assert all(a.equals(b) for a, b in zip(again[1].values(), files_o.values(), strict=True))


def test_corrections_settings_are_checked() -> None:
    customers, orders = _shop(2_000, 200)
    for wrong, match in (
        ({"mode": "everywhere"}, "corrections.mode must be realistic or worst"),
        ({"share": 1.5}, "corrections.share and corrections.tail_share must be between"),
        ({"recent_days": 0}, "corrections.recent_days a whole number"),
        ({"tail_days": 0}, "corrections.tail_days must be a number of days > 0"),
    ):
        with pytest.raises(ValueError, match=match):
            to_landing(customers, orders, 3, 1, {}, {}, {**CORRECTIONS, **wrong})
    with pytest.raises(ValueError, match="corrections has no tail_share: set it in"):
        to_landing(customers, orders, 3, 1, {}, {}, {"mode": "worst", "share": 0.1,
                                                     "recent_days": 5})  # fmt: skip


def test_impossible_timestamps_stay_among_their_neighbours() -> None:
    """Orders are cut by id (ids follow time), so an order whose timestamp is damaged goes
    out in the file of its time, not all such orders in the last file."""
    orders = generate_orders(20_000, 500, 7, 0.2, GEN)
    _, files = to_landing(generate_customers(500, 7, 0.0, GEN), orders, 10, 7, {}, {},
                          CORRECTIONS)  # fmt: skip
    assert isinstance(files, dict)
    impossible = [int(f["order_ts"].str.starts_with("2026-13").sum()) for f in files.values()]
    assert sum(impossible) > 100 and max(impossible) < 2 * sum(impossible) / len(impossible)
