"""Seeded, vectorised generators of the raw source exports.

The shop's behaviour (arrivals, churn, heavy-tailed order counts, seasonality, prices by
product) is modelled in ``shop.py``; these nodes turn it into the text exports a source
system would write, then damage a share of the rows (``damage.py``). Every value is drawn
from ``numpy.random.default_rng([seed, stream])`` and times count from
``generator.reference_date``, so a given ``seed`` and parameters always give the same files.
The history ends the day before the reference date: its last order is on that day and
clean, so gold's inferred ``as_of`` (the day after the latest valid order) is the reference
date. Faker only draws a small pool of first and last names; rows combine them by index.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import numpy as np
import polars as pl

from medallion_kedro.dates import parse_date
from medallion_kedro.pipelines.generate.damage import (
    CustomerDamage,
    OrderDamage,
    damaged,
    draw_damage,
)
from medallion_kedro.pipelines.generate.shop import (
    SECONDS_PER_DAY,
    Calendar,
    calendar,
    draw_cents,
    draw_customers,
    draw_orders,
    pick,
)
from medallion_kedro.schemas import source_columns

_NAME_POOL = 500


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def _check_settings(count: int, name: str, dirty_share: float) -> None:
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {count!r}")
    if not 0.0 <= float(dirty_share) <= 0.5:
        raise ValueError(f"dirty_share must be between 0 and 0.5, got {dirty_share!r}")


def reference_date(generator: dict[str, Any]) -> dt.date:
    """``generator.reference_date`` as a date; a clear error naming where to fix it otherwise."""
    return parse_date(
        generator.get("reference_date"),
        "generator.reference_date",
        "conf/base/parameters_generate.yml or --params generator.reference_date=2026-11-01",
    )


def _calendar(generator: dict[str, Any]) -> tuple[dt.date, Calendar]:
    """The history's first day and its calendar: ``history_days`` before the reference date."""
    days = int(generator["history_days"])
    first_day = reference_date(generator) - dt.timedelta(days=days)
    return first_day, calendar(first_day, days, generator["seasonality"])


def _named_weights(mapping: dict[str, Any], name: str) -> tuple[list[str], np.ndarray]:
    names = [str(key) for key in mapping]
    weights = np.asarray([float(v) for v in mapping.values()])
    if not names or not (weights > 0).all():
        raise ValueError(
            f"generator.{name} must map each name to a positive weight, got {mapping!r}"
        )
    return names, weights


def _name_pool(seed: int) -> tuple[pl.Series, pl.Series]:
    from faker import Faker  # here: every `kedro run` imports this module, few generate

    fake = Faker("en_US")
    fake.seed_instance(seed)
    firsts = pl.Series([fake.first_name() for _ in range(_NAME_POOL)])
    lasts = pl.Series([fake.last_name() for _ in range(_NAME_POOL)])
    return firsts, lasts


def _odd_spellings(
    names: list[str], generator: dict[str, Any], country: np.ndarray, rng: np.random.Generator
) -> pl.Series:
    """Per row, one odd spelling of its country: a listed one, else the name upper-cased."""
    odd = generator.get("odd_countries") or {}
    variants = [[str(v) for v in odd.get(name) or [name.upper()]] for name in names]
    sizes = np.asarray([len(v) for v in variants])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    choice = offsets[country] + (rng.random(country.size) * sizes[country]).astype(np.int64)
    return pl.Series([v for vs in variants for v in vs], dtype=pl.String).gather(choice)


