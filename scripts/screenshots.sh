#!/usr/bin/env bash
# Regenerate the README's screenshots (docs/*.png, the Pipeline tab too) in headless
# Chromium: the browser tests of the app (1280 px wide), of GraphiQL and of the Kedro-Viz
# lineage (both with the network blocked) take them under test-artifacts/; this copies the
# ones the README shows.
set -euo pipefail
cd "$(dirname "$0")/.."
export KEDRO_DISABLE_TELEMETRY=1 DO_NOT_TRACK=1 GRADIO_ANALYTICS_ENABLED=False
.venv/bin/python -m pytest -q -p no:cacheprovider \
  tests/ui/test_browser.py \
  "tests/ui/test_pipeline_tab.py::test_pipeline_tab_in_chromium" \
  "tests/graphql_api/test_graphiql.py::test_graphiql_runs_a_query_with_the_network_blocked" \
  "tests/test_viz.py::test_lineage_renders_offline_with_a_screenshot"
mkdir -p docs
cp test-artifacts/ui/kpis.png docs/app-kpis.png
cp test-artifacts/ui/revenue.png docs/app-revenue.png
cp test-artifacts/ui/pipeline-lake.png docs/app-pipeline.png
cp test-artifacts/graphiql/graphiql.png docs/graphiql.png
cp test-artifacts/viz/lineage.png docs/lineage.png
echo "docs/app-kpis.png docs/app-revenue.png docs/app-pipeline.png docs/graphiql.png docs/lineage.png updated"
