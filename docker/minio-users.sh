#!/bin/sh
# Run by the createbuckets service (image minio/mc) with the MinIO root account, the only
# place that account is used: creates the lake bucket and two users limited to it,
#   MINIO_PIPELINE_USER  read-write on the lake bucket (the pipeline)
#   MINIO_UI_USER        read-only on the lake bucket (the app's lake source)
# Re-running it updates the passwords and policies. Bucket names cannot hold quotes, so
# the policies are written with printf.
set -eu
: "${MINIO_ROOT_USER:?set MINIO_ROOT_USER in .env}"
: "${MINIO_ROOT_PASSWORD:?set MINIO_ROOT_PASSWORD in .env}"
: "${MINIO_PIPELINE_USER:?set MINIO_PIPELINE_USER in .env}"
: "${MINIO_PIPELINE_PASSWORD:?set MINIO_PIPELINE_PASSWORD in .env}"
: "${MINIO_UI_USER:?set MINIO_UI_USER in .env}"
: "${MINIO_UI_PASSWORD:?set MINIO_UI_PASSWORD in .env}"
LAKE_BUCKET="${LAKE_BUCKET:-lake}"
MINIO_URL="${MINIO_URL:-http://minio:9000}"
POLICIES="$(mktemp -d)"
trap 'rm -rf "$POLICIES"' EXIT

case "$LAKE_BUCKET" in
  *[!a-z0-9.-]*|"") echo "LAKE_BUCKET must be a bucket name (a-z, 0-9, '.', '-')" >&2; exit 2 ;;
esac

policy() {  # policy NAME ACTIONS...: allow ACTIONS on the lake bucket and its objects only
  name="$1"; shift
  actions=$(printf '"%s",' "$@"); actions="${actions%,}"
  printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[%s],"Resource":["arn:aws:s3:::%s","arn:aws:s3:::%s/*"]}]}\n' \
    "$actions" "$LAKE_BUCKET" "$LAKE_BUCKET" > "$POLICIES/$name.json"
  mc admin policy create local "$name" "$POLICIES/$name.json"
}

user() {  # user NAME PASSWORD POLICY: create or update the user, attach only POLICY
  mc admin user add local "$1" "$2"
  # attach refuses a policy that is already attached: that is the state we want
  mc admin policy attach local "$3" --user "$1" || mc admin user info local "$1" | grep -q "$3"
}

mc alias set local "$MINIO_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing "local/$LAKE_BUCKET"
policy lake-readwrite s3:GetBucketLocation s3:ListBucket s3:ListBucketMultipartUploads \
  s3:GetObject s3:PutObject s3:DeleteObject s3:AbortMultipartUpload s3:ListMultipartUploadParts
policy lake-readonly s3:GetBucketLocation s3:ListBucket s3:GetObject
user "$MINIO_PIPELINE_USER" "$MINIO_PIPELINE_PASSWORD" lake-readwrite
user "$MINIO_UI_USER" "$MINIO_UI_PASSWORD" lake-readonly
echo "bucket $LAKE_BUCKET ready; users $MINIO_PIPELINE_USER (read-write), $MINIO_UI_USER (read-only)"
