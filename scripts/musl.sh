# Sourced by scripts/build-image and scripts/build-kubectl-berth: the
# static x86_64 musl build both ship, and the workspace version.
# Callers set ROOT and define die().

MUSL_TARGET=x86_64-unknown-linux-musl

# The musl target, and musl-gcc for the C parts of dependencies (ring,
# wasmtime's helpers), installed the way scripts/setup installs packages.
ensure_musl() {
    if ! rustup target list --installed | grep -qx "$MUSL_TARGET"; then
        rustup target add "$MUSL_TARGET" >&2
    fi
    if ! command -v musl-gcc >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y --no-install-recommends musl-tools >/dev/null 2>&1 \
            || { apt-get update >/dev/null && apt-get install -y --no-install-recommends musl-tools >/dev/null; } \
            || die "musl-tools (musl-gcc) is needed and could not be installed"
    fi
}

# `[workspace.package] version` of the root Cargo.toml.
workspace_version() {
    awk '/^\[workspace.package\]/ { p = 1; next } /^\[/ { p = 0 }
        p && $1 == "version" { v = $3; gsub(/"/, "", v); print v; exit }' "$ROOT/Cargo.toml"
}

# Builds the binaries of the given packages (-p NAME ...) statically,
# stripped, with cargo profile $1 (release or dev).
musl_build() {
    local cargo_profile="$1"; shift
    # Stripped through --config, not CARGO_PROFILE_* variables: those would
    # reach the nested wasm build of the built-in policies and change them.
    (cd "$ROOT" && cargo build --locked --target "$MUSL_TARGET" --profile "$cargo_profile" \
        --config "profile.$cargo_profile.strip=\"symbols\"" \
        --config "profile.$cargo_profile.debug=0" \
        "$@" --bins) >&2
}
