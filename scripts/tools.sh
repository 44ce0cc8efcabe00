# shellcheck shell=bash
# Tollgate toolchain bootstrap. Source it, don't run it:
#
#     . scripts/tools.sh
#
# Idempotent: installs only what is missing, prints one line per tool and
# leaves the shell in the repository root with PATH set up so that
# cargo-leptos picks wasm-bindgen and wasm-opt from PATH (it never needs to
# download anything). Works under `set -euo pipefail` and also without it:
# every step checks its own result and the whole file returns non-zero on
# the first failure.
#
# Pinned tools:
#   - cargo-leptos 0.3.10 (cargo install --locked)
#   - wasm-bindgen-cli == the wasm-bindgen version in Cargo.lock
#   - wasm-opt from the npm package binaryen@132, installed in .tools/binaryen
#     (Debian's wasm-opt 108 silently breaks hydration: never use it)

_tg_log() { printf 'tools: %s\n' "$*"; }
_tg_err() { printf 'tools: ERROR: %s\n' "$*" >&2; }

# Run a command as root: directly when root, through sudo when available.
_tg_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        _tg_err "need root (or sudo) to run: $*"
        return 1
    fi
}

_TG_APT_UPDATED=0
# apt-get install the given packages (apt-get update once per shell first).
_tg_apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        _tg_err "apt-get not found; install manually: $*"
        return 1
    fi
    if [ "$_TG_APT_UPDATED" -eq 0 ]; then
        _tg_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
        _TG_APT_UPDATED=1
    fi
    _tg_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" || return 1
}

