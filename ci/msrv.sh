#!/usr/bin/env bash
# ci/msrv.sh: the minimum Rust version stated in Cargo.toml (`rust-version`) is true.
#   1. every locked package (dependencies included) declares a rust-version no newer than ours
#      (cargo metadata): a dependency update that needs a newer Rust fails here;
#   2. that very toolchain (rustup toolchain install, minimal profile) checks every target
#      with the locked dependencies (`cargo +VERSION check --locked --all-targets`), so code
#      that uses a newer language feature or std API fails here too (clippy's
#      incompatible_msrv lint, in `cargo clippy -- -D warnings`, names such APIs earlier).
# Own target dir (target/msrv): the main build is not disturbed.
# Usage: ci/msrv.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

msrv=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
[ -n "$msrv" ] || { echo "msrv: no rust-version in Cargo.toml" >&2; exit 1; }
echo "msrv: rust-version = $msrv"

cargo metadata --format-version 1 --locked | python3 -c '
import json, sys
msrv = tuple(int(x) for x in sys.argv[1].split("."))
def v(s): return tuple(int(x) for x in s.split(".")) + (0,) * (3 - len(s.split(".")))
newer = [(p["name"], p["version"], p["rust_version"]) for p in json.load(sys.stdin)["packages"]
         if p.get("rust_version") and v(p["rust_version"]) > v(".".join(map(str, msrv)))]
for name, version, rv in newer:
    print(f"msrv: {name} {version} needs Rust {rv}")
sys.exit(1 if newer else 0)
' "$msrv"
echo "msrv: every locked package supports Rust $msrv"

if ! rustup run "$msrv" rustc --version >/dev/null 2>&1; then
  rustup toolchain install "$msrv" --profile minimal --no-self-update
fi
CARGO_TARGET_DIR=$ROOT/target/msrv cargo "+$msrv" check --locked --all-targets --quiet
echo "msrv: cargo +$msrv check --locked --all-targets passes ($(rustup run "$msrv" rustc --version)), ${SECONDS}s"
