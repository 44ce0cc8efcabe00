#!/usr/bin/env bash
# Instructions per gateway request (issue 17): a regression gate that machine load cannot make
# noisy. `bench requests N` (gateway/examples/bench.rs) builds the benchmark's world (key auth, a
# plan with a rate limit that does not trip, metrics recording on, an in-process backend) and
# sends N requests one after the other through the whole chain, on one thread. Under callgrind,
# the count of two runs (SMALL and LARGE requests) differs by (LARGE - SMALL) requests' worth:
# the set-up, the same in both, drops out.
#
# The count is compared with bench/instructions.baseline: more than THRESHOLD % (default 10)
# over it fails. An intended increase updates the baseline in the same commit, with its reason:
#   bench/instructions.sh --update "why the hot path does more now"
#
# Usage: bench/instructions.sh [--update REASON]      (SMALL, LARGE, THRESHOLD to change)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SMALL="${SMALL:-200}"
LARGE="${LARGE:-2200}"
THRESHOLD="${THRESHOLD:-10}"
BASELINE=bench/instructions.baseline

if ! command -v valgrind >/dev/null 2>&1; then
    # scripts/tools.sh installs it.
    # shellcheck source=scripts/tools.sh
    . scripts/tools.sh
fi
cargo build --release --quiet -p gateway --example bench
BIN="${CARGO_TARGET_DIR:-target}/release/examples/bench"

# The instructions callgrind counted for `bench requests $1`.
count() {
    local out
    out="$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" requests "$1" 2>&1 >/dev/null)" || {
        echo "$out" | tail -20 >&2
        echo "instructions: bench requests $1 failed under valgrind" >&2
        exit 1
    }
    echo "$out" | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | tail -1
}

small="$(count "$SMALL")"
large="$(count "$LARGE")"
per=$(( (large - small) / (LARGE - SMALL) ))
printf 'instructions: %s requests %s, %s requests %s: %s instructions per request\n' \
    "$SMALL" "$small" "$LARGE" "$large" "$per"

if [ "${1:-}" = "--update" ]; then
    reason="${2:?give the reason for the new baseline}"
    {
        echo "# Instructions per gateway request, counted by bench/instructions.sh under callgrind"
        echo "# (release build, key auth + rate limit + metrics + backend hop, one thread)."
        echo "# $(date -u +%Y-%m-%d): $reason"
        echo "$per"
    } > "$BASELINE"
    echo "instructions: baseline set to $per"
    exit 0
fi

[ -f "$BASELINE" ] || { echo "instructions: no $BASELINE (run with --update REASON)" >&2; exit 1; }
base="$(grep -v '^#' "$BASELINE" | head -1)"
ratio="$(awk -v a="$per" -v b="$base" 'BEGIN { printf "%.3f", a / b }')"
echo "instructions: baseline $base, now $per: ${ratio}x (fails above $(awk -v t="$THRESHOLD" 'BEGIN { printf "%.2f", 1 + t / 100 }')x)"
if [ "$per" -gt $(( base + base * THRESHOLD / 100 )) ]; then
    echo "instructions: the hot path grew more than ${THRESHOLD} % over the baseline; if intended, run bench/instructions.sh --update REASON in the same commit" >&2
    exit 1
fi
