#!/usr/bin/env bash
# Regenerate graphql_api/static/graphiql/ (GraphiQL served by the API itself, no CDN):
# fetch the pinned packages with `npm pack`, copy the browser builds and their licences,
# and check every file against the Subresource Integrity hash the page declares.
# The result is committed, so `make up` needs neither npm nor a CDN; run this only to
# change a version (then update PINS and the hashes in graphql_api/static/graphiql/index.html).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "error: npm is needed to regenerate the GraphiQL assets" >&2; exit 1; }

out=graphql_api/static/graphiql
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# package@version   file in the package              name served
PINS=(
  "react@18.2.0                umd/react.production.min.js        react.production.min.js"
  "react-dom@18.2.0            umd/react-dom.production.min.js    react-dom.production.min.js"
  "js-cookie@3.0.5             dist/js.cookie.min.js              js.cookie.min.js"
  "graphiql@3.8.3              graphiql.min.js                    graphiql.min.js"
  "graphiql@3.8.3              graphiql.min.css                   graphiql.min.css"
  "@graphiql/plugin-explorer@1.0.2 dist/index.umd.js              plugin-explorer.umd.js"
  "@graphiql/plugin-explorer@1.0.2 dist/style.css                 plugin-explorer.css"
)

mkdir -p "$out/LICENSES"
: >"$work/versions"
for pin in "${PINS[@]}"; do
  read -r spec file name <<<"$pin"
  dir="$work/$(echo "$spec" | tr '/@' '__')"
  if [[ ! -d $dir ]]; then
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$spec" >/dev/null && tar xzf ./*.tgz)
  fi
  cp "$dir/package/$file" "$out/$name"
  pkg=${spec%@*}
  licence="$out/LICENSES/$(echo "$pkg" | tr -d '@' | tr '/' '-').txt"
  if [[ -f $dir/package/LICENSE ]]; then
    cp "$dir/package/LICENSE" "$licence"
  else  # @graphiql/plugin-explorer ships its licence only in package.json ("MIT")
    node -e 'const p=require(process.argv[1]);console.log(`${p.name} ${p.version}: ${p.license} licence, copyright the GraphQL contributors (https://github.com/graphql/graphiql)`)' \
      "$dir/package/package.json" >"$licence"
  fi
  hash="sha384-$(openssl dgst -sha384 -binary "$out/$name" | openssl base64 -A)"
  echo "$spec $name $hash" >>"$work/versions"
done
sort -u "$work/versions" >"$out/VERSIONS"

# Every asset must match the integrity hash that index.html declares for it.
status=0
while read -r spec name hash; do
  if ! grep -q "static/graphiql/$name\"" "$out/index.html" || ! grep -q "$hash" "$out/index.html"; then
    echo "error: $name ($spec) does not match the integrity hash in $out/index.html: $hash" >&2
    status=1
  fi
done <"$out/VERSIONS"
[[ $status -eq 0 ]] && echo "GraphiQL assets in $out match their pinned hashes"
exit $status
