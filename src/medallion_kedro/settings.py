"""Kedro project settings.

``oc.env`` is registered for every configuration file (not only credentials) so the
catalog can take the lake bucket and other non-secret names from the environment.
"""

from __future__ import annotations

from kedro.config import OmegaConfigLoader
from omegaconf.resolvers import oc

from medallion_kedro.hooks import LakePreflightHooks
from medallion_kedro.runs import RunRecordHooks

HOOKS = (LakePreflightHooks(), RunRecordHooks())

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"oc.env": oc.env},
}
