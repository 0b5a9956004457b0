"""The project's own configuration resolvers, registered through Kedro's public
``CONFIG_LOADER_ARGS["custom_resolvers"]`` (``settings.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def spellings_by_country(
    aliases: Mapping[str, str], variants: Mapping[str, Sequence[str]]
) -> dict[str, list[str]]:
    """``${spellings_by_country:<aliases>,<variants>}``: each country's own ``variants``,
    then every alias naming it (``aliases`` is silver's ``alias -> country``).

    The generator draws its odd country spellings from this, so silver's aliases are
    written in one place (``parameters_silver.yml``).
    """
    spellings = {str(country): [str(v) for v in given] for country, given in variants.items()}
    for alias, country in aliases.items():
        spellings.setdefault(str(country), []).append(str(alias))
    return spellings
