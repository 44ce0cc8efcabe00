#!/usr/bin/env bash
# schemathesis (PyPI) against the running release server's REST API, /api/v1: every operation of
# /api/v1/openapi.json with generated requests, a read-write personal access token, and the
# checks that matter: no server error (not_a_server_error) and every answer as the document
# describes it (response_schema_conformance, status_code_conformance,
# content_type_conformance). Bounded: --max-examples per operation (30; LONG=1: 300) and a hard
# timeout around the run. The coverage phase is left out: under this Python, schemathesis 4.32.5
# stops in it with an internal error (hypothesis' "AST constructor recursion depth mismatch").
#
# It serves target/release/server (built by `cargo leptos build --release`, or the e2e step of
# scripts/test.sh; SERVER_BIN overrides) on a free port of 127.0.0.1 with a fresh SQLite
# database in a temporary directory and the gateway off, signs the administrator in through
# the server functions, creates a token, seeds an organization with a plan, an API and a
# client through the REST API (so that generated paths can name real objects), then runs
# schemathesis. It prints the operations and requests tested and ends non-zero on any failure.
#
# Usage: scripts/schemathesis.sh            (LONG=1 for a longer hand run; SEED=n to replay)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SCHEMATHESIS_VERSION=4.32.5
VENV="$PWD/.tools/schemathesis"
ST="$VENV/bin/st"
if [ "$("$ST" --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
    echo "installing schemathesis $SCHEMATHESIS_VERSION into $VENV ..."
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
echo "schemathesis: $("$ST" --version)"

TARGET="${CARGO_TARGET_DIR:-target}"
BIN="${SERVER_BIN:-$TARGET/release/server}"
if [ ! -x "$BIN" ]; then
    echo "$BIN is missing: build it with cargo leptos build --release" >&2
    exit 1
fi

if [ "${LONG:-0}" = 1 ]; then
    EXAMPLES=300 BUDGET=1800
else
    EXAMPLES=30 BUDGET=150
fi
SEED="${SEED:-$RANDOM}"

TMP="$(mktemp -d -t tollgate-schemathesis.XXXXXX)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
ADMIN_EMAIL=admin@schemathesis.local
# Not the default password: no forced change of password before the first request.
ADMIN_PASSWORD="schemathesis-$(date +%s)-$RANDOM"

echo "server: $BIN on $BASE (database in $TMP)"
env -i PATH="$PATH" HOME="${HOME:-/tmp}" \
    DATABASE_URL="sqlite://$TMP/tollgate.db?mode=rwc" \
    TOLLGATE_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_hex(32))')" \
    TOLLGATE_ADMIN_EMAIL="$ADMIN_EMAIL" \
    TOLLGATE_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    TOLLGATE_GATEWAY_LISTEN=off \
    TOLLGATE_GATEWAY_ADMIN_LISTEN=off \
    TOLLGATE_API_REQUESTS_PER_MINUTE=1000000 \
    LEPTOS_OUTPUT_NAME=tollgate \
    LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}" \
    LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR="127.0.0.1:$PORT" \
    RUST_LOG="${RUST_LOG:-warn}" \
    "$BIN" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 100); do
    if curl -fsS "$BASE/healthz" >/dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "the server stopped:" >&2
        cat "$TMP/server.log" >&2
        exit 1
    fi
    sleep 0.2
done
curl -fsS "$BASE/healthz" >/dev/null

