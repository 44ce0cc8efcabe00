#!/usr/bin/env bash
# Soak (issue 16), by hand: MINUTES (default 10) of mixed traffic through a gateway node, and its
# resident memory (RSS) at each minute. The world, set up with `server apply`: a backend (nginx
# answering "ok"), an API whose plan Gold has a rate limit that never trips and a Caching
# Resources policy on /cached/..., and a plan Tight whose rate limit (5 a second) trips all the
# time. Two wrk processes at once: the Gold client over 1,000 distinct paths (half of them
# cached), and the Tight client, mostly answered 429. Every request is recorded in the per-minute
# metrics. Prints RSS per minute and the growth after the first minute. Goal: ≤ 5 %.
#
# Usage: bench/faults/soak.sh         (MINUTES to change)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
MINUTES="${MINUTES:-10}"
# shellcheck source=bench/faults/lib.sh
. bench/faults/lib.sh
need_tools
release_server

TMP="$(mktemp -d -t tollgate-soak.XXXXXX)"
cleanup() {
    [ -n "${NODE:-}" ] && kill "$NODE" 2>/dev/null || true
    [ -f "$TMP/backend.pid" ] && kill "$(cat "$TMP/backend.pid")" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

start_backend 9401

export DATABASE_URL="sqlite://$TMP/tollgate.db?mode=rwc"
throwaway_identity
GOLD_KEY="$(random_key gold)" TIGHT_KEY="$(random_key tight)"
export GOLD_KEY TIGHT_KEY
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
  - name: Tight
    versions:
    - version: '1.0'
      locked: true
      policies:
      - type: rate-limiting
        configuration: {limit: 5, granularity: Client, period: Second}
  apis:
  - name: Orders
    versions:
    - version: '1.0'
      status: published
      endpoint: http://127.0.0.1:9401/
      plans:
      - {plan: Gold, version: '1.0'}
      - {plan: Tight, version: '1.0'}
      policies:
      - type: caching
        configuration: {ttlSeconds: 30, rules: [{method: GET, pathPattern: '/cached/.*'}]}
  clients:
  - name: Big
    versions:
    - version: '1.0'
      registered: true
      apiKey: \${GOLD_KEY}
      contracts:
      - {organization: Shop, api: Orders, version: '1.0', plan: Gold}
  - name: Small
    versions:
    - version: '1.0'
      registered: true
      apiKey: \${TIGHT_KEY}
      contracts:
      - {organization: Shop, api: Orders, version: '1.0', plan: Tight}
YAML
"$BIN" apply -f "$TMP/world.yaml" 2>"$TMP/apply.log" | tail -1

TOLLGATE_GATEWAY_LISTEN=127.0.0.1:9402 TOLLGATE_GATEWAY_ADMIN_LISTEN=127.0.0.1:9403 \
    RUST_LOG=warn "$BIN" gateway 2>"$TMP/node.log" &
NODE=$!
BASE="http://127.0.0.1:9402/Shop/Orders/1.0"
for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $GOLD_KEY" "$BASE/x")" = 200 ] && break
    sleep 0.1
done

# 1,000 paths, half under /cached/.
cat > "$TMP/paths.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  local i = n % 1000
  local prefix = (i % 2 == 0) and "/cached/" or "/live/"
  return wrk.format("GET", "/Shop/Orders/1.0" .. prefix .. i)
end
LUA
rss() { awk '/VmRSS/ {print $2}' "/proc/$NODE/status"; }
echo "soak: ${MINUTES} min, wrk -c4 (Gold, 1,000 paths, half cached) and wrk -c2 (Tight, rate limit trips)"
wrk -t1 -c4 -d"${MINUTES}m" -s "$TMP/paths.lua" -H "X-API-Key: $GOLD_KEY" "$BASE" > "$TMP/gold.txt" &
W1=$!
wrk -t1 -c2 -d"${MINUTES}m" -H "X-API-Key: $TIGHT_KEY" "$BASE/tight" > "$TMP/tight.txt" &
W2=$!
printf '  minute  RSS (KiB)\n  %6d  %9d\n' 0 "$(rss)"
first=""
for m in $(seq 1 "$MINUTES"); do
    sleep 60
    r="$(rss)"
    [ -n "$first" ] || first="$r"
    printf '  %6d  %9d\n' "$m" "$r"
done
wait "$W1" "$W2" || true
last="$r"
growth="$(awk -v a="$first" -v b="$last" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')"
echo "  growth after the first minute: ${growth} % (goal ≤ 5 %)"
for f in gold tight; do
    echo "  wrk $f: $(wrk_totals "$TMP/$f.txt")"
done
curl -s "http://127.0.0.1:9403/metrics" | grep -E '^tollgate_gateway_(responses_total|metrics_dropped_total)' | sed 's/^/  /'