def generate_customers(
    n_customers: int, seed: int, dirty_share: float, generator: dict[str, Any]
) -> pl.DataFrame:
    """Customers export: ids 1..n, Faker names, weighted countries, signups before first orders."""
    _check_settings(n_customers, "n_customers", dirty_share)
    n = n_customers
    first_day, cal = _calendar(generator)
    model = draw_customers(n, seed, cal, generator["customers"])
    rng = _rng(seed, 1)
    firsts, lasts = _name_pool(seed)
    names, weights = _named_weights(generator["countries"], "countries")
    country = pick(weights, rng, n)
    unknown = [str(c) for c in generator["unknown_countries"]]
    kind = draw_damage(rng, n, dirty_share, CustomerDamage)
    kind[0] = CustomerDamage.CLEAN  # customer 1 places the latest order
    base = pl.DataFrame(
        {
            "customer_id": pl.int_range(1, n + 1, eager=True).cast(pl.String),
            "first": firsts.gather(rng.integers(0, _NAME_POOL, n)),
            "last": lasts.gather(rng.integers(0, _NAME_POOL, n)),
            "signup_date": _dates(first_day, model.signup_day),
            "country": pl.Series(names, dtype=pl.String).gather(country),
            "odd": _odd_spellings(names, generator, country, rng),
            "unknown": pl.Series(unknown, dtype=pl.String).gather(rng.integers(0, len(unknown), n)),
            "kind": kind,
        }
    )
    rows = base.with_columns(
        name=pl.concat_str("first", pl.lit(" "), "last"),
        email=pl.concat_str("first", pl.lit("."), "last", "customer_id", pl.lit("@Example.com")),
    ).with_columns(
        email=pl.when(damaged(CustomerDamage.NULL_EMAIL)).then(None).otherwise("email"),
        signup_date=pl.when(damaged(CustomerDamage.IMPOSSIBLE_SIGNUP_DATE))
        .then(pl.lit("2025-02-30"))
        .otherwise("signup_date"),
        country=pl.when(damaged(CustomerDamage.ODD_COUNTRY))
        .then("odd")
        .when(damaged(CustomerDamage.UNKNOWN_COUNTRY))
        .then("unknown")
        .otherwise("country"),
        name=pl.when(damaged(CustomerDamage.NULL_NAME)).then(None).otherwise("name"),
    )
    resent = rows.filter(damaged(CustomerDamage.DUPLICATE)).with_columns(
        email=pl.concat_str(pl.lit("new."), "email")
    )
    return pl.concat([_source(rows, "customers"), _source(resent, "customers")])


def generate_orders(
    n_orders: int,
    n_customers: int,
    seed: int,
    dirty_share: float,
    generator: dict[str, Any],
) -> pl.DataFrame:
    """Orders export: ``n_orders`` orders in time order (ids 1..n), plus duplicated rows.

    Ids and amounts stay numbers (``Int64``, ``Decimal(18, 2)``): the CSV writer formats
    them as it writes, so no text column is built, and the file is the same.
    """
    _check_settings(n_orders, "n_orders", dirty_share)
    _check_settings(n_customers, "n_customers", dirty_share)
    n = n_orders
    first_day, cal = _calendar(generator)
    customers = draw_customers(n_customers, seed, cal, generator["customers"])
    rng = _rng(seed, 2)
    seconds, who = draw_orders(n, customers, cal, rng)
    products = generator["products"]
    names, weights = _named_weights({k: v["weight"] for k, v in products.items()}, "products")
    prices = np.asarray([float(products[name]["price"]) for name in names])
    product = pick(weights, rng, n)
    cents = draw_cents(product, prices, generator["basket"], rng)
    kind = draw_damage(rng, n, dirty_share, OrderDamage)
    kind[-1] = OrderDamage.CLEAN  # the latest order dates the history
    customer_id = who + 1
    customer_id[kind == OrderDamage.UNKNOWN_CUSTOMER] += n_customers
    bad = kind == OrderDamage.NON_POSITIVE_AMOUNT
    cents[bad] = np.where(cents[bad] % 10 == 0, 0, -cents[bad])
    rows = pl.DataFrame(
        {
            "order_id": pl.int_range(1, n + 1, eager=True),
            "customer_id": customer_id,
            "order_ts": _timestamps(first_day, seconds, kind == OrderDamage.IMPOSSIBLE_ORDER_TS),
            "amount": pl.Series(cents).cast(pl.Decimal(18, 2)) / 100,
            "product": pl.Series(names, dtype=pl.String).gather(product),
            "kind": kind,
        }
    ).with_columns(
        customer_id=pl.when(~damaged(OrderDamage.NULL_CUSTOMER_ID)).then("customer_id"),
        amount=pl.when(~damaged(OrderDamage.NULL_AMOUNT)).then("amount"),
    )
    duplicates = rows.filter(damaged(OrderDamage.DUPLICATE))
    return pl.concat([_source(rows, "orders"), _source(duplicates, "orders")])


