#!/usr/bin/env bash
# Shutdown and restarts under load (issue 16), by hand. A backend (nginx answering "ok"), two
# gateway nodes (`server gateway`, release build) on one SQLite database, and nginx in front of
# both. wrk drives the load through nginx while:
#   1. rolling restart: node A gets SIGTERM, drains and exits, starts again; then node B;
#   2. SIGTERM under load: wrk straight at node A, which gets SIGTERM mid-run.
# Prints wrk's totals (requests, non-2xx, socket errors) and each node's drain time and exit
# status. Goal: 0 non-2xx and 0 read/write/timeout errors in the rolling restart; in the SIGTERM
# run only connect errors (connections refused after the node stopped listening).
# CI runs the SIGTERM case as a test (server/tests/shutdown.rs). Needs Debian's nginx and wrk
# (installed when missing, as root). Everything stays on loopback; every step is bounded.
#
# Usage: bench/faults/restarts.sh          (DURATION seconds of load per phase, default 20)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
DURATION="${DURATION:-20}"
# shellcheck source=bench/faults/lib.sh
. bench/faults/lib.sh
need_tools
release_server

TMP="$(mktemp -d -t tollgate-restarts.XXXXXX)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for f in "$TMP"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

export DATABASE_URL="sqlite://$TMP/tollgate.db?mode=rwc"
throwaway_identity
export TOLLGATE_GATEWAY_ADMIN_LISTEN=off TOLLGATE_SHUTDOWN_GRACE=10 RUST_LOG=info

cat > "$TMP/front.conf" <<NGINX
worker_processes 1;
pid $TMP/front.pid;
error_log $TMP/front-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    upstream nodes { server 127.0.0.1:9211 max_fails=0; server 127.0.0.1:9212 max_fails=0; keepalive 32; }
    server {
        listen 127.0.0.1:9210;
        location / {
            proxy_pass http://nodes;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
        }
    }
}
NGINX
start_backend 9201

# The world, as configuration: a public API in front of the backend.
cat > "$TMP/world.yaml" <<YAML
version: 1
organizations:
- name: Shop
  apis:
  - name: Orders
    versions:
    - version: '1.0'
      status: published
      public: true
      endpoint: http://127.0.0.1:9201/
YAML
"$BIN" apply -f "$TMP/world.yaml" 2>/dev/null

start_node() { # name port
    TOLLGATE_GATEWAY_LISTEN="127.0.0.1:$2" "$BIN" gateway 2>"$TMP/$1.log" &
    echo $! > "$TMP/$1.node"
    for _ in $(seq 1 300); do
        curl -fs "http://127.0.0.1:$2/Shop/Orders/1.0/ping" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "node $1 did not start" >&2; cat "$TMP/$1.log" >&2; exit 1
}
stop_node() { # name: SIGTERM, wait, print the drain time
    local pid; pid="$(cat "$TMP/$1.node")"
    local t0; t0="$(date +%s%N)"
    kill -TERM "$pid"
    local status=0
    wait "$pid" || status=$?
    printf '  node %s: SIGTERM → exit %d in %d ms; %s\n' "$1" "$status" $(( ($(date +%s%N) - t0) / 1000000 )) \
        "$(grep -o 'stopped accepting.*' "$TMP/$1.log" | tail -1 | tr -d '\033' | sed 's/\[[0-9;]*m//g')"
}

start_node a 9211
start_node b 9212
nginx -c "$TMP/front.conf" -p "$TMP"

echo "rolling restart: two nodes behind nginx, wrk -c16 for ${DURATION}s"
wrk -t1 -c16 -d"${DURATION}s" "http://127.0.0.1:9210/Shop/Orders/1.0/orders" > "$TMP/rolling.txt" &
WRK=$!
sleep $((DURATION / 5))
stop_node a; start_node a 9211
sleep $((DURATION / 5))
stop_node b; start_node b 9212
wait "$WRK"
echo "  wrk: $(wrk_totals "$TMP/rolling.txt")"

echo "SIGTERM under load: wrk -c8 straight at node a, SIGTERM after $((DURATION / 2))s"
wrk -t1 -c8 -d"${DURATION}s" "http://127.0.0.1:9211/Shop/Orders/1.0/orders" > "$TMP/sigterm.txt" &
WRK=$!
sleep $((DURATION / 2))
stop_node a
wait "$WRK" || true
echo "  wrk: $(wrk_totals "$TMP/sigterm.txt")"
stop_node b
