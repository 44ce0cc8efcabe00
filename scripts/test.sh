#!/usr/bin/env bash
# Tollgate's full check suite, fail-fast:
#   1. cargo fmt --check
#   2. clippy (native crates, all targets) + clippy (frontend on wasm32)
#   3. unit + integration tests (the integration tests run every scenario on
#      SQLite and on PostgreSQL at $TEST_DATABASE_URL; the JWT tests start a real
#      OpenID provider, npm ci'd in gateway/tests/oidc, which the e2e JWT spec uses too)
#   4. Playwright end-to-end tests against a release build
#      (cargo leptos end-to-end --release, fresh SQLite database)
#   5. schemathesis against the REST API of that release build (scripts/schemathesis.sh:
#      its own server, database and token; schemathesis from PyPI in .tools/schemathesis)
#   6. the gateway's instructions per request under callgrind against the committed baseline
#      (bench/instructions.sh: fails more than 10 % over it)
#
# Usage: scripts/test.sh [fmt] [clippy] [test] [e2e] [schemathesis] [instructions]
#        (default: all steps)
set -euo pipefail

# A full check is one clean build: incremental artifacts would only cost disk space.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

START=$SECONDS
cd "$(dirname "${BASH_SOURCE[0]}")/.."

E2E_TMP=""
finish() {
    local rc=$?
    if [ -n "$E2E_TMP" ] && [ -d "$E2E_TMP" ]; then
        rm -rf "$E2E_TMP"
    fi
    local t=$((SECONDS - START))
    echo
    if [ "$rc" -eq 0 ]; then
        printf '==> test.sh: OK, total elapsed %dm%02ds\n' $((t / 60)) $((t % 60))
    else
        printf '==> test.sh: FAILED (exit %d), total elapsed %dm%02ds\n' "$rc" $((t / 60)) $((t % 60)) >&2
    fi
}
trap finish EXIT

STEP=0
step() {
    STEP=$((STEP + 1))
    echo
    echo "==> [$STEP] $* ($(date -u +%H:%M:%S)Z, +$((SECONDS - START))s)"
}

# Which steps to run.
RUN_FMT=0 RUN_CLIPPY=0 RUN_TEST=0 RUN_E2E=0 RUN_SCHEMATHESIS=0 RUN_INSTRUCTIONS=0
if [ "$#" -eq 0 ]; then
    RUN_FMT=1 RUN_CLIPPY=1 RUN_TEST=1 RUN_E2E=1 RUN_SCHEMATHESIS=1 RUN_INSTRUCTIONS=1
fi
for arg in "$@"; do
    case "$arg" in
        fmt) RUN_FMT=1 ;;
        clippy) RUN_CLIPPY=1 ;;
        test) RUN_TEST=1 ;;
        e2e) RUN_E2E=1 ;;
        schemathesis) RUN_SCHEMATHESIS=1 ;;
        instructions) RUN_INSTRUCTIONS=1 ;;
        *) echo "usage: $0 [fmt] [clippy] [test] [e2e] [schemathesis] [instructions]" >&2; exit 2 ;;
    esac
done

step "tools"
# shellcheck source=scripts/tools.sh
. scripts/tools.sh

if [ "$RUN_E2E" -eq 1 ]; then
    step "end-to-end test dependencies (chromium, npm ci, tsc)"
    CHROMIUM_BIN="${CHROMIUM_PATH:-/usr/bin/chromium}"
    if [ ! -x "$CHROMIUM_BIN" ]; then
        echo "installing Debian chromium ..."
        _tg_apt_install chromium
    fi
    if [ ! -x "$CHROMIUM_BIN" ]; then
        echo "chromium not found at $CHROMIUM_BIN" >&2
        exit 1
    fi
    echo "chromium: $("$CHROMIUM_BIN" --version 2>/dev/null || echo "$CHROMIUM_BIN")"
    # Never download Playwright's own browsers: we use Debian's chromium.
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    echo "playwright: $(cd end2end && npx --no-install playwright --version)"
    (cd end2end && ./node_modules/.bin/tsc --noEmit -p .)
    echo "end2end: typecheck ok"