def _source(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """The source columns of ``table`` (``schemas.SOURCES``), in order: a declared column
    this module does not generate fails naming it."""
    return source_columns(frame, table, "the generator (pipelines/generate/nodes.py)")


def _timestamps(first_day: dt.date, seconds: np.ndarray, impossible: np.ndarray) -> pl.Series:
    """``YYYY-MM-DD HH:MM:SS`` of each second from ``first_day``'s midnight, or
    ``2026-13-45 25:61:00`` where ``impossible``.

    Gathered from a table of days and a table of the day's 86,400 seconds (each with the
    impossible value last), so each text is formatted once, not once per order.
    """
    days = seconds // SECONDS_PER_DAY
    day_table = _dates(first_day, np.arange(int(days.max()) + 1), "%Y-%m-%d ")
    time_table = _clock()
    day = np.where(impossible, day_table.len(), days)
    second = np.where(impossible, SECONDS_PER_DAY, seconds - days * SECONDS_PER_DAY)
    return pl.DataFrame(
        {
            "day": day_table.append(pl.Series(["2026-13-45 "])).gather(day),
            "time": time_table.append(pl.Series(["25:61:00"])).gather(second),
        }
    ).select(pl.concat_str("day", "time"))["day"]


def _dates(first_day: dt.date, days: np.ndarray, fmt: str = "%Y-%m-%d") -> pl.Series:
    """Each ``first_day + days`` as text, gathered from a table of the dates in range."""
    low, high = int(days.min()), int(days.max())
    table = pl.date_range(
        first_day + dt.timedelta(days=low), first_day + dt.timedelta(days=high), eager=True
    ).dt.strftime(fmt)
    return table.gather(days - low)


def _clock() -> pl.Series:
    """``HH:MM:SS`` of every second of a day, in order."""
    midnight = dt.datetime(2000, 1, 1)
    return pl.datetime_range(
        midnight, midnight + dt.timedelta(seconds=SECONDS_PER_DAY - 1), "1s", eager=True
    ).dt.strftime("%H:%M:%S")


def to_source_layout(frame: pl.DataFrame, source: dict[str, Any]) -> pl.DataFrame:
    """Rename the project's columns to the source's: the inverse of bronze's ``column_map``.

    So ``kedro run --env fr_layout --pipelines generate`` writes the headers that
    ``kedro run --env fr_layout`` reads back (``id_client``, ``nom``...).
    """
    given = source.get("column_map")
    if given is None:  # no map: the source uses the project's column names
        return frame
    column_map = {str(k): str(v) for k, v in given.items()}
    inverse = {project: name for name, project in column_map.items()}
    if sorted(inverse) != sorted(frame.columns) or len(inverse) != len(column_map):
        unmapped = ", ".join(c for c in frame.columns if c not in inverse)
        raise ValueError(
            f"bronze.sources column_map for {source.get('file')} maps {column_map}, but the "
            f"generated table has columns {frame.columns}"
            + (f" (nothing maps to {unmapped})" if unmapped else "")
            + ": map one source column to each in parameters_bronze.yml"
        )
    return frame.rename(inverse)


def _stem(source: dict[str, Any], table: str) -> str:
    return str(source.get("file", f"{table}.csv")).rsplit("/", 1)[-1].removesuffix(".csv")


#: Share of each export file's rows that arrive in the next file instead (late orders).
_LATE_SHARE = 0.02
#: The kinds of ``corrections.mode``: where later files' corrections land.
CORRECTION_MODES = ("realistic", "worst")


class Corrections(NamedTuple):
    """The ``corrections`` parameters, checked."""

    mode: str
    share: float
    recent_days: int
    tail_share: float
    #: Mean age (days) of the tail beyond the recent days; None: the whole history alike.
    tail_days: float | None


def _check_corrections(corrections: dict[str, Any]) -> Corrections:
    """``corrections`` checked; a clear error otherwise."""
    where = "conf/base/parameters_generate.yml or --params corrections.mode=worst"
    missing = sorted({"mode", "share", "recent_days", "tail_share"} - set(corrections))
    if missing:
        raise ValueError(f"corrections has no {', '.join(missing)}: set it in {where}")
    mode = str(corrections["mode"])
    if mode not in CORRECTION_MODES:
        raise ValueError(
            f"corrections.mode must be realistic or worst, got {mode!r}: set it in {where}"
        )
    share, tail = float(corrections["share"]), float(corrections["tail_share"])
    days = corrections["recent_days"]
    if not (0.0 <= share <= 1.0 and 0.0 <= tail <= 1.0) or not isinstance(days, int) or days < 1:
        raise ValueError(
            "corrections.share and corrections.tail_share must be between 0 and 1 and "
            f"corrections.recent_days a whole number >= 1, got {corrections!r}: set them in {where}"
        )
    tail_days = corrections.get("tail_days")
    if tail_days is not None and not (isinstance(tail_days, int | float) and tail_days > 0):
        raise ValueError(
            "corrections.tail_days must be a number of days > 0, or null for a tail spread "
            f"over the whole history, got {tail_days!r}: set it in {where}"
        )
    return Corrections(mode, share, days, tail, None if tail_days is None else float(tail_days))


def _days(texts: pl.Series) -> np.ndarray:
    """Day number of each ``YYYY-MM-DD...`` text, in an order that follows it; an impossible or
    missing value takes the day of the row before it (the first rows: the first day)."""
    return (
        texts.str.slice(0, 10)
        .str.to_date(strict=False)
        .fill_null(strategy="forward")
        .fill_null(strategy="backward")
        .fill_null(dt.date(1970, 1, 1))
        .dt.epoch("d")
        .to_numpy()
    )


def _corrected_rows(
    days: np.ndarray,
    bounds: np.ndarray,
    batch: np.ndarray,
    corrections: dict[str, Any],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """(row, batch) of every correction: for each batch ``k`` after the first, ``share`` of
    the rows exported before it (a binomial draw), without repeats.

    ``worst`` draws them from all those rows alike, so corrections reach anywhere in the
    history. ``realistic`` draws ``tail_share`` of them (on average) from the rows older
    than ``recent_days`` before the batch's export date (its latest row), fewer the older
    they are (:func:`_tail_rows`, ``tail_days``), and the others from the rows within those
    days, or from the latest rows before the batch when those days hold fewer (long
    batches). Rows are sorted by day, so each range is a slice; a
    row that arrived late into batch ``k`` or after is not corrected by it.
    """
    settings = _check_corrections(corrections)
    rows, labels = [], []
    for k in range(1, bounds.size - 1):
        before = int(bounds[k])
        count = int(rng.binomial(before, settings.share))
        if settings.mode == "worst":
            picked = rng.choice(before, count, replace=False)
        else:
            tail = int(rng.binomial(count, settings.tail_share))
            export_day = days[int(bounds[k + 1]) - 1]
            start = export_day - settings.recent_days
            recent = int(np.searchsorted(days[:before], start, "left"))
            recent = min(recent, before - (count - tail))  # enough recent rows to correct
            tail = min(tail, recent)
            picked = np.concatenate(
                [_tail_rows(days[:recent], start, tail, settings.tail_days, rng),
                 recent + rng.choice(before - recent, count - tail, replace=False)]
            )  # fmt: skip
        picked = np.sort(picked[batch[picked] < k])
        rows.append(picked)
        labels.append(np.full(picked.size, k))
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows), np.concatenate(labels)


def _tail_rows(
    days: np.ndarray, start: int, count: int, mean_days: float | None, rng: np.random.Generator
) -> np.ndarray:
    """``count`` distinct rows among ``days`` (sorted, all before day ``start``): with
    ``mean_days`` None, any alike; else each of age ``start - day`` drawn from an
    exponential of that mean (corrections grow rarer as orders age), a row of that day
    taken at random. Draws that find no row or a row already taken are drawn again, a few
    rounds at most; what is still missing then is taken from the other rows alike."""
    if mean_days is None or count == 0:
        return rng.choice(days.size, count, replace=False)
    taken = np.zeros(0, np.int64)
    for _ in range(8):
        need = count - taken.size
        if need == 0:
            break
        day = start - 1 - np.floor(rng.exponential(mean_days, 2 * need)).astype(np.int64)
        first = np.searchsorted(days, day, "left")
        last = np.searchsorted(days, day, "right")
        found = last > first
        row = first[found] + (rng.random(int(found.sum())) * (last - first)[found]).astype(np.int64)
        row = row[~np.isin(row, taken)]
        _, at = np.unique(row, return_index=True)
        taken = np.concatenate([taken, row[np.sort(at)][:need]])
    if taken.size < count:
        rest = np.setdiff1d(np.arange(days.size), taken)
        taken = np.concatenate([taken, rng.choice(rest, count - taken.size, replace=False)])
    return taken


def _exports(
    frame: pl.DataFrame,
    order_by: str,
    dated_by: str,
    n: int,
    late_share: float,
    fix: tuple[str, pl.Expr],
    corrections: dict[str, Any],
    rng: np.random.Generator,
) -> list[pl.DataFrame]:
    """``frame`` as ``n`` successive export files: consecutive parts by ``order_by`` (a
    column that follows the ``YYYY-MM-DD...`` text of ``dated_by``, so that an impossible
    date stays among its neighbours), ``late_share`` of each part's rows moved to the next
    file, then each file after the first given corrected copies (``fix``: a column and its
    new value) of rows of earlier files (:func:`_corrected_rows`)."""
    rows = frame.with_row_index("_i").sort(order_by, "_i", nulls_last=True).drop("_i")
    bounds = np.arange(n + 1) * rows.height // n
    batch = np.repeat(np.arange(n), np.diff(bounds))
    batch[(rng.random(rows.height) < late_share) & (batch < n - 1)] += 1
    picked, label = _corrected_rows(_days(rows[dated_by]), bounds, batch, corrections, rng)
    column, value = fix
    fixed = rows[picked].with_columns(value.alias(column))
    every = pl.concat(
        [rows.with_columns(_batch=pl.Series(batch)), fixed.with_columns(_batch=pl.Series(label))]
    ).sort("_batch", maintain_order=True)
    parts = every.partition_by("_batch", as_dict=True, include_key=False)
    return [parts.get((k,), frame.clear()) for k in range(n)]


def to_landing(
    customers: pl.DataFrame,
    orders: pl.DataFrame,
    batches: int,
    seed: int,
    customers_source: dict[str, Any],
    orders_source: dict[str, Any],
    corrections: dict[str, Any],
) -> tuple[pl.DataFrame | dict[str, pl.DataFrame], pl.DataFrame | dict[str, pl.DataFrame]]:
    """The exports in the source layout: one file per table (``batches`` 0 or 1), or
    ``batches`` files per table for the landing folders, as successive exports would come:
    customers by signup date, orders by time, 2% of each batch's orders arriving in the
    next one (late orders), and from the second batch on corrected copies of earlier rows
    (a new email, an amount 10% higher; the later row wins in silver), as many and as old
    as ``corrections`` says (:func:`_corrected_rows`).
    """
    if int(batches) < 0:
        raise ValueError(f"batches must be >= 0, got {batches!r}: pass --params batches=N")
    if int(batches) <= 1:
        return (to_source_layout(customers, customers_source),
                to_source_layout(orders, orders_source))  # fmt: skip
    n, rng = int(batches), _rng(seed, 9)
    new_email = pl.concat_str(pl.lit("fixed."), pl.col("email"))
    amount = orders.schema["amount"]
    higher = (pl.col("amount").cast(pl.Float64, strict=False) * 1.1).round(2).cast(amount)
    _check_corrections(corrections)
    parts = {
        "customers": _exports(customers, "signup_date", "signup_date", n, 0.0,
                              ("email", new_email), corrections, rng),
        "orders": _exports(orders, "order_id", "order_ts", n, _LATE_SHARE,  # ids follow time
                           ("amount", pl.coalesce(higher, pl.col("amount"))), corrections, rng),
    }  # fmt: skip
    sources = {"customers": customers_source, "orders": orders_source}
    files = {
        table: {
            f"{_stem(sources[table], table)}_{seed}_{k + 1:04d}.csv": to_source_layout(
                part, sources[table]
            )
            for k, part in enumerate(frames)
            if part.height  # fewer rows than batches: no empty file
        }
        for table, frames in parts.items()
    }
    return files["customers"], files["orders"]