_tg_setup() {
    local root out v want

    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return 1
    cd "$root" || return 1

    # cargo-installed binaries first; binaryen's wasm-opt goes in front later.
    export PATH="$HOME/.cargo/bin:$PATH"

    # --- Rust: wasm target + rustfmt/clippy ---------------------------------
    if ! command -v rustup >/dev/null 2>&1 || ! command -v cargo >/dev/null 2>&1; then
        _tg_err "rustup/cargo not found (install Rust with rustup first)"
        return 1
    fi
    out="$(rustup target list --installed)" || return 1
    if ! printf '%s\n' "$out" | grep -qx 'wasm32-unknown-unknown'; then
        rustup target add wasm32-unknown-unknown || return 1
    fi
    out="$(rustup component list --installed)" || return 1
    if ! printf '%s\n' "$out" | grep -q '^rustfmt' || ! printf '%s\n' "$out" | grep -q '^clippy'; then
        rustup component add rustfmt clippy || return 1
    fi
    _tg_log "rust $(rustc --version | awk '{print $2}') + wasm32-unknown-unknown, rustfmt, clippy"

    # --- cargo-leptos 0.3.10 -------------------------------------------------
    want="0.3.10"
    out="$(cargo leptos --version 2>/dev/null || true)"
    if ! printf '%s\n' "$out" | grep -qw "${want//./\\.}"; then
        _tg_log "installing cargo-leptos $want (found: ${out:-none}) ..."
        cargo install cargo-leptos --version "$want" --locked || return 1
        out="$(cargo leptos --version 2>/dev/null || true)"
        if ! printf '%s\n' "$out" | grep -qw "${want//./\\.}"; then
            _tg_err "cargo-leptos $want expected, got: ${out:-nothing}"
            return 1
        fi
    fi
    _tg_log "cargo-leptos $want"

    # --- wasm-bindgen-cli == wasm-bindgen in Cargo.lock ---------------------
    if [ ! -f Cargo.lock ]; then
        _tg_err "Cargo.lock not found in $root"
        return 1
    fi
    want="$(awk '
        $0 == "[[package]]" { inpkg = 1; next }
        inpkg && $0 == "name = \"wasm-bindgen\"" { found = 1; next }
        found && $1 == "version" { gsub(/"/, "", $3); print $3; exit }
        /^$/ { inpkg = 0; found = 0 }
    ' Cargo.lock)"
    if [ -z "$want" ]; then
        _tg_err "could not find the wasm-bindgen version in Cargo.lock"
        return 1
    fi
    out="$(wasm-bindgen --version 2>/dev/null || true)"
    if [ "$(printf '%s\n' "$out" | awk '{print $2}')" != "$want" ]; then
        _tg_log "installing wasm-bindgen-cli $want (found: ${out:-none}) ..."
        cargo install wasm-bindgen-cli --version "=$want" || return 1
        out="$(wasm-bindgen --version 2>/dev/null || true)"
        if [ "$(printf '%s\n' "$out" | awk '{print $2}')" != "$want" ]; then
            _tg_err "wasm-bindgen $want expected, got: ${out:-nothing}"
            return 1
        fi
    fi
    _tg_log "wasm-bindgen $want"

    # --- curl (with HTTP/2) and openssl: the gateway's TLS tests drive them --
    if ! command -v curl >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then
        _tg_log "installing curl + openssl via apt ..."
        _tg_apt_install curl openssl || return 1
    fi
    if ! curl -V | grep -q 'HTTP2'; then
        _tg_err "curl lacks HTTP/2 support (server/tests/gateway_tls.rs needs it)"
        return 1
    fi

    # --- node + npm ----------------------------------------------------------
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        _tg_log "installing nodejs + npm via apt ..."
        if ! command -v node >/dev/null 2>&1; then
            _tg_apt_install nodejs || return 1
        fi
        # A NodeSource nodejs bundles npm; Debian's does not.
        if ! command -v npm >/dev/null 2>&1; then
            _tg_apt_install npm || return 1
        fi
    fi
    v="$(node --version)" || return 1
    if [ "${v#v}" != "$v" ] && [ "$(printf '%s' "${v#v}" | cut -d. -f1)" -lt 20 ] 2>/dev/null; then
        _tg_log "WARNING: node $v is older than 20 (Playwright needs >= 20)"
    fi
    _tg_log "node $v, npm $(npm --version)"

    # --- redis-server (gateway/tests/redis_outage.rs stops and starts its own) ---
    if ! command -v redis-server >/dev/null 2>&1; then
        _tg_log "installing redis-server via apt ..."
        _tg_apt_install redis-server || return 1
    fi

    # --- valgrind (bench/instructions.sh: the gateway's instructions per request) ---
    if ! command -v valgrind >/dev/null 2>&1; then
        _tg_log "installing valgrind via apt ..."
        _tg_apt_install valgrind || return 1
    fi
    _tg_log "$(valgrind --version)"

    # --- wasm-opt (binaryen@132 from npm, repo-local) -----------------------
    want="132"
    out="$(.tools/binaryen/node_modules/.bin/wasm-opt --version 2>/dev/null || true)"
    if ! printf '%s\n' "$out" | grep -q "version $want"; then
        _tg_log "installing binaryen@$want (wasm-opt) into .tools/binaryen ..."
        mkdir -p .tools/binaryen || return 1
        npm install --prefix .tools/binaryen --no-audit --no-fund --loglevel=error "binaryen@$want" || return 1
    fi
    export PATH="$root/.tools/binaryen/node_modules/.bin:$HOME/.cargo/bin:$PATH"
    hash -r
    out="$(wasm-opt --version 2>/dev/null || true)"
    if ! printf '%s\n' "$out" | grep -q "version $want"; then
        _tg_err "wasm-opt on PATH ($(command -v wasm-opt || echo none)) reports '${out:-nothing}', need version $want"
        _tg_err "refusing to continue: an older wasm-opt silently breaks hydration"
        return 1
    fi
    _tg_log "wasm-opt $want ($(command -v wasm-opt))"
}

if ! _tg_setup; then
    _tg_err "tool setup failed"
    # `return` when sourced (the normal case), `exit` if run directly.
    # shellcheck disable=SC2317
    return 1 2>/dev/null || exit 1
fi
