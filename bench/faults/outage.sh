#!/usr/bin/env bash
# Outages under load (issue 16), by hand. A PostgreSQL server and a Redis server started by this
# script (their own ports and folders), a backend (nginx answering "ok"), and Tollgate (release
# build: management UI and gateway in one process) with a registered client whose plan has a
# rate limit that does not trip, set up with `server apply`. wrk drives the gateway with the
# client's key while:
#   1. PostgreSQL stops for OUTAGE seconds (default 60) and starts again: the gateway's errors,
#      the management UI's answer during the outage (status and time), and afterwards the
#      requests recorded in the per-minute metrics against those wrk made (and the records
#      dropped, from /metrics);
#   2. Redis stops for 10 s and starts again: the gateway's errors, and the log lines each way.
# Everything stays on loopback; every step is bounded. CI covers the parts as tests:
# gateway/tests/failover.rs (a node serves on when its PostgreSQL stops), server/tests/outage.rs
# (the UI's 503), gateway/tests/policies.rs (limits shared through Redis).
#
# Usage: bench/faults/outage.sh        (OUTAGE seconds, default 60)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUTAGE="${OUTAGE:-60}"
# shellcheck source=bench/faults/lib.sh
. bench/faults/lib.sh
need_tools
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
release_server

TMP="$(mktemp -d -t tollgate-outage.XXXXXX)"
chmod 755 "$TMP"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null || true
    [ -f "$TMP/backend.pid" ] && kill "$(cat "$TMP/backend.pid")" 2>/dev/null || true
    as_pg "$PGBIN/pg_ctl" -D "$TMP/pg" -m immediate stop >/dev/null 2>&1 || true
    [ -f "$TMP/redis.pid" ] && kill "$(cat "$TMP/redis.pid")" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

PG_PORT=5499 REDIS_PORT=6399
mkdir -p "$TMP/pg" && [ "$(id -u)" -ne 0 ] || chown postgres: "$TMP/pg"
as_pg "$PGBIN/initdb" -D "$TMP/pg" -A trust -U postgres --no-sync >/dev/null
pg_start() { as_pg "$PGBIN/pg_ctl" -D "$TMP/pg" -l "$TMP/pg/log" -o "-p $PG_PORT -k $TMP/pg -c listen_addresses=127.0.0.1" -w start >/dev/null; }
pg_stop() { as_pg "$PGBIN/pg_ctl" -D "$TMP/pg" -m fast -w stop >/dev/null; }
redis_start() { redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes --pidfile "$TMP/redis.pid" --logfile "$TMP/redis.log"; sleep 0.5; }
redis_stop() { kill "$(cat "$TMP/redis.pid")"; sleep 0.5; }
pg_start
redis_start

start_backend 9301

export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
throwaway_identity
export LEPTOS_SITE_ADDR=127.0.0.1:9300 LEPTOS_OUTPUT_NAME=tollgate
export TOLLGATE_GATEWAY_LISTEN=127.0.0.1:9302 TOLLGATE_GATEWAY_ADMIN_LISTEN=127.0.0.1:9303
TILL_KEY="$(random_key till)"
export TILL_KEY
export RUST_LOG=info

cat > "$TMP/world.yaml" <<YAML
version: 1
organizations:
- name: Shop
  members:
  - {email: ops@example.com, role: owner}
  plans:
  - name: Gold
    versions:
    - version: '1.0'
      locked: true
      policies:
      - type: rate-limiting
        configuration: {limit: 100000000, granularity: Client, period: Minute}
  apis:
  - name: Orders
    versions:
    - version: '1.0'
      status: published
      endpoint: http://127.0.0.1:9301/
      plans:
      - {plan: Gold, version: '1.0'}
  clients:
  - name: Till
    versions:
    - version: '1.0'
      registered: true
      apiKey: \${TILL_KEY}
      contracts:
      - {organization: Shop, api: Orders, version: '1.0', plan: Gold}
YAML
"$BIN" apply -f "$TMP/world.yaml" 2>"$TMP/apply.log" | tail -1

"$BIN" 2>"$TMP/server.log" &
SERVER=$!
URL="http://127.0.0.1:9302/Shop/Orders/1.0/orders"
for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $TILL_KEY" "$URL")" = 200 ] && break
    sleep 0.1
done
# A signed-in browser session for the management UI (the sign-in form's action is the server
# function's address).
ACTION="$(curl -s http://127.0.0.1:9300/signin | grep -o 'action="/api/sign_in[^"]*"' | head -1 | cut -d'"' -f2)"
SIGNIN="$(curl -s -o /dev/null -D - -H 'Origin: http://127.0.0.1:9300' \
    --data-urlencode "email=ops@example.com" --data-urlencode "password=$TOLLGATE_ADMIN_PASSWORD" \
    --data-urlencode "next=/" "http://127.0.0.1:9300$ACTION" | tr -d '\r' | sed -n 's/^set-cookie: \(tollgate_session=[^;]*\).*/\1/ip')"
[ -n "$SIGNIN" ] || { echo "could not sign in" >&2; exit 1; }
ui() { curl -s -o /dev/null -b "$SIGNIN" -m 30 -w '%{http_code} in %{time_total} s' http://127.0.0.1:9300/; }
before_ui="$(ui)"
recorded() { as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -At -c "SELECT COALESCE(SUM(requests), 0) FROM metrics_minute" postgres; }
sleep 2
base="$(recorded)"

echo "1. PostgreSQL down for ${OUTAGE}s under load (wrk -c8, key auth, rate limit, metrics)"
wrk -t1 -c8 -d"$((OUTAGE + 30))s" -H "X-API-Key: $TILL_KEY" "$URL" > "$TMP/db.txt" &
WRK=$!
sleep 10
pg_stop
sleep 5
during_ui="$(ui)"
during_gw="$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $TILL_KEY" "$URL")"
sleep $((OUTAGE - 5))
pg_start
wait "$WRK"
sleep 5
after_ui="$(ui)"
made="$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$TMP/db.txt")"
got=$(( $(recorded) - base ))
dropped="$(curl -s http://127.0.0.1:9303/metrics | sed -n 's/^tollgate_gateway_metrics_dropped_total //p')"
echo "   wrk: $(wrk_totals "$TMP/db.txt")"
echo "   gateway during the outage: $during_gw; UI before: $before_ui, during: $during_ui, after: $after_ui"
echo "   metrics: $made requests made, $got recorded after recovery ($((made - got)) missing), $dropped dropped (/metrics)"

echo "2. Redis down for 10 s under load"
wrk -t1 -c8 -d30s -H "X-API-Key: $TILL_KEY" "$URL" > "$TMP/redis.txt" &
WRK=$!
sleep 10
redis_stop
sleep 10
redis_start
wait "$WRK"
# The node tries Redis again after its back-off; a few requests later it says so.
for _ in $(seq 1 20); do
    curl -s -o /dev/null -H "X-API-Key: $TILL_KEY" "$URL"
    grep -q "Redis answers again" "$TMP/server.log" && break
    sleep 1
done
echo "   wrk: $(wrk_totals "$TMP/redis.txt")"
echo "   log:"
grep -E "Redis (unreachable|answers again)" "$TMP/server.log" | sed 's/\x1b\[[0-9;]*m//g; s/^/     /' | cut -c1-200
