# medallion-kedro: the usual commands. See README.md.
.PHONY: setup up down s3 test lint typecheck viz notebook screenshots bench bench-export bench-api bench-ui schema

export KEDRO_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1
export GRADIO_ANALYTICS_ENABLED := False
BIN := .venv/bin
VIZ_PORT ?= 4141
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

setup:        ## create .venv and install the project
	bash scripts/setup.sh

up:           ## main job on the embedded default: data, pipelines, MongoDB, API, app
	bash scripts/up.sh

down:         ## stop the app, the API, the S3 server and the local MongoDB-compatible server
	bash scripts/down.sh

s3:           ## S3 without Docker: moto's server on 127.0.0.1:$${S3_PORT:-9000}, bucket lake
	bash scripts/s3.sh

test:         ## install and run the whole test suite
	bash scripts/test.sh

lint: setup
	$(BIN)/ruff check src medallion_dev graphql_api ui tests bench
	$(BIN)/ruff format --check src medallion_dev graphql_api ui tests bench

typecheck: setup
	$(BIN)/mypy

viz: setup    ## Kedro-Viz lineage with previews on http://127.0.0.1:$(VIZ_PORT)
	$(BIN)/kedro viz run --no-browser --host 127.0.0.1 --port $(VIZ_PORT)

notebook: setup  ## JupyterLab on notebooks/explore_gold.ipynb with the project's kernel
	$(BIN)/kedro jupyter lab --LabApp.default_url=/lab/tree/notebooks/explore_gold.ipynb $(ROOT_FLAG)

screenshots: setup  ## regenerate docs/*.png (app, GraphiQL, Kedro-Viz lineage) in Chromium
	bash scripts/screenshots.sh

bench: setup  ## pipeline benchmark: ORDERS=10000000 make bench
	$(BIN)/python bench/pipeline.py --orders $${ORDERS:-1000000}

bench-export: setup
	$(BIN)/python bench/export.py

bench-api: setup
	$(BIN)/python bench/api_load.py

bench-ui: setup
	$(BIN)/python bench/ui_sources.py

schema: setup ## regenerate graphql_api/schema.graphql from the code
	$(BIN)/strawberry export-schema graphql_api.schema:schema --output graphql_api/schema.graphql
