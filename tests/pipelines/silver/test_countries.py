from __future__ import annotations

import pytest

from medallion_kedro.pipelines.silver.countries import CountryMatcher, fold


def _matcher(**aliases: str) -> CountryMatcher:
    return CountryMatcher(
        aliases or {"UK": "United Kingdom", "Holland": "Netherlands", "Deutschland": "DE"},
        fuzzy_min_score=88,
        fuzzy_min_length=4,
    )


@pytest.mark.parametrize(
    ("raw", "canonical", "how"),
    [
        ("France", "France", "exact"),
        ("Switzerland", "Switzerland", "exact"),
        ("United Kingdom", "United Kingdom", "exact"),
        ("  france ", "France", "normalised"),
        ("ESPAÑA", None, "unknown"),  # a foreign name needs an alias
        ("Türkiye", "Türkiye", "exact"),
        ("turkiye", "Türkiye", "normalised"),
        ("Côte d'Ivoire", "Côte d'Ivoire", "exact"),
        ("COTE D IVOIRE", "Côte d'Ivoire", "normalised"),
        ("Viet Nam", "Vietnam", "normalised"),
        ("Czech Republic", "Czechia", "normalised"),
        ("NLD", "Netherlands", "code"),
        ("U.S.", "United States", "code"),
        ("UK", "United Kingdom", "alias"),
        ("U.K.", "United Kingdom", "alias"),
        ("holland", "Netherlands", "alias"),
        ("Deutschland", "Germany", "alias"),
        ("Netherland", "Netherlands", "fuzzy"),
        ("Untied States", "United States", "fuzzy"),
        ("Germny", "Germany", "fuzzy"),
        ("Holand", "Netherlands", "fuzzy"),
        ("Atlantis", None, "unknown"),
        ("Narnia", None, "unknown"),
        ("??", None, "unknown"),
        ("Gemr", None, "unknown"),  # too short to be guessed
        (None, None, "unknown"),
    ],
)
def test_matching(raw: str | None, canonical: str | None, how: str) -> None:
    got = _matcher().match(raw)
    assert (got.canonical, got.how) == (canonical, how)


def test_every_iso_country_is_known() -> None:
    matcher = _matcher()
    assert len(matcher.canonical) == 249
    assert {"Switzerland", "South Korea", "Iran", "Bolivia"} <= matcher.canonical


def test_fuzzy_score_is_recorded_and_the_threshold_is_configurable() -> None:
    assert _matcher().match("Netherland").score == pytest.approx(95.2)
    strict = CountryMatcher({}, fuzzy_min_score=99, fuzzy_min_length=4)
    assert strict.match("Netherland").how == "unknown"


def test_alias_to_a_non_country_is_a_config_error() -> None:
    with pytest.raises(ValueError, match=r"maps 'gaul' to 'Gallia'.*not an ISO 3166"):
        CountryMatcher({"gaul": "Gallia"}, fuzzy_min_score=88, fuzzy_min_length=4)


def test_bad_fuzzy_score_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="fuzzy_min_score must be in"):
        CountryMatcher({}, fuzzy_min_score=0, fuzzy_min_length=4)


def test_fold() -> None:
    assert fold("  Côte  d'Ivoire ") == "cote d ivoire"
    assert fold("U.K.") == "uk"
    assert fold("Guinea-Bissau") == "guinea bissau"
