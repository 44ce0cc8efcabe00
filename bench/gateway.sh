#!/usr/bin/env bash
# Gateway benchmark. A local backend (an nginx process answering "ok"); nginx as a plain reverse
# proxy with upstream keep-alive (a second nginx process); and Tollgate's gateway with a
# registered client and contract, a plan with a rate-limit policy too high to trip, and
# per-request metrics recording on; and the same gateway on a public API guarded by JWT
# Validation instead (RS256 with a static key, one claim forwarded as a header). wrk runs the
# four interleaved, ROUNDS rounds (default 5) at c=1 and c=32; the script prints requests/s and
# p50/p99 (medians over the rounds), Tollgate ÷ nginx, and JWT ÷ key auth. Then:
# register/unregister → first accepted/refused request, and the gateway's memory with 100,000
# registered client versions.
# Needs Debian's nginx and wrk (installed when missing, as root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS="${ROUNDS:-5}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-5}"
CLIENTS="${CLIENTS:-100000}"

for tool in nginx wrk; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        apt-get install -y -qq --no-install-recommends "$tool" >/dev/null
    fi
done
cargo build --release --quiet -p gateway --example bench
BIN=target/release/examples/bench

TMP="$(mktemp -d -t tollgate-bench.XXXXXX)"
cleanup() {
    [ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null || true
    [ -f "$TMP/backend.pid" ] && kill "$(cat "$TMP/backend.pid")" 2>/dev/null || true
    [ -n "${GW_PID:-}" ] && kill "$GW_PID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

# The backend and the reverse proxy are two nginx processes, so that nginx, like Tollgate, pays
# for the hop between proxy and backend (one process serving both would skip the wake-ups).
cat > "$TMP/backend.conf" <<NGINX
worker_processes 1;
pid $TMP/backend.pid;
error_log $TMP/backend-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    server { listen 127.0.0.1:9101; location / { return 200 "ok"; } }
}
NGINX
cat > "$TMP/nginx.conf" <<NGINX
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    upstream backend { server 127.0.0.1:9101; keepalive 64; }
    server {
        listen 127.0.0.1:9102;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
NGINX
nginx -c "$TMP/backend.conf" -p "$TMP"
nginx -c "$TMP/nginx.conf" -p "$TMP"

"$BIN" serve http://127.0.0.1:9101/ 127.0.0.1:9103 > "$TMP/gw.out" 2> "$TMP/gw.err" &
GW_PID=$!
for _ in $(seq 1 100); do grep -q '^URL=' "$TMP/gw.out" 2>/dev/null && break; sleep 0.1; done
for _ in $(seq 1 100); do grep -q '^JWT_URL=' "$TMP/gw.out" 2>/dev/null && break; sleep 0.1; done
KEY="$(sed -n 's/^KEY=//p' "$TMP/gw.out")"
GW_URL="$(sed -n 's/^URL=//p' "$TMP/gw.out")"
TOKEN="$(sed -n 's/^TOKEN=//p' "$TMP/gw.out")"
JWT_URL="$(sed -n 's/^JWT_URL=//p' "$TMP/gw.out")"
[ -n "$KEY" ] || { echo "the gateway did not start" >&2; cat "$TMP/gw.err" >&2; exit 1; }

# One wrk run with one request header: prints "rps p50_us p99_us".
run() {
    local c="$1" url="$2" header="$3" threads=1
    [ "$c" -gt 1 ] && threads=2
    wrk -t"$threads" -c"$c" -d"${SECONDS_PER_RUN}s" --latency -H "$header" "$url" | awk '
        function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; if (v ~ /s$/) return v * 1000000; return v }
        /Requests\/sec/ { rps = $2 }
        $1 == "50%" { p50 = us($2) }
        $1 == "99%" { p99 = us($2) }
        END { printf "%.0f %.0f %.0f\n", rps, p50, p99 }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A URL=([direct]="http://127.0.0.1:9101/" [nginx]="http://127.0.0.1:9102/" [tollgate]="$GW_URL" [jwt]="$JWT_URL")
declare -A HEADER=([direct]="X-API-Key: $KEY" [nginx]="X-API-Key: $KEY" [tollgate]="X-API-Key: $KEY" [jwt]="Authorization: Bearer $TOKEN")
for c in 1 32; do
    for round in $(seq 1 "$ROUNDS"); do
        for target in direct nginx tollgate jwt; do
            run "$c" "${URL[$target]}" "${HEADER[$target]}" >> "$TMP/$target-$c"
        done
    done
done

printf '\n%-10s %4s %12s %10s %10s\n' target c "requests/s" "p50 (us)" "p99 (us)"
for c in 1 32; do
    for target in direct nginx tollgate jwt; do
        rps=$(awk '{print $1}' "$TMP/$target-$c" | median)
        p50=$(awk '{print $2}' "$TMP/$target-$c" | median)
        p99=$(awk '{print $3}' "$TMP/$target-$c" | median)
        printf '%-10s %4s %12s %10s %10s\n' "$target" "$c" "$rps" "$p50" "$p99"
        eval "RPS_${target}_$c=$rps P50_${target}_$c=$p50"
    done
    awk -v t="$(eval echo "\$RPS_tollgate_$c")" -v n="$(eval echo "\$RPS_nginx_$c")" \
        -v tp="$(eval echo "\$P50_tollgate_$c")" -v np="$(eval echo "\$P50_nginx_$c")" -v c="$c" \
        'BEGIN { printf "c=%s: Tollgate / nginx throughput %.2fx (target >= 0.8x), p50 added %+d us (target <= 100 us at c=1)\n", c, t / n, tp - np }'
    awk -v j="$(eval echo "\$RPS_jwt_$c")" -v k="$(eval echo "\$RPS_tollgate_$c")" -v c="$c" \
        'BEGIN { printf "c=%s: JWT / key auth throughput %.2fx (target >= 0.9x)\n\n", c, j / k }'
done
echo "($ROUNDS rounds of ${SECONDS_PER_RUN}s each, interleaved; medians; wrk, nginx and the gateway share this machine's cores)"
echo
"$BIN" propagation 2>/dev/null
"$BIN" memory "$CLIENTS" 2>/dev/null
