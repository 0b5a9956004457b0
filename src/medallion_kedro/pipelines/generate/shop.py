"""How the synthetic shop behaves: when customers arrive and leave, how often they buy, when,
what and for how much. The parameters live in ``parameters_generate.yml`` (``generator``).

Time is counted in seconds from the first day of the history. A calendar gives each hour an
intensity (month x weekday x hour of day; arrivals also grow year on year); its cumulative
sum, inverted, turns uniform draws into seasonal times. Each customer is active from an
arrival time to a churn time (an exponential lifetime) and buys first soon after arriving;
their other orders fall anywhere in that window with the calendar's shape, their number
drawn by a multinomial on ``rate x window mass``, the rate being lognormal: most customers
buy once or twice, a few every week. Everything is vectorised numpy over one value per
customer or per order."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

SECONDS_PER_DAY = 86_400
_HOUR = 3_600
#: Steps of the tables that invert cumulative intensities (one step is about 4 minutes of
#: a two-year history) and slots of the tables that draw weighted choices.
_STEPS = 1 << 18
_SLOTS = 1 << 16


@dataclass(frozen=True)
class Calendar:
    """Cumulative intensities of the history, hour by hour, and their inverses.

    Every lookup is linear between the evenly spaced steps of a table: an index, not the
    search ``np.interp`` makes (the inverses are exact to a step, a few minutes).
    """

    orders: np.ndarray  #: cumulative order intensity (seasonal) at each hour boundary, 0..1
    order_times: np.ndarray  #: seconds at ``_STEPS + 1`` evenly spaced order masses
    arrival_times: np.ndarray  #: seconds at ``_STEPS + 1`` evenly spaced arrival masses

    @property
    def seconds(self) -> int:
        return (self.orders.size - 1) * _HOUR

    def order_mass(self, seconds: np.ndarray) -> np.ndarray:
        """Share of the history's order intensity before each time."""
        return _linear(self.orders, seconds / _HOUR)

    def order_time(self, mass: np.ndarray) -> np.ndarray:
        """The time before which ``mass`` of the order intensity lies (inverse of the above)."""
        return _linear(self.order_times, mass * _STEPS)

    def arrival_time(self, mass: np.ndarray) -> np.ndarray:
        """The time before which ``mass`` of the arrivals lies."""
        return _linear(self.arrival_times, mass * _STEPS)


def _linear(table: np.ndarray, position: np.ndarray) -> np.ndarray:
    """``table`` read at fractional ``position``s (0..table.size - 1), linearly."""
    step = np.minimum(position.astype(np.int64), table.size - 2)
    low = table[step]
    return low + (position - step) * (table[step + 1] - low)


@dataclass(frozen=True)
class Customers:
    """One value per customer (index ``i`` is customer id ``i + 1``)."""

    start: np.ndarray  #: first moment the customer may order (seconds)
    end: np.ndarray  #: last moment: churn, or the end of the history (seconds)
    first_by: np.ndarray  #: the first order comes before this (new customers buy soon)
    signup_day: np.ndarray  #: signup, in days from the history's start (negative: before)
    rate: np.ndarray  #: relative order rate; 0 for customers who never order


def _weights(values: Any, count: int, name: str) -> np.ndarray:
    """``values`` as ``count`` positive floats, or a clear error naming the parameter."""
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (count,) or not (array > 0).all():
        raise ValueError(
            f"generator.{name} must be {count} positive numbers, got {values!r}: "
            "fix it in conf/base/parameters_generate.yml"
        )
    return array


def _cumulative(intensity: np.ndarray) -> np.ndarray:
    total = np.concatenate([[0.0], np.cumsum(intensity)])
    return total / total[-1]


