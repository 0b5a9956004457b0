"""Kedro project settings.

``oc.env`` is registered for every configuration file (not only credentials) so the
catalog can take the lake bucket and other non-secret names from the environment, and
``spellings_by_country`` joins the generator's odd country spellings with silver's aliases.

Kedro-Viz's plugin hooks are not registered from its entry points: its dataset statistics
hook imports pandas on the first dataset a run loads and records pandas frames only
(``PolarsDatasetStatsHook`` records the polars frames of this project); its run-status
hook, which Kedro-Viz draws a run's progress from, is registered here.

Kedro's ``OmegaConfigLoader`` registers its resolvers with OmegaConf's
``register_new_resolver()``, which OmegaConf 2.4 deprecates with a ``UserWarning`` on each
call: the filter below hides that one message, raised from Kedro's loader, until Kedro
moves to ``register_resolver()``; every other warning is shown.
"""

from __future__ import annotations

import warnings

from kedro.config import OmegaConfigLoader
from kedro_viz.integrations.kedro.run_hooks import PipelineRunStatusHook
from omegaconf.resolvers import oc

from medallion_kedro.config_loader import spellings_by_country
from medallion_kedro.hooks import ContractHooks, LakePreflightHooks
from medallion_kedro.project_catalog import ProjectCatalog
from medallion_kedro.runs import RunRecordHooks
from medallion_kedro.spark import SparkHooks
from medallion_kedro.viz_stats import PolarsDatasetStatsHook

HOOKS = (
    ContractHooks(),
    LakePreflightHooks(),
    RunRecordHooks(),
    PolarsDatasetStatsHook(),
    SparkHooks(),
    PipelineRunStatusHook(),
)
DISABLE_HOOKS_FOR_PLUGINS = ("kedro-viz",)

warnings.filterwarnings(
    "ignore",
    message=r"register_new_resolver\(\) is deprecated",
    category=UserWarning,
    module=r"kedro\.config\.",
)

# parameters and intermediate outputs held without importing pandas (project_catalog.py)
DATA_CATALOG_CLASS = ProjectCatalog

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"oc.env": oc.env, "spellings_by_country": spellings_by_country},
    # conf/<env>/spark.yml: the SparkSession settings of the `spark` environment
    "config_patterns": {"spark": ["spark*", "spark*/**"]},
}
