#!/usr/bin/env bash
# Runs the keyring tests (tests/auth_keyring.rs) against a throwaway
# gnome-keyring on a private D-Bus, with a private HOME and XDG dirs: they
# never use, change or leave a keyring of the machine's or the user's.
# Arguments go to cargo test, e.g. `tests/private-keyring.sh --locked`.
# Needs gnome-keyring-daemon and dbus-run-session (Debian: gnome-keyring, dbus).
set -euo pipefail
cd "$(dirname "$0")/.."

private=$(mktemp -d)
trap 'rm -rf "$private"' EXIT
mkdir -m 700 "$private/home" "$private/data" "$private/config" "$private/cache" "$private/runtime"

# cargo and rustup find themselves through HOME unless told otherwise.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export HOME="$private/home" XDG_DATA_HOME="$private/data" XDG_CONFIG_HOME="$private/config" \
    XDG_CACHE_HOME="$private/cache" XDG_RUNTIME_DIR="$private/runtime"

# The daemon makes its "login" keyring under XDG_DATA_HOME, unlocked with a
# throwaway password, and leaves with the private bus.
dbus-run-session -- sh -c '
    echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    GBOOKS_TEST_KEYRING=1 cargo test "$@" --test tests keyring -- --ignored
' sh "$@"
