"""Country names from ISO 3166 (``pycountry``), with aliases and tolerant matching.

Every raw spelling is matched once, on the *distinct* raw values of a table (a few hundred
even at millions of rows), and the result is joined back to the rows. Matching compares
*folded* text: accents removed (``ESPAÑA`` -> ``espana``), lower-cased, dots dropped
(``U.K.`` -> ``uk``), other punctuation read as a space (``Guinea-Bissau``), spaces
collapsed. A raw value is, in this order:

``exact``       the canonical name as written;
``normalised``  a canonical, ISO or common name once folded (``  france``, ``Viet Nam``);
``code``        an ISO 3166 alpha-2 or alpha-3 code (``DE``, ``NLD``);
``alias``       a configured alias (``UK``, ``U.K.``, ``Deutschland``, ``Holland``);
``fuzzy``       a name or alias at least ``fuzzy_min_score`` similar (0..100, ``rapidfuzz``
                ``ratio``) and at least ``fuzzy_min_length`` characters long
                (``Netherland`` -> Netherlands);
``unknown``     none of these (``Atlantis``): no country.

The canonical name of a country is its ``pycountry`` ``common_name`` when it has one
(``South Korea``, ``Vietnam``), else its ``name`` (``United Kingdom``, ``United States``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pycountry
from rapidfuzz import fuzz, process

EXACT, NORMALISED, CODE, ALIAS, FUZZY, UNKNOWN = (
    "exact",
    "normalised",
    "code",
    "alias",
    "fuzzy",
    "unknown",
)

_DOTS = re.compile(r"\.")
_PUNCTUATION = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """``text`` without accents, case, punctuation or repeated spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", _DOTS.sub("", bare.casefold()))).strip()


def canonical_name(country: object) -> str:
    return str(getattr(country, "common_name", None) or country.name)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Match:
    canonical: str | None
    how: str
    score: float


class CountryMatcher:
    """Resolve raw country spellings to canonical ISO 3166 names."""

    def __init__(
        self, aliases: Mapping[str, str], *, fuzzy_min_score: float, fuzzy_min_length: int
    ) -> None:
        self._names: dict[str, str] = {}
        self._codes: dict[str, str] = {}
        for country in pycountry.countries:
            canonical = canonical_name(country)
            for attr in ("name", "common_name", "official_name"):
                value = getattr(country, attr, None)
                if value:
                    self._names.setdefault(fold(value), canonical)
            for attr in ("alpha_2", "alpha_3"):
                self._codes[fold(getattr(country, attr))] = canonical
        self.canonical = frozenset(self._names.values())
        self._aliases = {
            fold(str(k)): self._alias_target(str(k), str(v)) for k, v in aliases.items()
        }
        self._choices = {**self._names, **self._aliases}
        if not 0 < float(fuzzy_min_score) <= 100:
            raise ValueError(
                f"silver.countries.fuzzy_min_score must be in (0, 100], got {fuzzy_min_score!r}"
            )
        self._min_score = float(fuzzy_min_score)
        self._min_length = int(fuzzy_min_length)

    def _alias_target(self, alias: str, target: str) -> str:
        canonical = self._names.get(fold(target)) or self._codes.get(fold(target))
        if canonical is None:
            raise ValueError(
                f"parameters_silver.yml silver.countries.aliases maps {alias!r} to {target!r}, "
                "which is not an ISO 3166 country name or code: fix the alias."
            )
        return canonical

    def match(self, raw: str | None) -> Match:
        if raw is None:
            return Match(None, UNKNOWN, 0.0)
        if raw in self.canonical:
            return Match(raw, EXACT, 100.0)
        key = fold(raw)
        if key in self._names:
            return Match(self._names[key], NORMALISED, 100.0)
        if key in self._codes:
            return Match(self._codes[key], CODE, 100.0)
        if key in self._aliases:
            return Match(self._aliases[key], ALIAS, 100.0)
        if len(key) >= self._min_length:
            best = process.extractOne(
                key, self._choices.keys(), scorer=fuzz.ratio, score_cutoff=self._min_score
            )
            if best is not None:
                return Match(self._choices[best[0]], FUZZY, round(float(best[1]), 1))
        return Match(None, UNKNOWN, 0.0)

    def match_all(self, raws: Iterable[str | None]) -> dict[str | None, Match]:
        return {raw: self.match(raw) for raw in raws}
