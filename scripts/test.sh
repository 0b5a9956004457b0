#!/usr/bin/env bash
# Install everything the test suite needs, then run it. The suite starts its own S3
# (moto) and MongoDB-compatible (nx-27017) servers on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
export KEDRO_DISABLE_TELEMETRY=1 DO_NOT_TRACK=1 GRADIO_ANALYTICS_ENABLED=False

bash scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1 && [[ ! -x /usr/bin/chromium ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: chromium is missing and cannot be installed here: browser tests will skip" >&2
  fi
fi
exec .venv/bin/python -m pytest "$@"