# Server functions are at /api/<name><hash of the app crate's path>: the binary holds the paths.
server_fn() {
    local path
    # The longest match: a string table may also hold a prefix of it.
    path="$(grep -aoE "/api/$1[0-9]+" "$BIN" | awk '{ print length($0), $0 }' | sort -rn -u | head -1 | cut -d' ' -f2)"
    if [ -z "$path" ] || [ "${#path}" -lt $((5 + ${#1} + 15)) ]; then
        echo "cannot find the one server function path of $1 in $BIN: '$path'" >&2
        exit 1
    fi
    printf '%s' "$path"
}
SIGN_IN="$(server_fn sign_in)"
CREATE_TOKEN="$(server_fn create_access_token)"

JAR="$TMP/cookies"
curl -fsS -o /dev/null -c "$JAR" -H "Origin: $BASE" -H 'Accept: application/json' \
    --data-urlencode "email=$ADMIN_EMAIL" --data-urlencode "password=$ADMIN_PASSWORD" \
    --data-urlencode 'next=/' "$BASE$SIGN_IN"
EXPIRES="$(date -u -d '+30 days' +%F)"
TOKEN="$(curl -fsS -b "$JAR" -H "Origin: $BASE" -H 'Content-Type: application/json' \
    -H 'Accept: application/json' \
    --data "{\"input\": {\"name\": \"schemathesis\", \"expires_on\": \"$EXPIRES\", \"read_only\": false, \"orgs\": null}}" \
    "$BASE$CREATE_TOKEN" | python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])')"

rest() {
    local method="$1" path="$2" body="${3:-}"
    local args=(-fsS -o /dev/null -X "$method" -H "Authorization: Bearer $TOKEN")
    if [ -n "$body" ]; then
        args+=(-H 'Content-Type: application/json' --data "$body")
    fi
    curl "${args[@]}" "$BASE/api/v1$path" || {
        echo "seeding failed: $method $path" >&2
        exit 1
    }
}
rest POST /orgs '{"name": "Acme", "description": "Seeded"}'
rest POST /orgs/Acme/plans '{"name": "Gold", "version": "1.0"}'
rest POST /orgs/Acme/plans/Gold/versions/1.0/policies \
    '{"definition_id": "rate-limiting", "configuration": {"limit": 100, "granularity": "Client", "period": "Minute"}}'
rest POST /orgs/Acme/plans/Gold/versions/1.0/lock
rest POST /orgs/Acme/apis '{"name": "Weather", "version": "1.0", "endpoint": "https://backend.example.com/v1"}'
rest PUT /orgs/Acme/apis/Weather/versions/1.0/plans \
    '{"plans": [{"plan_id": "Gold", "plan_version": "1.0", "requires_approval": false, "discoverability": "all_users"}]}'
rest POST /orgs/Acme/apis/Weather/versions/1.0/publish
rest POST /orgs/Acme/clients '{"name": "App", "version": "1.0"}'
rest POST /orgs/Acme/clients/App/versions/1.0/contracts \
    '{"api_org": "Acme", "api": "Weather", "api_version": "1.0", "plan": "Gold"}'

echo "schemathesis: --max-examples $EXAMPLES, --seed $SEED, at most ${BUDGET}s"
set +e
# From the temporary directory: schemathesis keeps its cache (.schemathesis/) in the working one.
(cd "$TMP" && timeout --kill-after=10 "$BUDGET" "$ST" --no-color run "$BASE/api/v1/openapi.json" \
    --url "$BASE" \
    -H "Authorization: Bearer $TOKEN" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$EXAMPLES" \
    --phases examples,fuzzing,stateful \
    --seed "$SEED" \
    --workers 2 \
    --request-timeout 10) \
    2>&1 | tee "$TMP/run.log"
RC=${PIPESTATUS[0]}
set -e

OPS="$(grep -oE 'Tested: [0-9]+' "$TMP/run.log" | grep -oE '[0-9]+' | tail -1 || true)"
CASES="$(grep -oE '[0-9]+ generated' "$TMP/run.log" | grep -oE '[0-9]+' | tail -1 || true)"
echo "schemathesis: ${OPS:-?} operations tested with ${CASES:-?} generated requests (seed $SEED)"
if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
    echo "schemathesis did not finish within ${BUDGET}s" >&2
fi
if [ "$RC" -ne 0 ]; then
    echo "schemathesis: FAILED (exit $RC, seed $SEED); the server's log:" >&2
    tail -n 50 "$TMP/server.log" >&2
    exit "$RC"
fi
echo "schemathesis: OK"
