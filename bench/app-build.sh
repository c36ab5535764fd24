#!/usr/bin/env bash
# Cold build of an application that uses statewright as the README shows
# (examples/app: build.rs codegen + the runtime), outside this workspace so
# that it gets an application's own default profile.
#
#   bench/app-build.sh [STATEWRIGHT_CHECKOUT] [JOBS]
#
# Copies examples/app of this checkout to a temporary folder, points its
# path dependencies at STATEWRIGHT_CHECKOUT (default: this checkout; give
# an older checkout to measure "before"), pins the crates with this
# checkout's Cargo.lock, builds it with a fresh CARGO_TARGET_DIR and
# -j JOBS (default 2), prints the wall time and the number of crates
# compiled, and deletes everything it made.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
lib="$(cd "${1:-$here}" && pwd)"
jobs="${2:-2}"
tmp="$(mktemp -d /tmp/statewright-app-build.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
cp -r "$here/examples/app" "$tmp/app"
cp "$here/Cargo.lock" "$tmp/app/Cargo.lock"
cd "$tmp/app"
python3 - "$lib" <<'PY'
import re, sys
lib = sys.argv[1]
s = open("Cargo.toml").read()
s = s.replace('path = "../.."', f'path = "{lib}"').replace('path = "../../codegen"', f'path = "{lib}/codegen"')
s = re.sub(r'(\w[\w-]*)\.workspace = true', lambda m: {
    "version": 'version = "0.1.0"', "edition": 'edition = "2024"',
    "rust-version": 'rust-version = "1.89"', "license": 'license = "MIT OR Apache-2.0"'}[m.group(1)], s)
open("Cargo.toml", "w").write(s + "\n[workspace]\n")
PY
start=$(date +%s.%N)
if ! CARGO_TARGET_DIR="$tmp/target" cargo build -j "$jobs" --message-format short 2> "$tmp/log"; then
  tail -30 "$tmp/log" >&2
  exit 1
fi
end=$(date +%s.%N)
crates=$(grep -c '^ *Compiling ' "$tmp/log" || true)
printf 'statewright: %s\ncold build: %.0f s with -j %s, %s crates compiled\n' "$lib" "$(echo "$end - $start" | bc)" "$jobs" "$crates"
