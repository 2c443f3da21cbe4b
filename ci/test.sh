#!/usr/bin/env bash
# The project's test command (README's second command; .ci/run calls it).
# Installs what is missing, builds, checks format and lints, brings the lab of real hosts
# up, runs every test (unit, CLI integration, lab integration), and brings the lab down.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s (%ss)\n' "$*" "$SECONDS"; }

# Runs of shakedown keep their default --state under here, never in the machine's own
# ~/.local/state (the test helpers give each test run its own directory too).
export XDG_STATE_HOME="$PWD/target/ci-state"
rm -rf "$XDG_STATE_HOME"

step "installing missing packages"
ci/install-deps.sh

step "format and lints"
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings

step "building"
cargo build --locked --all-targets

step "README first command: cargo run --release -- run examples/local"
cargo run --locked --release -q -- run examples/local --format pretty

if [ ! -d ../shared ]; then
  echo "note: ../shared is absent: the JUnit schema and Gherkin conformance checks are skipped"
fi

step "bringing the lab up"
trap 'step "bringing the lab down"; ci/lab.sh down || true' EXIT
ci/lab.sh up

step "tests"
export SHAKEDOWN_LAB=required
# The fault matrix, deadlines, canary, injection and malformed-input tests run once, below,
# through ci/faults.sh (which prints their table).
# set +e around the pipeline: under -e with pipefail a failing test binary would end this
# script here, and the consumers, package, faults and bench steps would never run.
rm -rf target/html-report  # written by tests/lab/html.rs, checked below
set +e
cargo test --locked --all-targets --no-fail-fast -- --nocapture \
  --skip faults:: --skip deadlines:: --skip canary:: --skip injection:: --skip malformed:: \
  2>&1 | tee target/test.log
status=${PIPESTATUS[0]}
set -e

step "HTML report of a mixed lab run (tests/lab/html.rs), kept as artifacts: target/html-report/{index.html,shakedown.css,report.png}"
if [ "$(head -c 4 target/html-report/report.png 2>/dev/null | tail -c 3)" != PNG ]; then
  echo "no screenshot of the HTML report in target/html-report/report.png"
  status=1
fi

step "report consumers (JUnit schema, junitparser, Cucumber JSON tools, Nagios 4, Icinga 2)"
ci/consumers.sh || status=1

step "Debian package: built (ci/package.sh), installed in a fresh root, used by a user and Nagios 4 on lab hosts, removed (ci/installed.sh)"
if ci/package.sh 2>&1 | tee target/package.log; then  # pipefail: package.sh's status
  ci/installed.sh "$(tail -1 target/package.log)" || status=1
else
  status=1
fi

step "minimum Rust version: rust-version in Cargo.toml, checked with that toolchain (ci/msrv.sh)"
ci/msrv.sh || status=1

step "faults: fault matrix, deadlines, signals, secrets canary, injection, malformed input, 200 hosts"
FAULTS_SCALE=1 ci/faults.sh || status=1

step "bench: every suite passes on healthy hosts and fails on each fault, then every configuration once (ci/bench.sh)"
# The benchmark itself is not a timed test: this shows that it runs from a fresh clone and
# writes its table and chart; the numbers in README come from full runs.
smoke=target/bench-smoke/results
mkdir -p "$(dirname "$smoke")"
# --behind-bastion: 4 more rows per delay (the floor and shakedown through the lab's bastion).
if ci/bench.sh --hosts 2 --runs 1 --delay 0,25 --behind-bastion --out "$smoke"; then
  rows=$(wc -l <"$smoke.tsv")
  configs=$(grep -cE '^\| [^|]+ \| [0-9]+ \|' "$smoke.md" || true)
  magic=$(head -c 4 "$smoke.png" | tail -c 3)
  echo "bench smoke: $rows runs, $configs table rows, chart: $magic"
  if [ "$rows" != 44 ] || [ "$configs" != 44 ] || [ "$magic" != PNG ]; then
    echo "bench smoke: expected 44 runs, 44 table rows and a PNG chart"
    status=1
  fi
else
  status=1
fi

step "done"
exit "$status"
