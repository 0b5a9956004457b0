#!/usr/bin/env bash
# The main job on the embedded default: install, start the local MongoDB-compatible
# server if none answers, generate data, run every pipeline, start the API and the app.
set -euo pipefail
cd "$(dirname "$0")/.."
export KEDRO_DISABLE_TELEMETRY=1 DO_NOT_TRACK=1 GRADIO_ANALYTICS_ENABLED=False

bash scripts/setup.sh
BIN=.venv/bin
mkdir -p data/logs

echo "==> MongoDB-compatible server"
"$BIN/medallion-mongo" start

echo "==> kedro run --pipelines generate ${GENERATE_PARAMS:+--params $GENERATE_PARAMS}"
"$BIN/kedro" run --pipelines generate ${GENERATE_PARAMS:+--params "$GENERATE_PARAMS"}
echo "==> kedro run (bronze, silver, gold, export)"
"$BIN/kedro" run

start() {  # name, url to wait for, command...
  local name=$1 url=$2; shift 2
  local pidfile="data/logs/$name.pid"
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "==> $name already running (pid $(cat "$pidfile"))"; return
  fi
  nohup "$@" >"data/logs/$name.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    if "$BIN/python" -c "import sys, httpx; sys.exit(httpx.get('$url', timeout=1).status_code >= 500)" \
        2>/dev/null; then
      echo "==> $name is up"; return
    fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "error: $name stopped; see data/logs/$name.log" >&2; tail -20 "data/logs/$name.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "error: $name did not answer on $url within 60 s; see data/logs/$name.log" >&2
  exit 1
}

API_PORT="${API_PORT:-8000}" UI_PORT="${UI_PORT:-7860}"
start api "http://127.0.0.1:$API_PORT/health" "$BIN/medallion-api"
start ui "http://127.0.0.1:$UI_PORT/" "$BIN/medallion-ui"

cat <<MSG

medallion-kedro is running on the embedded default:
  lake (Parquet)     data/lake/{landing,bronze,silver,quality,gold}/
  MongoDB            mongodb://127.0.0.1:27017  (database ${MONGO_DB:-medallion})
  GraphQL + GraphiQL http://127.0.0.1:$API_PORT/graphql
  web app            http://127.0.0.1:$UI_PORT/
  lineage            .venv/bin/kedro viz run   (http://127.0.0.1:4141)
Stop everything with: make down
MSG
