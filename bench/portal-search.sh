#!/usr/bin/env bash
# Portal catalog search with 100 / 1,000 / 10,000 published APIs (SQLite, release build):
# median time per search and the ratio to 100 APIs. Not a test: it prints figures.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo run --release --quiet -p service --example portal_search
