"""Kedro project settings.

``oc.env`` is registered for every configuration file (not only credentials) so the
catalog can take the lake bucket and other non-secret names from the environment.
``ProjectConfigLoader`` is Kedro's loader registering resolvers through OmegaConf's current
API, so a run prints no deprecation warning.
"""

from __future__ import annotations

from omegaconf.resolvers import oc

from medallion_kedro.config_loader import ProjectConfigLoader
from medallion_kedro.hooks import ContractHooks, LakePreflightHooks
from medallion_kedro.runs import RunRecordHooks
from medallion_kedro.spark import SparkHooks
from medallion_kedro.viz_stats import PolarsDatasetStatsHook

HOOKS = (
    ContractHooks(),
    LakePreflightHooks(),
    RunRecordHooks(),
    PolarsDatasetStatsHook(),
    SparkHooks(),
)

CONFIG_LOADER_CLASS = ProjectConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"oc.env": oc.env},
    # conf/<env>/spark.yml: the SparkSession settings of the `spark` environment
    "config_patterns": {"spark": ["spark*", "spark*/**"]},
}
