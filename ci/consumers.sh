#!/usr/bin/env bash
# Feeds shakedown's reports to the real programs that read them, on passing and failing
# runs (and on the golden files of tests/reports.rs):
#   JUnit         xmllint against ../shared/schemas/JUnit.xsd, junitparser (PyPI) counts
#   Cucumber JSON @cucumber/cucumber-json-converter (npm) validation, cucumber-html-reporter
#                 (npm) report with the right passed/failed counts
#   check         Nagios 4 core (Debian nagios4-core) runs `shakedown check` as service
#                 checks; the state, plugin output and perfdata Nagios recorded in its
#                 status.dat are asserted for an OK, a WARNING, a CRITICAL and UNKNOWN services,
#                 and every perfdata threshold Nagios recorded is read by the Monitoring
#                 Plugins' own range parser (Monitoring::Plugin::Range, Debian
#                 libmonitoring-plugin-perl): a value alerts exactly when its scenario failed.
# Runs on this machine (local transport); with a lab up (ci/lab.sh up, LAB_DIR or .lab) it
# also runs a passing and a failing lab suite through every consumer and Nagios services on
# lab hosts. Installs what it needs under target/ (venv, npm) and leaves no daemon running.
# Usage: ci/consumers.sh   (after cargo build; SHAKEDOWN_BIN overrides the binary)
set -euo pipefail
# shellcheck source=ci/lab/nagios.sh
. "$(dirname "$0")/lab/nagios.sh"
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${SHAKEDOWN_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/shakedown}
TOOLS=$ROOT/target
SCHEMA=$ROOT/../shared/schemas/JUnit.xsd
LAB=${LAB_DIR:-$ROOT/.lab}
WORK=$(mktemp -d /tmp/shakedown-consumers.XXXXXX)
chmod 755 "$WORK"
NAGIOS_PID=
LISTEN_PID=
failures=0

# Stops our Nagios and waits for its workers (their command line holds our config path).
stop_nagios() {
  [ -n "$NAGIOS_PID" ] || return 0
  kill "$NAGIOS_PID" 2>/dev/null || true
  wait "$NAGIOS_PID" 2>/dev/null || true
  NAGIOS_PID=
  local pids
  for _ in $(seq 50); do
    pids=$(pgrep -f -- "$WORK/nagios/" || true)
    [ -z "$pids" ] && return 0
    sleep 0.1
  done
  kill $pids 2>/dev/null || true
}

cleanup() {
  stop_nagios
  if [ -n "$LISTEN_PID" ]; then kill "$LISTEN_PID" 2>/dev/null || true; wait "$LISTEN_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '\n--- %s\n' "$*"; }
ok() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }

[ -x "$BIN" ] || { echo "consumers: no binary at $BIN (cargo build first)" >&2; exit 1; }

