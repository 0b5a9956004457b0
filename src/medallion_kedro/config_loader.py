"""The project's configuration loader: Kedro's ``OmegaConfigLoader`` without deprecated calls.

OmegaConf 2.4 deprecates ``register_new_resolver()`` in favour of ``register_resolver()``,
and Kedro 1.7 still calls the old name for the custom resolvers passed in
``CONFIG_LOADER_ARGS`` and for its own ``globals`` and ``runtime_params`` resolvers, so
every run printed that warning several times. This loader registers the same resolvers,
with the same semantics (replace, no cache), through the current API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kedro.config import OmegaConfigLoader
from omegaconf import OmegaConf


class ProjectConfigLoader(OmegaConfigLoader):
    """``OmegaConfigLoader`` registering resolvers through ``OmegaConf.register_resolver``,
    the project's own ``spellings_by_country`` among them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        OmegaConf.register_resolver("spellings_by_country", spellings_by_country, replace=True)
        super().__init__(*args, **kwargs)

    @staticmethod
    def _register_new_resolvers(resolvers: dict[str, Callable[..., Any]]) -> None:
        for name, resolver in resolvers.items():
            if not OmegaConf.has_resolver(name):
                OmegaConf.register_resolver(name, resolver)

    def _register_globals_resolver(self) -> None:
        OmegaConf.register_resolver("globals", self._get_globals_value, replace=True)

    def _register_runtime_params_resolver(self) -> None:
        OmegaConf.register_resolver("runtime_params", self._get_runtime_value, replace=True)


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
