"""Names and helpers shared by the landing dataset and the bronze nodes, in a module of
their own: a run with nothing new never needs the landing dataset's fsspec and CSV
parsing."""

from __future__ import annotations

import itertools

import polars as pl

# the landing dataset's malformed-row flag is bronze's lineage column of that name
from medallion_kedro.schemas import MALFORMED as MALFORMED

#: Longest piece of a landing file quoted in an error message.
EXCERPT_CHARS = 200


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters (errors never quote a whole file)."""
    flat = text.replace("\r", "\\r").replace("\n", "\\n")
    return flat if len(flat) <= limit else flat[:limit] + f"... ({len(flat) - limit} more chars)"


def _chunked_like(series: pl.Series, column: pl.Series) -> pl.Series:
    """``series`` cut into the same chunks as ``column`` (slices, no copy).

    The parse returns its columns in chunks; a column added in one piece would make the
    next select or drop copy every text of the frame into one piece to align them (0.7 GiB
    and a second at 10M orders).
    """
    lengths = column.chunk_lengths()
    if len(lengths) < 2:
        return series
    series = series.rechunk()  # a small Boolean column: one piece, then cut like ``column``
    starts = itertools.accumulate(lengths[:-1], initial=0)
    return pl.concat(
        [series.slice(start, n) for start, n in zip(starts, lengths, strict=True)],
        rechunk=False,
    )
