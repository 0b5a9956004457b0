#!/usr/bin/env bash
# Stop what `make up` started: the app, the API and the local MongoDB-compatible server.
set -uo pipefail
cd "$(dirname "$0")/.."
for name in ui api; do
  pidfile="data/logs/$name.pid"
  if [[ -f $pidfile ]]; then
    kill "$(cat "$pidfile")" 2>/dev/null && echo "stopped $name"
    rm -f "$pidfile"
  fi
done
[[ -x .venv/bin/medallion-mongo ]] && .venv/bin/medallion-mongo stop
exit 0
