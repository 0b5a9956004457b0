#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install the project with its dev tools, Jupyter and
# PySpark (the `dev`, `notebook` and `spark` extras); where Java is installed, fetch the
# Spark connectors conf/spark/spark.yml names (delta-spark, hadoop-aws and its AWS SDK)
# into their Ivy cache, once. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      PYTHON="$candidate"; break
    fi
  done
fi
if [[ -z "$PYTHON" ]]; then
  echo "error: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
  echo "==> installing medallion-kedro and its dependencies"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev,notebook,spark]"
  touch "$stamp"
fi
# Spark resolves spark.jars.packages from Maven Central into spark.jars.ivy; every later
# session (kedro run --env spark, the Spark tests) resolves them from that cache.
jars=.venv/.spark-connectors
if [[ ! -f $jars || conf/spark/spark.yml -nt $jars || pyproject.toml -nt $jars ]]; then
  if command -v java >/dev/null 2>&1; then
    echo "==> fetching the Spark connectors (python -m medallion_kedro.spark)"
    .venv/bin/python -m medallion_kedro.spark
    touch "$jars"
  else
    echo "note: no Java here: the Spark connectors are fetched by the first Spark session" >&2
  fi
fi
