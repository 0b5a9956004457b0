#!/usr/bin/env bash
# Install everything the test suite needs, then run it. The suite starts its own S3
# (moto) and MongoDB-compatible (nx-27017) servers on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
export KEDRO_DISABLE_TELEMETRY=1 DO_NOT_TRACK=1 GRADIO_ANALYTICS_ENABLED=False

bash scripts/setup.sh
# Debian packages the tests drive: Chromium (browser tests), wrk (load benchmarks), Java.
.venv/bin/python -m pip install --quiet -e ".[spark]"
missing=()
if ! command -v chromium >/dev/null 2>&1 && [[ ! -x /usr/bin/chromium ]]; then missing+=(chromium); fi
if ! command -v wrk >/dev/null 2>&1; then missing+=(wrk); fi
# Java for the Spark tests (the `spark` extra's PySpark runs on a JVM).
if ! command -v java >/dev/null 2>&1; then missing+=(openjdk-17-jre-headless); fi
if (( ${#missing[@]} )); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Debian's ${missing[*]} for the tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "note: ${missing[*]} missing and cannot be installed here: the tests that need them skip" >&2
  fi
fi
# Two workers, one test file each at a time (a file's servers and lakes are built once):
# most tests wait on servers and subprocesses. PYTEST_WORKERS=0 runs in this process.
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"