def calendar(first_day: dt.date, days: int, seasonality: dict[str, Any]) -> Calendar:
    """The hourly intensities of ``days`` days from ``first_day``."""
    month = _weights(seasonality["month"], 12, "seasonality.month")
    weekday = _weights(seasonality["weekday"], 7, "seasonality.weekday")
    hour = _weights(seasonality["hour"], 24, "seasonality.hour")
    hours = np.arange(days * 24)
    dates = np.datetime64(first_day, "D") + hours // 24
    epoch_days = dates.astype(np.int64)
    months = dates.astype("datetime64[M]").astype(np.int64) % 12
    weekdays = (epoch_days + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    seasonal = month[months] * weekday[weekdays] * hour[hours % 24]
    growth = (1.0 + float(seasonality["growth_per_year"])) ** (hours / (24 * 365))
    edges = np.arange(days * 24 + 1, dtype=np.float64) * _HOUR
    masses = np.linspace(0.0, 1.0, _STEPS + 1)
    orders = _cumulative(seasonal)
    return Calendar(
        orders=orders,
        order_times=np.interp(masses, orders, edges),
        arrival_times=np.interp(masses, _cumulative(seasonal * growth), edges),
    )


def draw_customers(n: int, seed: int, cal: Calendar, model: dict[str, Any]) -> Customers:
    """Arrival, churn, signup and order rate of ``n`` customers (customer 1 never churns)."""
    rng = np.random.default_rng([seed, 3])
    existing = rng.random(n) < float(model["existing_share"])
    existing[0] = True
    start = np.where(existing, 0.0, cal.arrival_time(rng.random(n)))
    lifetime = rng.exponential(float(model["lifetime_days"]) * SECONDS_PER_DAY, n)
    lifetime[0] = cal.seconds
    end = np.minimum(start + lifetime, cal.seconds - 1.0)
    same_day = rng.random(n) < float(model["same_day_signup_share"])
    lead = np.where(same_day, 0, np.ceil(rng.exponential(float(model["signup_lead_days"]), n)))
    before = rng.integers(1, int(model["existing_signup_days"]) + 1, n)
    first_day = np.floor(start / SECONDS_PER_DAY)
    signup_day = np.where(existing, -before, first_day - lead).astype(np.int64)
    rate = rng.lognormal(0.0, float(model["rate_sigma"]), n)
    rate[rng.random(n) < float(model["never_order_share"])] = 0.0
    rate[0] = max(rate[0], 1.0)
    soon = start + float(model["first_order_days"]) * SECONDS_PER_DAY
    first_by = np.where(existing, end, np.minimum(soon, end))
    return Customers(start=start, end=end, first_by=first_by, signup_day=signup_day, rate=rate)


def draw_orders(
    n: int, customers: Customers, cal: Calendar, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(seconds, customer index) of ``n`` orders, sorted by time.

    Every customer with a rate buys once, soon after arriving, when there are enough
    orders; the others go by ``rate x window mass``, anywhere in the active period. The
    latest order is moved to customer 1 on the history's last day, so the history always
    ends the day before the reference date.
    """
    low = cal.order_mass(customers.start)
    mass = cal.order_mass(customers.end) - low
    weight = customers.rate * mass
    buyers = np.flatnonzero(weight > 0)
    share = weight[buyers] / weight[buyers].sum()
    first = 1 if n >= buyers.size else 0
    counts = first + rng.multinomial(n - first * buyers.size, share)
    who = np.repeat(buyers, counts)
    span = mass[who]
    if first:
        runs = np.concatenate([[0], np.cumsum(counts)[:-1]])
        span[runs] = cal.order_mass(customers.first_by[buyers]) - low[buyers]
    seconds = cal.order_time(low[who] + rng.random(n) * span).astype(np.int64)
    bits = int(customers.rate.size).bit_length()
    key = (np.minimum(seconds, cal.seconds - 1) << bits) | who
    key.sort()
    seconds, who = key >> bits, key & ((1 << bits) - 1)
    who[-1] = 0
    seconds[-1] = cal.seconds - SECONDS_PER_DAY + seconds[-1] % SECONDS_PER_DAY
    return seconds, who


def draw_cents(
    products: np.ndarray, prices: np.ndarray, model: dict[str, Any], rng: np.random.Generator
) -> np.ndarray:
    """Amount in cents of each order: its product's price, spread lognormally, x quantity."""
    quantity_weights = _weights(model["quantity"], len(model["quantity"]), "quantity")
    quantity = 1 + pick(quantity_weights, rng, len(products))
    spread = rng.lognormal(0.0, float(model["price_sigma"]), len(products))
    cents = np.rint(prices[products] * spread * quantity * 100)
    return np.maximum(cents, 100).astype(np.int64)


def pick(weights: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` indices into ``weights``, each drawn with probability proportional to its weight.

    Drawn from a table of ``_SLOTS`` slots shared out by weight (each probability is exact
    to 1/65536): an index per draw, not a search.
    """
    bounds = np.rint(_cumulative(weights) * _SLOTS).astype(np.int64)
    table = np.repeat(np.arange(weights.size, dtype=np.int32), np.diff(bounds))
    return table[rng.integers(0, _SLOTS, n)]