# ------------------------------------------------------------------ installing the consumers
say "installing the consumers (under target/)"
install_debs() {
  # As ci/install-deps.sh: no daemon may start in the root namespace during the install.
  local created=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && created=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null || {
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
  if [ -n "$created" ]; then rm -f /usr/sbin/policy-rc.d; fi
}
command -v xmllint >/dev/null || install_debs libxml2-utils
command -v nagios4 >/dev/null || install_debs nagios4-core
command -v icinga2 >/dev/null || install_debs icinga2-bin
perl -MMonitoring::Plugin::Range -e 1 2>/dev/null || install_debs libmonitoring-plugin-perl
if [ ! -x "$TOOLS/venv/bin/python" ]; then python3 -m venv "$TOOLS/venv"; fi
"$TOOLS/venv/bin/python" -c 'import junitparser' 2>/dev/null || "$TOOLS/venv/bin/pip" install -q junitparser==5.0.3
if [ ! -d "$TOOLS/npm/node_modules/cucumber-html-reporter" ] || [ ! -d "$TOOLS/npm/node_modules/@cucumber/cucumber-json-converter" ]; then
  npm install --silent --no-fund --no-audit --prefix "$TOOLS/npm" @cucumber/cucumber-json-converter@0.0.3 cucumber-html-reporter@7.2.0 >/dev/null
fi
PY=$TOOLS/venv/bin/python
export NODE_PATH=$TOOLS/npm/node_modules
echo "xmllint, junitparser $("$PY" -c 'import importlib.metadata as m; print(m.version("junitparser"))'), node $(node --version), $(nagios4 --version | sed -n 's/^Nagios Core /Nagios Core /p' | head -1)"

# ------------------------------------------------------------------ JUnit and JSON checkers
# check_junit FILE TESTS FAILURES ERRORS SKIPPED
check_junit() {
  local file=$1
  if [ -f "$SCHEMA" ]; then
    if xmllint --noout --schema "$SCHEMA" "$file" 2>"$WORK/xmllint.err"; then ok "xmllint: $file validates"; else fail "xmllint: $file: $(cat "$WORK/xmllint.err")"; fi
  else
    echo "note: ../shared is absent: the JUnit schema validation of $file is skipped"
  fi
  if "$PY" - "$@" <<'EOF'; then ok "junitparser: $file tests/failures/errors/skipped = $2/$3/$4/$5"; else fail "junitparser: $file"; fi
import sys
from junitparser import JUnitXml, Failure, Error, Skipped
path, want = sys.argv[1], tuple(int(x) for x in sys.argv[2:6])
xml = JUnitXml.fromfile(path)
cases = [c for suite in xml for c in suite]
counts = (len(cases),
          sum(any(isinstance(r, Failure) for r in c.result) for c in cases),
          sum(any(isinstance(r, Error) for r in c.result) for c in cases),
          sum(any(isinstance(r, Skipped) for r in c.result) for c in cases))
suites = (sum(s.tests for s in xml), sum(s.failures for s in xml), sum(s.errors for s in xml))
names = [(c.classname, c.name) for c in cases]
problems = []
if counts != want: problems.append(f"testcase counts {counts} != {want}")
if suites != want[:3]: problems.append(f"testsuite attributes {suites} != {want[:3]}")
if len(set(names)) != len(names): problems.append(f"duplicate testcase names {names}")
if any(not c.classname for c in cases): problems.append("a testcase without classname")
for p in problems: print("   ", p)
sys.exit(1 if problems else 0)
EOF
}

# check_json FILE TOTAL PASSED FAILED SKIPPED: the converter accepts it, and the HTML report
# made from it shows these scenario counts (its summary cards).
check_json() {
  local file=$1 html=$WORK/$(basename "$1").html
  if node -e '
      const { convert } = require("@cucumber/cucumber-json-converter");
      const doc = convert(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")));
      console.log("    accepted (as " + doc.implementation + ")");' "$file"; then
    ok "cucumber-json-converter: $file"
  else
    fail "cucumber-json-converter: $file"
  fi
  if ! node -e '
      require("cucumber-html-reporter").generate({ theme: "bootstrap", jsonFile: process.argv[1],
        output: process.argv[2], reportSuiteAsScenarios: true, launchReport: false, metadata: {} });' \
      "$file" "$html" >/dev/null 2>&1 || [ ! -s "$html" ]; then
    fail "cucumber-html-reporter: no report from $file"
    return
  fi
  local got
  got=$("$PY" - "$html" <<'PYEOF'
import re, sys
html = open(sys.argv[1]).read()
cards = dict(re.findall(r"<h4>(\w+) Scenarios</h2>\s*</div>\s*<div class=\"feature-value\">\s*<h5>\s*(\d+)", html))
print(" ".join(cards.get(k, "0") for k in ("All", "Passed", "Failed", "Skipped")))
PYEOF
)
  if [ "$got" = "$2 $3 $4 $5" ]; then
    ok "cucumber-html-reporter: $file shows $2 scenarios: $3 passed, $4 failed, $5 skipped"
  else
    fail "cucumber-html-reporter: $file shows all/passed/failed/skipped $got; expected $2 $3 $4 $5"
  fi
}

# ------------------------------------------------------------------ local suites
say "local runs"
# A listener for the measured step (connect time in perfdata), stopped on exit.
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$PY" -m http.server --bind 127.0.0.1 "$PORT" >/dev/null 2>&1 &
LISTEN_PID=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.1; done
S=$WORK/suite
mkdir -p "$S"
cat >"$S/pass.feature" <<EOF
Feature: This machine answers
  Scenario: The kernel answers
    When I run "uname -s"
    Then the command should succeed

  Scenario: The listener is quick
    Then TCP port $PORT on "127.0.0.1" should be open within 2000 ms
EOF
cat >"$S/warning.feature" <<'EOF'
Feature: Soft checks
  Scenario: The kernel answers
    When I run "uname -s"
    Then the command should succeed

  @warning
  Scenario: Nice to have
    When I run "true"
    Then the command should fail
EOF
cat >"$S/critical.feature" <<'EOF'
Feature: Hard checks v1.0
  Scenario: Greeting
    When I run "echo hello"
    Then the output should contain "bye"
    And the command should succeed

  @warning
  Scenario: Nice to have
    When I run "true"
    Then the command should fail

  Scenario: The kernel answers
    When I run "uname -s"
    Then the command should succeed
EOF
# Two files that share a Feature (and scenario) name: test names stay unique across files.
mkdir -p "$S/twins/a" "$S/twins/b"
cat >"$S/twins/a/web.feature" <<'EOF'
Feature: Twins
  Scenario: Ping
    When I run "true"
    Then the command should succeed
EOF
cat >"$S/twins/b/web.feature" <<'EOF'
Feature: Twins
  Scenario: Ping
    When I run "false"
    Then the command should succeed
EOF
# Numbers a pack measures against each kind of limit, inside, on and beyond it: the
# Nagios service below checks every threshold with the Monitoring Plugins' range parser.
mkdir -p "$S/steps"
cp fixtures/measure/numbers.toml "$S/steps/numbers.toml"
cat >"$S/numbers.feature" <<'EOF'
Feature: Numbers
  Scenario Outline: between <n>
    Then the number <n> should be between 1 and 8
    Examples:
      | n |
      | 0 |
      | 1 |
      | 8 |
      | 9 |

  Scenario Outline: under <n>
    Then the number <n> should be under 8
    Examples:
      | n |
      | 7 |
      | 8 |

  Scenario Outline: at most <n>
    Then the number <n> should be at most 8
    Examples:
      | n |
      | -3 |
      | 9 |

  Scenario Outline: over <n>
    Then the number <n> should be over 0
    Examples:
      | n |
      | 0 |
      | 1 |

  Scenario Outline: at least <n>
    Then the number <n> should be at least 1
    Examples:
      | n |
      | 0 |
      | 2 |
EOF
cat >"$S/slow.feature" <<'EOF'
Feature: Slow
  Scenario: Quick
    When I run "true"
  Scenario: Stuck
    When I run "sleep 30"
EOF
chmod -R a+rX "$S"

run_reports() { # NAME EXPECTED_EXIT ARGS...
  local name=$1 want=$2 code=0
  shift 2
  (cd "$S" && "$BIN" run "$@" --format quiet --junit "$WORK/$name.xml" --json "$WORK/$name.json" >"$WORK/$name.out" 2>&1) || code=$?
  if [ "$code" = "$want" ]; then ok "run $name exits $code"; else fail "run $name exits $code, expected $want: $(cat "$WORK/$name.out")"; fi
}
run_reports local-pass 0 pass.feature
check_junit "$WORK/local-pass.xml" 2 0 0 0
check_json "$WORK/local-pass.json" 2 2 0 0
run_reports local-fail 1 critical.feature warning.feature
check_junit "$WORK/local-fail.xml" 5 3 0 0
check_json "$WORK/local-fail.json" 5 2 3 0
run_reports local-timeout 1 slow.feature --timeout 1s
check_junit "$WORK/local-timeout.xml" 2 0 1 0
check_json "$WORK/local-timeout.json" 2 1 1 0
run_reports local-twins 1 twins/a twins/b
check_junit "$WORK/local-twins.xml" 2 1 0 0
check_json "$WORK/local-twins.json" 2 1 1 0
if "$PY" - "$WORK/local-twins.json" <<'EOF'; then ok "cucumber json: ids unique across two files sharing a feature name"; else fail "cucumber json: duplicate ids"; fi
import json, sys
doc = json.load(open(sys.argv[1]))
ids = [f["id"] for f in doc] + [e["id"] for f in doc for e in f["elements"]]
print("    ids:", ids)
sys.exit(0 if len(ids) == len(set(ids)) else 1)
EOF

say "golden files (tests/reports.rs)"
check_junit fixtures/golden/passing.junit.xml 3 0 0 0
check_junit fixtures/golden/warning.junit.xml 4 1 0 0
check_junit fixtures/golden/failing.junit.xml 7 2 1 1
check_junit fixtures/golden/timeout.junit.xml 2 0 1 0
check_json fixtures/golden/passing.cucumber.json 3 3 0 0
check_json fixtures/golden/warning.cucumber.json 4 3 1 0
check_json fixtures/golden/failing.cucumber.json 7 3 3 1
check_json fixtures/golden/timeout.cucumber.json 2 1 1 0

# ------------------------------------------------------------------ lab suites
LAB_SERVICES=()
if [ -f "$LAB/inventory.toml" ]; then
  say "lab runs ($LAB)"
  cat >"$S/lab-pass.feature" <<'EOF'
@hosts:web
Feature: Web hosts answer
  Scenario: The host knows its own name
    When I run "hostname"
    Then the output should contain "{name}"

  Scenario: SSH answers quickly
    Then TCP port 22 on "{address}" should be open within 1000 ms
EOF
  cat >"$S/lab-fail.feature" <<'EOF'
@hosts:web
Feature: Web hosts answer, web2 does not pass
  Scenario: The host is not web2
    When I run "hostname"
    Then the output should not contain "web2"

  Scenario: SSH answers quickly
    Then TCP port 22 on "{address}" should be open within 1000 ms
EOF
  chmod a+r "$S"/lab-*.feature
  export SHAKEDOWN_MYSQL_PASSWORD; SHAKEDOWN_MYSQL_PASSWORD=$(cat "$LAB/mysql_password" 2>/dev/null || true)
  run_reports lab-pass 0 -i "$LAB/inventory.toml" lab-pass.feature
  check_junit "$WORK/lab-pass.xml" 4 0 0 0
  check_json "$WORK/lab-pass.json" 4 4 0 0
  run_reports lab-fail 1 -i "$LAB/inventory.toml" lab-fail.feature
  check_junit "$WORK/lab-fail.xml" 4 1 0 0
  check_json "$WORK/lab-fail.json" 4 3 1 0
  LAB_SERVICES=(lab-web1 lab-web2)
else
  echo "note: no lab at $LAB: the lab runs are skipped (ci/lab.sh up)"
fi

# ------------------------------------------------------------------ Nagios
say "Nagios 4 core runs shakedown check"
N=$WORK/nagios
mkdir -p "$N/spool" "$N/tmp"
# --no-state: these services test the plugin format Nagios records; the same features ran
# above, and their history ("1 still failing since ...") would change the expected text.
CHECK="$BIN check --no-state"
service() { # NAME HOST COMMAND_LINE
  cat <<EOF
define command {
  command_name  $1
  command_line  cd $S && $3
}
define service {
  host_name             $2
  service_description   $1
  check_command         $1
  max_check_attempts    1
  check_interval        60
  retry_interval        60
  check_period          24x7
  contacts              nobody
  notification_interval 0
  notification_period   24x7
}
EOF
}
host() { # NAME ADDRESS
  cat <<EOF
define host {
  host_name             $1
  alias                 $1
  address               $2
  check_command         always-up
  max_check_attempts    1
  check_period          24x7
  contacts              nobody
  notification_interval 0
  notification_period   24x7
}
EOF
}
{
  nagios_base_objects
  host localhost 127.0.0.1
  service shakedown-ok localhost "$CHECK pass.feature"
  service shakedown-warning localhost "$CHECK warning.feature"
  service shakedown-critical localhost "$CHECK critical.feature"
  service shakedown-unknown localhost "$CHECK pass.feature --tags @nothing"
  service shakedown-timeout localhost "$CHECK slow.feature --timeout 2s"
  service shakedown-badinput localhost "$CHECK missing.feature"
  service shakedown-numbers localhost "$CHECK numbers.feature"
  if [ "${#LAB_SERVICES[@]}" -gt 0 ]; then
    host web1 10.77.0.11
    host web2 10.77.0.12
    service lab-web1 web1 "$CHECK -i $LAB/inventory.toml --hosts web1 lab-fail.feature"
    service lab-web2 web2 "$CHECK -i $LAB/inventory.toml --hosts web2 lab-fail.feature"
  fi
} >"$N/objects.cfg"
{
  nagios_main_cfg "$N" root
  echo "illegal_macro_output_chars=\`~\$&|'\"<>"
} >"$N/nagios.cfg"
if ! nagios4 -v "$N/nagios.cfg" >"$N/verify.out" 2>&1; then
  cat "$N/verify.out"
  fail "nagios4 -v: the configuration does not verify"
else
  nagios4 "$N/nagios.cfg" >"$N/daemon.out" 2>&1 &
  NAGIOS_PID=$!
  want_services=$((7 + ${#LAB_SERVICES[@]}))
  "$PY" - "$N/status.dat" "$want_services" <<'EOF' || fail "Nagios did not check every service within 120 s"
import sys, time
path, want = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 120
while time.time() < deadline:
    try:
        text = open(path).read()
        blocks = text.split("servicestatus {")[1:]
        if len(blocks) >= want and all("\thas_been_checked=1" in b for b in blocks):
            sys.exit(0)
    except FileNotFoundError:
        pass
    time.sleep(0.5)
sys.exit(1)
EOF
  cp "$N/status.dat" "$WORK/status.dat" 2>/dev/null || true
  stop_nagios
  if "$PY" - "$WORK/status.dat" "$PORT" "${#LAB_SERVICES[@]}" <<'EOF'; then ok "Nagios recorded the states, plugin output and perfdata we emitted"; else fail "Nagios status.dat"; fi
import re, sys
path, port, lab = sys.argv[1], sys.argv[2], int(sys.argv[3]) > 0
services = {}
for block in open(path).read().split("servicestatus {")[1:]:
    fields = {}
    for line in block.split("\n"):
        line = line.strip()
        if "=" in line:
            k, v = line.split("=", 1)
            fields[k] = v
    services[fields["service_description"]] = fields

T = r"\d+(\.\d+)?"
want = {
    "shakedown-ok": (0, rf"SHAKEDOWN OK - 2 scenarios passed on 1 host in {T}s",
        rf"scenarios=2 passed=2 failed=0 skipped=0 time={T}s 'localhost The listener is quick: 127\.0\.0\.1 port {port} connect'={T}ms;;2000", r""),
    "shakedown-warning": (1, r"SHAKEDOWN WARNING - 1 of 2 scenarios failed: Nice to have \[localhost\]",
        rf"scenarios=2 passed=1 failed=1 skipped=0 time={T}s",
        r"WARNING localhost: Nice to have: exit status 0, expected `true` to exit non-zero \(warning\.feature:9: Then the command should fail\)"),
    "shakedown-critical": (2, r"SHAKEDOWN CRITICAL - 2 of 3 scenarios failed: Greeting \[localhost\], Nice to have \[localhost\]",
        rf"scenarios=3 passed=1 failed=2 skipped=0 time={T}s",
        r'CRITICAL localhost: Greeting: "hello", expected output of `echo hello` containing "bye" \(critical\.feature:4: Then the output should contain "bye"\)\\n'
        r"WARNING localhost: Nice to have: exit status 0, expected `true` to exit non-zero \(critical\.feature:10: Then the command should fail\)"),
    "shakedown-unknown": (3, r'SHAKEDOWN UNKNOWN - no scenario selected: --tags "@nothing" matches none of 2 scenarios',
        r"", r""),
    "shakedown-timeout": (3, r"SHAKEDOWN UNKNOWN - run timed out after 2s \(--timeout\): 1 of 2 scenarios finished",
        rf"scenarios=2 passed=1 failed=1 skipped=0 time={T}s",
        r'UNKNOWN localhost: Stuck: not finished: run timed out after 2s \(--timeout\) \(slow\.feature:5: When I run "sleep 30"\)'),
    "shakedown-badinput": (3, r"SHAKEDOWN UNKNOWN - .*missing\.feature.*", r"", r""),
    "shakedown-numbers": (2, r"SHAKEDOWN CRITICAL - 6 of 12 scenarios failed: between 0 \[localhost\], between 9 \[localhost\], under 8 \[localhost\] and 3 more",
        rf"scenarios=12 passed=6 failed=6 skipped=0 time={T}s 'localhost between 0: number'=0;;1:8 .* 'localhost at least 2: number'=2;;1:", r".*"),
}
if lab:
    want["lab-web1"] = (0, rf"SHAKEDOWN OK - 2 scenarios passed on 1 host in {T}s",
        rf"scenarios=2 passed=2 failed=0 skipped=0 time={T}s 'web1 SSH answers quickly: 10\.77\.0\.11 port 22 connect'={T}ms;;1000", r"")
    want["lab-web2"] = (2, r"SHAKEDOWN CRITICAL - 1 of 2 scenarios failed: The host is not web2 \[web2\]",
        rf"scenarios=2 passed=1 failed=1 skipped=0 time={T}s 'web2 SSH answers quickly: 10\.77\.0\.12 port 22 connect'={T}ms;;1000",
        r'CRITICAL web2: The host is not web2: .* \(lab-fail\.feature:5: Then the output should not contain "web2"\)')
bad = 0
for name, (state, output, perf, long) in want.items():
    s = services.get(name)
    if s is None:
        print(f"    {name}: not in status.dat"); bad += 1; continue
    got = (int(s["current_state"]), s["plugin_output"], s["performance_data"], s.get("long_plugin_output", ""))
    checks = [got[0] == state, re.fullmatch(output, got[1]), re.fullmatch(perf, got[2]), re.fullmatch(long, got[3])]
    mark = "ok  " if all(checks) else "FAIL"
    print(f"    {mark} {name}: state={got[0]} output={got[1]!r} perfdata={got[2]!r} long={got[3]!r}")
    if not all(checks):
        bad += 1
sys.exit(1 if bad else 0)
EOF
  # Every threshold Nagios recorded, read by the Monitoring Plugins' own parser: a value
  # alerts exactly when the scenario that measured it failed (long output names it).
  if "$PY" - "$WORK/status.dat" <<'EOF'; then ok "Monitoring::Plugin::Range: every recorded value alerts exactly when its scenario failed"; else fail "perfdata thresholds"; fi
import re, subprocess, sys
rows = []
for block in open(sys.argv[1]).read().split("servicestatus {")[1:]:
    fields = dict(l.strip().split("=", 1) for l in block.split("\n") if "=" in l)
    failed = set()
    for line in fields.get("long_plugin_output", "").split("\\n") + [fields.get("plugin_output", "")]:
        m = re.match(r"(?:CRITICAL|WARNING|UNKNOWN) (\S+): (.*?): ", line)
        if m:
            failed.add(f"{m.group(1)} {m.group(2)}")
    for label, data in re.findall(r"('(?:[^']|'')*'|[^'= ][^= ]*)=(\S+)", fields.get("performance_data", "")):
        label = label.strip("'").replace("''", "'")
        parts = data.split(";")
        if len(parts) < 3 or not parts[2] or ": " not in label:
            continue
        value = re.match(r"-?[\d.]+", parts[0]).group(0)
        rows.append((fields["service_description"], label, value, parts[2], label.split(": ", 1)[0] in failed))
perl = r"""
use Monitoring::Plugin::Range;
while (my $line = <STDIN>) {
    chomp $line;
    my ($range, $value) = split /\t/, $line;
    my $r = Monitoring::Plugin::Range->parse_range_string($range);
    print defined $r ? $r->check_range($value) : "unparsed", "\n";
}
"""
out = subprocess.run(["perl", "-e", perl], input="".join(f"{r[3]}\t{r[2]}\n" for r in rows),
                     capture_output=True, text=True, check=True).stdout.split()
bad = 0
for (service, label, value, crit, failed), alert in zip(rows, out):
    good = alert == ("1" if failed else "0")
    bad += not good
    print(f"    {'ok  ' if good else 'FAIL'} {service}: {label}={value} crit {crit}: alert={alert}, scenario {'failed' if failed else 'passed'}")
sys.exit(1 if bad or len(out) != len(rows) or not rows else 0)
EOF
fi

say "the configuration examples in ci/examples/ load in Nagios and Icinga 2"
E=$WORK/examples
mkdir -p "$E"
{
  grep -v '^cfg_file=' "$N/nagios.cfg"
  echo "cfg_file=$E/objects.cfg"
  echo "cfg_file=$ROOT/ci/examples/nagios/shakedown.cfg"
} >"$E/nagios.cfg"
{
  nagios_base_objects
  nagios_example_objects
  cat <<'EOF'
define host {
  host_name             web1
  address               10.77.0.11
  hostgroups            web-servers
  max_check_attempts    1
  check_period          24x7
  contacts              nobody
  notification_interval 0
  notification_period   24x7
}
EOF
} >"$E/objects.cfg"
if nagios4 -v "$E/nagios.cfg" >"$E/verify.out" 2>&1; then
  ok "nagios4 -v: ci/examples/nagios/shakedown.cfg"
else
  cat "$E/verify.out"
  fail "nagios4 -v: ci/examples/nagios/shakedown.cfg"
fi
cat >"$E/icinga2.conf" <<EOF
include <itl>
object HostGroup "web-servers" { }
object Host "web1" {
  check_command = "dummy"
  address = "10.77.0.11"
  groups = [ "web-servers" ]
}
include "$ROOT/ci/examples/icinga2/shakedown.conf"
EOF
if icinga2 daemon -C -c "$E/icinga2.conf" >"$E/icinga2.out" 2>&1 && grep -q 'Instantiated 1 Service' "$E/icinga2.out"; then
  ok "icinga2 daemon -C: ci/examples/icinga2/shakedown.conf"
else
  cat "$E/icinga2.out"
  fail "icinga2 daemon -C: ci/examples/icinga2/shakedown.conf"
fi

say "the fleet-splitting examples (--partition) load in Nagios and Icinga 2"
{
  grep -v '^cfg_file=' "$N/nagios.cfg"
  echo "cfg_file=$E/objects.cfg"
  echo "cfg_file=$E/runner.cfg"
  echo "cfg_file=$ROOT/ci/examples/nagios-shakedown.cfg"
} >"$E/nagios-shards.cfg"
cat >"$E/runner.cfg" <<'EOF'
define host {
  host_name             shakedown-runner
  address               127.0.0.1
  max_check_attempts    1
  check_period          24x7
  contacts              nobody
  notification_interval 0
  notification_period   24x7
}
EOF
if nagios4 -v "$E/nagios-shards.cfg" >"$E/verify-shards.out" 2>&1 && grep -q 'Checked 3 services' "$E/verify-shards.out"; then
  ok "nagios4 -v: ci/examples/nagios-shakedown.cfg (3 shard services)"
else
  cat "$E/verify-shards.out"
  fail "nagios4 -v: ci/examples/nagios-shakedown.cfg"
fi
cat >"$E/icinga2-shards.conf" <<EOF
include <itl>
object Endpoint "master" { }
object Zone "master" { endpoints = [ "master" ] }
object Endpoint "satellite-eu-1" { host = "10.0.0.1" }
object Zone "eu" { endpoints = [ "satellite-eu-1" ]; parent = "master" }
object Host "satellite-eu-1" {
  check_command = "dummy"
  address = "10.0.0.1"
  vars.shakedown_shard = "1/3"
  zone = "master"
}
object Host "web1" { check_command = "dummy" }
include "$ROOT/ci/examples/icinga2-shakedown.conf"
EOF
if icinga2 daemon -C -c "$E/icinga2-shards.conf" >"$E/icinga2-shards.out" 2>&1 && grep -q 'Instantiated 1 Service' "$E/icinga2-shards.out"; then
  ok "icinga2 daemon -C: ci/examples/icinga2-shakedown.conf (one shard service per satellite)"
else
  cat "$E/icinga2-shards.out"
  fail "icinga2 daemon -C: ci/examples/icinga2-shakedown.conf"
fi

say "done"
if [ "$failures" -gt 0 ]; then
  echo "consumers: $failures check(s) failed"
  exit 1
fi
echo "consumers: every consumer read our reports as meant"
