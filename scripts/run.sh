#!/usr/bin/env bash
# Build and serve Tollgate (release) on http://127.0.0.1:3000.
#
# Defaults (override by exporting before running):
#   DATABASE_URL             sqlite://data/tollgate.db?mode=rwc
#   TOLLGATE_ADMIN_EMAIL     admin@tollgate.local
#   TOLLGATE_ADMIN_PASSWORD  change-me-now-please  (the server warns when used)
#   RUST_LOG                 info,tollgate=info
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/tools.sh
. scripts/tools.sh

mkdir -p data
export DATABASE_URL="${DATABASE_URL:-sqlite://data/tollgate.db?mode=rwc}"
export TOLLGATE_ADMIN_EMAIL="${TOLLGATE_ADMIN_EMAIL:-admin@tollgate.local}"
export TOLLGATE_ADMIN_PASSWORD="${TOLLGATE_ADMIN_PASSWORD:-change-me-now-please}"
export RUST_LOG="${RUST_LOG:-info,tollgate=info}"

echo "run: DATABASE_URL=$DATABASE_URL"
echo "run: cargo leptos serve --release (http://127.0.0.1:3000)"
exec cargo leptos serve --release "$@"
