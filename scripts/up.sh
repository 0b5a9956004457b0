#!/usr/bin/env bash
# The main job on the embedded default: install, start the local MongoDB-compatible
# server if none answers, generate data, run every pipeline, start the API and the app.
# Run it again at any time: what already runs is reported and left running.
# Ports: MONGO_PORT (27017), API_PORT (8000), UI_PORT (7860).
set -euo pipefail
cd "$(dirname "$0")/.."
export KEDRO_DISABLE_TELEMETRY=1 DO_NOT_TRACK=1 GRADIO_ANALYTICS_ENABLED=False

bash scripts/setup.sh
BIN=.venv/bin
mkdir -p data/logs

export MONGO_PORT="${MONGO_PORT:-27017}" API_PORT="${API_PORT:-8000}" UI_PORT="${UI_PORT:-7860}"
export MONGO_URI="${MONGO_URI:-mongodb://127.0.0.1:$MONGO_PORT}"
export API_URL="${API_URL:-http://127.0.0.1:$API_PORT/graphql}"

listening() {  # port: true when something accepts connections on 127.0.0.1:port
  "$BIN/python" -c "import socket, sys; s = socket.socket(); s.settimeout(1)
sys.exit(s.connect_ex(('127.0.0.1', int(sys.argv[1]))) != 0)" "$1"
}
ours() {  # name: true when the process in data/logs/<name>.pid runs
  local pidfile="data/logs/$1.pid"
  [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}
port_taken() {  # port, variable, what
  echo "error: port $1 is taken by another program, so $3 cannot start there." >&2
  echo "       Stop that program, or choose another port: $2=<free port> make up" >&2
  echo "       (and the same $2 for make down)." >&2
  exit 1
}

# Check every port before any work, so a clash is reported at once.
if [[ $MONGO_URI == "mongodb://127.0.0.1:$MONGO_PORT" ]] && listening "$MONGO_PORT" &&
   ! "$BIN/medallion-mongo" status --port "$MONGO_PORT" >/dev/null 2>&1; then
  port_taken "$MONGO_PORT" MONGO_PORT "the MongoDB-compatible server"
fi
for service in "api API_PORT $API_PORT the GraphQL API" "ui UI_PORT $UI_PORT the web app"; do
  read -r name variable port what <<<"$service"
  if ours "$name"; then
    running_port=$(cat "data/logs/$name.port" 2>/dev/null || echo "?")
    if [[ $running_port != "$port" ]]; then
      echo "error: $what already runs on port $running_port (pid $(cat "data/logs/$name.pid"))," >&2
      echo "       not on $variable=$port: run make down first, or use $variable=$running_port." >&2
      exit 1
    fi
  elif listening "$port"; then
    port_taken "$port" "$variable" "$what"
  fi
done

if [[ $MONGO_URI == "mongodb://127.0.0.1:$MONGO_PORT" ]]; then
  echo "==> MongoDB-compatible server on port $MONGO_PORT"
  "$BIN/medallion-mongo" start --port "$MONGO_PORT"
else
  echo "==> MongoDB at MONGO_URI (not started here)"
fi

echo "==> kedro run --pipelines generate ${GENERATE_PARAMS:+--params $GENERATE_PARAMS}"
"$BIN/kedro" run --pipelines generate ${GENERATE_PARAMS:+--params "$GENERATE_PARAMS"}
echo "==> kedro run (bronze, silver, gold, export)"
"$BIN/kedro" run

start() {  # name, port, url to wait for, command...
  local name=$1 port=$2 url=$3; shift 3
  local pidfile="data/logs/$name.pid"
  if ours "$name"; then
    echo "==> $name already running (pid $(cat "$pidfile")) on ${url%/health}; left as it is"; return
  fi
  nohup "$@" >"data/logs/$name.log" 2>&1 &
  echo $! >"$pidfile"
  echo "$port" >"data/logs/$name.port"
  for _ in $(seq 1 120); do
    if "$BIN/python" -c "import sys, httpx; sys.exit(httpx.get('$url', timeout=1).status_code >= 500)" \
        2>/dev/null; then
      echo "==> $name is up on ${url%/health}"; return
    fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "error: $name stopped; see data/logs/$name.log" >&2; tail -20 "data/logs/$name.log" >&2
      rm -f "$pidfile" "data/logs/$name.port"
      exit 1
    fi
    sleep 0.5
  done
  echo "error: $name did not answer on $url within 60 s; see data/logs/$name.log" >&2
  exit 1
}

start api "$API_PORT" "http://127.0.0.1:$API_PORT/health" "$BIN/medallion-api"
start ui "$UI_PORT" "http://127.0.0.1:$UI_PORT/" "$BIN/medallion-ui"

cat <<MSG

medallion-kedro is running on the embedded default:
  lake (Delta Lake)  data/lake/{landing,bronze,silver,quality,gold}/
  MongoDB            $MONGO_URI  (database ${MONGO_DB:-medallion})
  GraphQL + GraphiQL http://127.0.0.1:$API_PORT/graphql
  web app            http://127.0.0.1:$UI_PORT/
  lineage            make viz   (http://127.0.0.1:${VIZ_PORT:-4141})
Stop everything with: make down
MSG
