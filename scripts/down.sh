#!/usr/bin/env bash
# Stop what `make up` and `make s3` started: the app, the API, the S3 server and the local
# MongoDB-compatible server (on MONGO_PORT, default 27017). Says what it stopped, and
# when nothing was running.
set -uo pipefail
cd "$(dirname "$0")/.."
for name in ui api s3; do
  pidfile="data/logs/$name.pid"
  if [[ -f $pidfile ]]; then
    if kill "$(cat "$pidfile")" 2>/dev/null; then
      echo "stopped $name (pid $(cat "$pidfile"))"
    else
      echo "$name was not running (stale pid file removed)"
    fi
    rm -f "$pidfile" "data/logs/$name.port"
  elif [[ $name != s3 ]]; then
    echo "$name was not running"
  fi
done
[[ -x .venv/bin/medallion-mongo ]] && .venv/bin/medallion-mongo stop --port "${MONGO_PORT:-27017}"
exit 0
