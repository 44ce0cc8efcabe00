# shellcheck shell=bash
# What the fault scripts share. Source it from the repository root after setting TMP (a
# temporary folder the script removes).

# Debian's nginx, wrk and curl, installed when missing (as root).
need_tools() {
    for tool in nginx wrk curl "$@"; do
        command -v "$tool" >/dev/null 2>&1 || apt-get install -y -qq --no-install-recommends "$tool" >/dev/null
    done
}

# Builds the release server and sets BIN (SERVER_BIN: use that binary instead, unbuilt).
release_server() {
    if [ -n "${SERVER_BIN:-}" ]; then
        BIN="$(readlink -f "$SERVER_BIN")"
        return
    fi
    cargo build --release --quiet -p server
    BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/server"
}

# A backend on 127.0.0.1:$1 answering 200 "ok" to everything (an nginx process; its pid file is
# $TMP/backend.pid).
start_backend() {
    cat > "$TMP/backend.conf" <<NGINX
worker_processes 1;
pid $TMP/backend.pid;
error_log $TMP/backend-error.log warn;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$1; location / { return 200 "ok"; } } }
NGINX
    nginx -c "$TMP/backend.conf" -p "$TMP"
}

# A fresh server secret and first administrator for a throwaway database.
throwaway_identity() {
    TOLLGATE_SECRET_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    export TOLLGATE_SECRET_KEY
    export TOLLGATE_ADMIN_EMAIL=ops@example.com TOLLGATE_ADMIN_PASSWORD="a long and private password"
}

# A random API key with a prefix.
random_key() { echo "$1-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"; }

# wrk's totals from its output file: "N requests, non-2xx: N, socket errors: …".
wrk_totals() {
    printf '%s requests, non-2xx: %s, socket errors: %s' \
        "$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$1")" \
        "$(sed -n 's/^ *Non-2xx or 3xx responses: *//p' "$1" | grep . || echo 0)" \
        "$(sed -n 's/^ *Socket errors: *//p' "$1" | grep . || echo none)"
}