fi

if [ "$RUN_FMT" -eq 1 ]; then
    step "cargo fmt --all -- --check"
    cargo fmt --all -- --check
fi

if [ "$RUN_CLIPPY" -eq 1 ]; then
    step "cargo clippy -p domain -p service -p app -p server -p gateway --all-targets -- -D warnings"
    cargo clippy -p domain -p service -p app -p server -p gateway --all-targets -- -D warnings

    step "cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings"
    cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
fi

if [ "$RUN_TEST" -eq 1 ] || [ "$RUN_E2E" -eq 1 ]; then
    # gateway/tests/jwt.rs and end2end/tests/jwt.spec.ts run a real OpenID provider
    # (oidc-provider) under Node.
    step "test OpenID provider (npm ci in gateway/tests/oidc)"
    (cd gateway/tests/oidc && npm ci --no-audit --no-fund --loglevel=error)
    echo "oidc-provider: $(cd gateway/tests/oidc && node -p "require('oidc-provider/package.json').version")"
fi

if [ "$RUN_TEST" -eq 1 ]; then

    export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
    step "cargo test -p domain -p service -p app -p server -p gateway, one test at a time (SQLite + PostgreSQL at $TEST_DATABASE_URL)"
    if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -d "$TEST_DATABASE_URL"; then
        echo "WARNING: PostgreSQL at $TEST_DATABASE_URL does not answer pg_isready" >&2
    fi
    # Bounded: a test that hangs fails this step within 30 minutes instead of using up CI's
    # limit. One test at a time: the server's tests each start their own runtime around
    # Leptos' one process-wide executor (most held `ONE_AT_A_TIME` anyway).
    timeout --kill-after=10 1800 cargo test -p domain -p service -p app -p server -p gateway -- --test-threads=1
fi

if [ "$RUN_E2E" -eq 1 ]; then
    step "cargo leptos end-to-end --release (Playwright, headless Debian chromium)"
    if (exec 3<>/dev/tcp/127.0.0.1/3000) 2>/dev/null; then
        echo "something is already listening on 127.0.0.1:3000; stop it first (the tests would hit it)" >&2
        exit 1
    fi
    E2E_TMP="$(mktemp -d -t tollgate-e2e.XXXXXX)"
    export DATABASE_URL="sqlite://$E2E_TMP/e2e.db?mode=rwc"
    export TOLLGATE_ADMIN_EMAIL=admin@tollgate.local
    export TOLLGATE_ADMIN_PASSWORD=change-me-now-please
    # The gateway on its own port, so that nothing else on this machine answers the specs.
    export TOLLGATE_GATEWAY_LISTEN="${TOLLGATE_GATEWAY_LISTEN:-127.0.0.1:8089}"
    export TOLLGATE_GATEWAY_URL="${TOLLGATE_GATEWAY_URL:-http://$TOLLGATE_GATEWAY_LISTEN}"
    if (exec 3<>"/dev/tcp/${TOLLGATE_GATEWAY_LISTEN%:*}/${TOLLGATE_GATEWAY_LISTEN##*:}") 2>/dev/null; then
        echo "something is already listening on $TOLLGATE_GATEWAY_LISTEN; stop it first" >&2
        exit 1
    fi
    export RUST_LOG="${RUST_LOG:-info,tollgate=info}"
    echo "DATABASE_URL=$DATABASE_URL"
    cargo leptos end-to-end --release
fi

if [ "$RUN_SCHEMATHESIS" -eq 1 ]; then
    step "schemathesis against the release server's REST API (scripts/schemathesis.sh)"
    if [ "$RUN_E2E" -ne 1 ]; then
        # Alone, it builds the release binary the e2e step would have built.
        cargo leptos build --release
    fi
    # Within ~4 minutes: 30 examples per operation, and a hard timeout inside the script.
    timeout --kill-after=10 240 scripts/schemathesis.sh
fi

if [ "$RUN_INSTRUCTIONS" -eq 1 ]; then
    step "instructions per gateway request under callgrind (bench/instructions.sh)"
    timeout --kill-after=10 900 bench/instructions.sh
fi
