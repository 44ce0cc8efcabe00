#!/usr/bin/env bash
# Crash safety of management writes, the long version (issue 16): four writers through the REST
# API of the real server binary, `kill -9` of the server at a random moment, restart, and a check
# that every acknowledged write is there, nothing is half-written and SQLite's integrity_check
# is ok. 100 kills on SQLite (WAL, synchronous=FULL) and 20 on PostgreSQL by default; CI runs
# 3 and 2 (the same test, server/tests/crash_safety.rs).
#
# Usage: bench/faults/crash.sh            (CRASH_KILLS_SQLITE, CRASH_KILLS_POSTGRES to change)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export CRASH_KILLS_SQLITE="${CRASH_KILLS_SQLITE:-100}"
export CRASH_KILLS_POSTGRES="${CRASH_KILLS_POSTGRES:-20}"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export CI=1
echo "crash safety: $CRASH_KILLS_SQLITE kills on SQLite, $CRASH_KILLS_POSTGRES on PostgreSQL at $TEST_DATABASE_URL"
timeout 3600 cargo test -q -p server --test crash_safety -- --test-threads=1 --nocapture 2>&1 \
    | grep -E "^crash safety|test result|panicked|lost|half-written"
