#!/usr/bin/env bash
# S3 without Docker: moto's S3 server from the venv on 127.0.0.1:S3_PORT (default 9000),
# with the bucket LAKE_BUCKET (default lake) created, for `kedro run --env minio`.
# The data lives in the server's memory: `make down` stops it and the lake is gone.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
[[ -x $BIN/moto_server ]] || bash scripts/setup.sh
mkdir -p data/logs
S3_PORT="${S3_PORT:-9000}" LAKE_BUCKET="${LAKE_BUCKET:-lake}"
ENDPOINT="http://127.0.0.1:$S3_PORT"
pidfile=data/logs/s3.pid

if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "==> S3 (moto) already running (pid $(cat "$pidfile")) on $(cat data/logs/s3.port)"
  ENDPOINT="http://127.0.0.1:$(cat data/logs/s3.port)"
else
  nohup "$BIN/moto_server" -H 127.0.0.1 -p "$S3_PORT" >data/logs/s3.log 2>&1 &
  echo $! >"$pidfile"
  echo "$S3_PORT" >data/logs/s3.port
fi
# moto accepts any key pair; the bucket is created once the server answers
"$BIN/python" - "$ENDPOINT" "$LAKE_BUCKET" <<'PY'
import sys, time
import boto3, botocore.exceptions
endpoint, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                  aws_secret_access_key="testing", region_name="us-east-1")
for _ in range(60):
    try:
        s3.create_bucket(Bucket=bucket)
        break
    except botocore.exceptions.EndpointConnectionError:
        time.sleep(0.5)
else:
    sys.exit(f"error: no S3 server answered on {endpoint}; see data/logs/s3.log")
PY
cat <<MSG
==> S3 (moto) on $ENDPOINT, bucket $LAKE_BUCKET
Run the pipelines on it (the last run exports to MongoDB: make up starts a server):
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing S3_ENDPOINT_URL=$ENDPOINT LAKE_BUCKET=$LAKE_BUCKET
  kedro run --env minio --pipelines generate
  kedro run --env minio --pipelines bronze,silver,gold
Stop it with: make down (the lake lives in the server's memory and goes with it)
MSG
