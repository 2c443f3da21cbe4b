#!/usr/bin/env bash
# ci/faults.sh: "never hang, never leak, never harm" (issue 9), against the lab of real hosts.
# Runs the fault matrix (tests/lab/faults.rs: each fault injected for real, one at a time,
# one suite over every lab host; prints the table fault -> detected? -> message -> time and
# writes it to target/faults-table.md), the deadline and signal tests, the secrets canary,
# the injection corpus, the malformed-input corpus and, with FAULTS_SCALE=1 (as in CI), the
# 200-host scale run. Exits non-zero if any fault is not detected or any test fails.
# Assumes the lab is up (ci/test.sh leaves it up); brings it up otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

export SHAKEDOWN_LAB=required
export FAULTS_TABLE="${FAULTS_TABLE:-$PWD/target/faults-table.md}"
mkdir -p "$(dirname "$FAULTS_TABLE")"
rm -f "$FAULTS_TABLE"

if ! ci/lab.sh status >/dev/null 2>&1; then
  ci/lab.sh up
fi

status=0
# The matrix, deadlines, signals, canary, injection (lab) and malformed input (no lab).
cargo test --locked --test lab -- --nocapture --test-threads 1 \
  faults:: deadlines:: canary:: injection:: || status=1
cargo test --locked --test cli -- --nocapture malformed:: || status=1

if [ "${FAULTS_SCALE:-0}" = 1 ]; then
  cargo test --locked --test lab -- --nocapture --ignored scale:: || status=1
fi

echo
if [ -s "$FAULTS_TABLE" ]; then
  cat "$FAULTS_TABLE"
  if grep -q '| NO |' "$FAULTS_TABLE"; then
    echo "ci/faults.sh: some fault was not detected" >&2
    status=1
  fi
else
  echo "ci/faults.sh: no fault table was written" >&2
  status=1
fi
exit "$status"
