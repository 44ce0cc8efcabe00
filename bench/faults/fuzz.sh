#!/usr/bin/env bash
# Fuzzed input, the long version (issue 16): each proptest target of domain/tests/properties.rs,
# gateway/tests/properties.rs and service/tests/properties.rs runs for a bounded time, batch
# after batch with fresh random seeds, in an optimised build that keeps overflow checks and
# debug assertions (so that an overflow panics as in a debug build; profile `fuzz`, in
# target/fuzz). CI runs the same properties with PROPTEST_CASES' default in `cargo test`.
#
# Prints a table: target, properties, cases run, seconds, cases per second, failures (a panic
# or a broken promise). A target stops at its first failing batch: its log, with the shrunk
# input, is kept in target/fuzz-logs/TARGET.log, and proptest saves the seed in
# CRATE/tests/properties.proptest-regressions (commit it, and keep the input as a named
# regression test in the properties file). Exits 1 when a target failed.
#
# Usage: bench/faults/fuzz.sh [TARGET...]    (default: every target, as listed below)
#   FUZZ_MINUTES  minutes per target (default 10)
#   FUZZ_BATCH    cases per property of a target's first batch (default 200; a batch then grows
#                 while it takes under 20 s, and shrinks to what the time left allows)
#   FUZZ_THREADS  test threads (default 1)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
MINUTES="${FUZZ_MINUTES:-10}"
FIRST_BATCH="${FUZZ_BATCH:-200}"
THREADS="${FUZZ_THREADS:-1}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
LOGS="$TARGET_DIR/fuzz-logs"
# A batch that outlives its share of time by this much has hung: it is stopped.
STUCK_AFTER=300

# crate:prefix, a target per part of the issue.
ALL_TARGETS=(
    domain:names      # EntityName, Version, Email, EndpointUrl, Description, … (domain)
    domain:policies   # every policy configuration parser (domain::policy::PolicyConfig)
    domain:paths      # request path normalisation and path bounds (domain)
    gateway:routes    # request targets through split_path, the bounds, normalize_path
    gateway:keys      # API keys from X-API-Key or the query, BASIC, bearer tokens, addresses
    service:openapi   # the OpenAPI definition parser (service::apis::parse_definition)
    service:markdown  # the Markdown renderer (service::apis::render_markdown)
)
if [ "$#" -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi

# An optimised build with overflow checks and debug assertions, apart from release's artifacts.
CARGO_PROFILE=(
    --config 'profile.fuzz.inherits="release"'
    --config 'profile.fuzz.overflow-checks=true'
    --config 'profile.fuzz.debug-assertions=true'
)
declare -A BIN
crates=$(printf '%s\n' "${TARGETS[@]}" | cut -d: -f1 | sort -u)
echo "fuzz: building the property tests of $(echo "$crates" | tr '\n' ' ')(profile fuzz)"
for crate in $crates; do
    BIN[$crate]=$(cargo "${CARGO_PROFILE[@]}" test -q --profile fuzz -p "$crate" --test properties \
        --no-run --message-format=json \
        | jq -r 'select(.executable != null and .target.name == "properties") | .executable')
    [ -x "${BIN[$crate]}" ] || { echo "fuzz: no test binary for $crate" >&2; exit 2; }
done
mkdir -p "$LOGS"
echo "fuzz: ${#TARGETS[@]} targets, $MINUTES min each, $THREADS test thread(s)"

ROWS=()
FAILED=0
for target in "${TARGETS[@]}"; do
    crate=${target%%:*}
    prefix=${target#*:}
    bin=${BIN[$crate]}
    log="$LOGS/$crate-$prefix.log"
    props=$(cd "$ROOT/$crate" && "$bin" --list "${prefix}_" 2>/dev/null | grep -c ': test$' || true)
    [ "$props" -gt 0 ] || { echo "fuzz: no property named ${prefix}_* in $crate" >&2; exit 2; }
    start=$SECONDS
    deadline=$((start + MINUTES * 60))
    batch=$FIRST_BATCH cases=0 batches=0 status=ok failures=0
    : > "$log"
    while [ "$SECONDS" -lt "$deadline" ]; do
        left=$((deadline - SECONDS))
        began=$SECONDS
        # Each property of the target runs `batch` cases, from fresh random seeds.
        if (cd "$ROOT/$crate" && PROPTEST_CASES=$batch timeout -s KILL $((left + STUCK_AFTER)) \
            "$bin" "${prefix}_" --test-threads="$THREADS") > "$log.batch" 2>&1; then
            cases=$((cases + batch * props))
            batches=$((batches + 1))
            took=$((SECONDS - began))
            [ "$took" -gt 0 ] || took=1
            left=$((deadline - SECONDS))
            # Twice as many next time while a batch is quick, never more than the time left nor
            # than a minute's worth: a batch then overruns its share only when it hangs, not when
            # the machine got busier.
            next=$((batch * 2))
            [ "$took" -lt 20 ] || next=$batch
            span=$left
            [ "$span" -le 60 ] || span=60
            fits=$((batch * span / took))
            [ "$next" -le "$fits" ] || next=$fits
            [ "$next" -ge 10 ] || next=10
            batch=$next
        else
            rc=$?
            cat "$log.batch" >> "$log"
            if [ "$rc" -eq 137 ]; then
                status="stuck"
                failures=1
            else
                status="FAILED"
                failures=$(grep -c -- '\.\.\. FAILED$' "$log.batch" || true)
                grep -E 'minimal failing input|Test failed' "$log.batch" | sed "s/^/  $target: /" || true
            fi
            FAILED=1
            break
        fi
    done
    rm -f "$log.batch"
    took=$((SECONDS - start))
    [ "$took" -gt 0 ] || took=1
    echo "fuzz: $target: $cases cases in $batches batches, ${took}s, $status"
    ROWS+=("$(printf '%-18s %10s %12s %8s %10s %9s %s' "$target" "$props" "$cases" "$took" \
        $((cases / took)) "$failures" "$status")")
done

echo
printf '%-18s %10s %12s %8s %10s %9s %s\n' target properties "cases run" seconds "cases/s" failures status
printf '%s\n' "${ROWS[@]}"
exit "$FAILED"
