#!/usr/bin/env bash
# ci/installed.sh: the Debian package, installed and used where it lives, then removed.
#
# The lab hosts share this machine's filesystem (network namespaces), so `dpkg -i` on one
# would install on this machine. Instead the package goes into a fresh root made for the
# purpose: in a private mount and PID namespace, an overlay whose lower layer is this
# machine's / (read-only through the overlay) and whose upper layer is an empty tmpfs, chrooted
# into. Everything dpkg, the maintainer scripts and the checks write lands in that upper
# layer, which is listed to show what an install, a remove and a purge leave behind; the
# namespace, its processes (Nagios included) and the layer vanish when the script ends. The
# network is this machine's, so the lab hosts (10.77.0.0/16) answer as they do to the tests.
#
# In that root:
#   1. `dpkg -i` the .deb; every path the issue names is in place (binary stripped, plugin,
#      units disabled, examples, man pages that `man` renders, completions that bash loads).
#   2. a non-root user (ops) with a copy of the lab key runs `shakedown init`, `shakedown
#      lint` (the init suite and a lab suite) and `shakedown check` against web1 and web2
#      (OK on web1, CRITICAL on web2), with /usr/bin/shakedown from PATH.
#   3. the real Nagios 4 core (nagios4-core, running as the nagios user) loads the shipped
#      example command definition /usr/share/doc/shakedown/examples/nagios/shakedown.cfg
#      unchanged and runs /usr/lib/nagios/plugins/check_shakedown on web1 and web2; the
#      states, plugin output and perfdata it records in status.dat are asserted. Icinga 2
#      validates the shipped Icinga 2 example (PluginDir + "/check_shakedown").
#   4. `dpkg -r`: no file of the package is left; what remains in the upper layer is the
#      admin's /etc/shakedown, the timer's state, dpkg's database and logs, and the shakedown
#      system user. `dpkg --purge`: /etc/shakedown and /var/lib/shakedown are gone too.
#
# Holds /tmp/shakedown-lab.lock (the lab tests' lock) while it uses lab hosts.
# Usage: ci/installed.sh [PACKAGE.deb]   (default: target/debian/shakedown_*.deb from
#        ci/package.sh; needs root, a lab up (ci/lab.sh up, LAB_DIR or .lab) and nagios4-core,
#        installed here when missing)
set -euo pipefail
# shellcheck source=ci/lab/nagios.sh
. "$(dirname "$0")/lab/nagios.sh"
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ "${1:-}" != --inside ]; then
  DEB=${1:-$(ls "$ROOT"/target/debian/shakedown_*.deb 2>/dev/null | head -1)}
  [ -f "$DEB" ] || { echo "installed: no package (run ci/package.sh first)" >&2; exit 1; }
  LAB=${LAB_DIR:-$ROOT/.lab}
  [ -f "$LAB/inventory.toml" ] || { echo "installed: no lab at $LAB (ci/lab.sh up)" >&2; exit 1; }
  missing=()
  command -v nagios4 >/dev/null || missing+=(nagios4-core)
  command -v icinga2 >/dev/null || missing+=(icinga2-bin)
  if [ "${#missing[@]}" -gt 0 ]; then
    # As ci/install-deps.sh: no daemon may start in the root namespace during the install.
    created=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && created=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null || {
      apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; }
    if [ -n "$created" ]; then rm -f /usr/sbin/policy-rc.d; fi
  fi
  WORK=$(mktemp -d /tmp/shakedown-installed.XXXXXX)
  trap 'rm -rf "$WORK"' EXIT
  echo "installed: $DEB into a fresh root (overlay of / in a private mount namespace)"
  # The lab lock: no lab test injects a fault into web1/web2 while we check them.
  status=0
  flock /tmp/shakedown-lab.lock unshare --mount --pid --fork --propagation private \
    bash "$0" --inside "$WORK" "$(realpath "$DEB")" "$(realpath "$LAB")" || status=$?
  echo "installed: $SECONDS s"
  exit "$status"
fi

# ------------------------------------------------------------------ inside the namespaces
WORK=$2 DEB=$3 LAB=$4
mount -t tmpfs -o mode=755 layers "$WORK"
mkdir -p "$WORK/upper" "$WORK/work" "$WORK/root"
UP=$WORK/upper R=$WORK/root
mount -t overlay fresh -o "lowerdir=/,upperdir=$UP,workdir=$WORK/work" "$R"
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount --rbind /sys "$R/sys"
mount -t tmpfs -o mode=1777 tmp "$R/tmp"
mount -t tmpfs -o mode=755 run "$R/run"
mkdir -p "$R/run/lock"
cp "$DEB" "$R/tmp/shakedown.deb"

failures=0
ok() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }
say() { printf '\n--- %s (%ss)\n' "$*" "$SECONDS"; }
# in_root SCRIPT: runs SCRIPT with bash as root in the fresh root, a clean environment.
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 bash -euo pipefail -c "$1"; }
# as_ops SCRIPT: the same as the non-root user ops, in its home.
as_ops() { in_root "cd /home/ops && runuser -u ops -- env HOME=/home/ops USER=ops bash -euo pipefail -c $(printf %q "$1")"; }
# What the upper layer holds: the paths of the fresh root that were added, changed or
# deleted (whiteouts), less the directories that exist below (copied up, not changed).
layer() {
  (cd "$UP" && find . -mindepth 1 \( -type d -printf 'd %P\n' \) -o -printf 'f %P\n') |
    while read -r kind path; do
      if [ "$kind" = d ] && [ -d "/$path" ]; then continue; fi
      echo "/$path"
    done | sort
}

say "the fresh root: a user ops with the lab key, nothing of shakedown"
in_root "! command -v shakedown && ! dpkg -s shakedown >/dev/null 2>&1" || fail "the fresh root already has shakedown"
in_root "useradd --create-home --shell /bin/bash ops && install -d -o ops -g ops -m 700 /home/ops/.ssh"
install -o root -m 600 "$LAB/id_ed25519" "$R/home/ops/.ssh/id_ed25519"
install -m 644 "$LAB/known_hosts" "$R/home/ops/.ssh/known_hosts"
in_root "chown ops:ops /home/ops/.ssh/id_ed25519 /home/ops/.ssh/known_hosts"
sed -e "s|$LAB/id_ed25519|/home/ops/.ssh/id_ed25519|; s|$LAB/known_hosts|/home/ops/.ssh/known_hosts|" \
  "$LAB/inventory.toml" >"$R/home/ops/lab.toml"
grep -q '/home/ops/.ssh/id_ed25519' "$R/home/ops/lab.toml" || fail "the lab inventory names no identity_file to replace"
in_root "chown ops:ops /home/ops/lab.toml"
layer >"$WORK/before"

say "dpkg -i"
t0=$SECONDS
if in_root "dpkg -i /tmp/shakedown.deb" >"$WORK/dpkg-i.out" 2>&1; then
  ok "dpkg -i $(basename "$DEB") ($((SECONDS - t0)) s)"
else
  cat "$WORK/dpkg-i.out"; fail "dpkg -i"
fi
in_root "dpkg-deb --fsys-tarfile /tmp/shakedown.deb | tar -t | sed -n 's|^\./|/|; /[^/]$/p'" | sort >"$WORK/files"

say "what the package put where"
for path in /usr/bin/shakedown /usr/lib/nagios/plugins/check_shakedown \
  /usr/lib/systemd/system/shakedown.service /usr/lib/systemd/system/shakedown.timer /usr/lib/sysusers.d/shakedown.conf \
  /usr/share/man/man1/shakedown.1.gz /usr/share/man/man5/shakedown-packs.5.gz /usr/share/man/man7/shakedown-steps.7.gz \
  /usr/share/bash-completion/completions/shakedown /usr/share/zsh/vendor-completions/_shakedown \
  /usr/share/fish/vendor_completions.d/shakedown.fish \
  /usr/share/doc/shakedown/examples/nagios/shakedown.cfg /usr/share/doc/shakedown/examples/icinga2/shakedown.conf \
  /usr/share/doc/shakedown/examples/local/machine.feature /usr/share/doc/shakedown/copyright; do
  if [ -f "$R$path" ]; then ok "$path"; else fail "$path is missing"; fi
done
commands=$(in_root "shakedown --help" | sed -n '/^Commands:/,/^$/p' | awk 'NR>1 && $1 != "help" && NF {print $1}')
for c in $commands; do
  [ -f "$R/usr/share/man/man1/shakedown-$c.1.gz" ] || fail "no man page for shakedown $c"
done
ok "a man page per command: $(echo $commands)"
# Stripped: no .symtab and no .debug_* section in the ELF section table.
if python3 - "$R/usr/bin/shakedown" <<'EOF'; then ok "/usr/bin/shakedown is stripped ($(stat -c %s "$R/usr/bin/shakedown") bytes)"; else fail "/usr/bin/shakedown is not stripped"; fi
import struct, sys
elf = open(sys.argv[1], "rb").read()
shoff, = struct.unpack_from("<Q", elf, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
def header(i): return struct.unpack_from("<IIQQQQ", elf, shoff + i * shentsize)
strtab = header(shstrndx)[4]
names = [elf[strtab + header(i)[0]:].split(b"\0", 1)[0].decode() for i in range(shnum)]
kept = [n for n in names if n == ".symtab" or (n.startswith(".debug") and n != ".debug_gdb_scripts")]  # gdb_scripts is loaded, strip keeps it
print("    sections kept that strip removes:", kept or "none")
sys.exit(1 if kept else 0)
EOF
in_root "dpkg-query -W -f '\${Depends}' shakedown" | grep -q 'openssh-client' && ok "Depends: $(in_root "dpkg-query -W -f '\${Depends}' shakedown")" || fail "Depends lacks openssh-client"
for page in shakedown shakedown-check shakedown-packs shakedown-steps; do
  if in_root "MANWIDTH=80 man --warnings $page 2>&1 >/dev/null | grep . && exit 1; MANWIDTH=80 man $page | grep -q '^SEE ALSO'" ; then ok "man $page"; else fail "man $page"; fi
done
in_root "MANWIDTH=200 man 7 shakedown-steps" | grep -q 'Then the service "nginx" should be running' && ok "man 7 shakedown-steps holds the catalogue" || fail "man 7 shakedown-steps"
in_root "MANWIDTH=200 man 5 shakedown-packs" | grep -q 'KEYS OF A STEP' && ok "man 5 shakedown-packs holds the pack format" || fail "man 5 shakedown-packs"
in_root ". /usr/share/bash-completion/completions/shakedown && complete -p shakedown" | grep -q '_shakedown shakedown' && ok "bash loads the completion" || fail "bash completion"
if command -v zsh >/dev/null; then in_root "zsh -n /usr/share/zsh/vendor-completions/_shakedown" && ok "zsh parses _shakedown" || fail "zsh completion"; fi
if command -v fish >/dev/null; then in_root "fish -n /usr/share/fish/vendor_completions.d/shakedown.fish" && ok "fish parses shakedown.fish" || fail "fish completion"; fi
for unit in shakedown.service shakedown.timer; do
  state=$(in_root "systemctl is-enabled $unit 2>/dev/null || true")
  if [ "$state" = disabled ] || [ "$state" = static ]; then ok "$unit installed, $state"; else fail "$unit is $state"; fi
done
in_root "getent passwd shakedown >/dev/null" && ok "the shakedown system user (sysusers.d) exists" || fail "no shakedown user"

say "a non-root user runs shakedown init, lint and check against lab hosts"
cat >"$R/home/ops/web.feature" <<'EOF'
@hosts:web
Feature: The web hosts answer; web2 does not pass
  Scenario: The host is not web2
    When I run "hostname"
    Then the output should not contain "web2"

  Scenario: SSH answers quickly
    Then TCP port 22 on "{address}" should be open within 1000 ms
EOF
in_root "chown ops:ops /home/ops/web.feature"
if as_ops 'test "$(id -u)" != 0 && test "$(command -v shakedown)" = /usr/bin/shakedown && shakedown init suite >/dev/null && test -f suite/inventory.toml'; then
  ok "ops: shakedown init suite"
else
  fail "ops: shakedown init"
fi
as_ops 'cd suite && shakedown lint' >"$WORK/lint-init.out" 2>&1 && ok "ops: shakedown lint (the init suite)" || { cat "$WORK/lint-init.out"; fail "ops: shakedown lint of the init suite"; }
as_ops 'shakedown lint -i lab.toml web.feature' >"$WORK/lint.out" 2>&1 && ok "ops: shakedown lint -i lab.toml web.feature" || { cat "$WORK/lint.out"; fail "ops: shakedown lint of the lab suite"; }
code=0; out=$(as_ops 'shakedown check -i lab.toml --hosts web1 web.feature') || code=$?
echo "    $out" | head -1
if [ "$code" = 0 ] && [[ "$out" == "SHAKEDOWN OK - 2 scenarios passed on 1 host"* ]]; then ok "ops: shakedown check on web1: OK"; else echo "$out"; fail "ops: check on web1 exit $code"; fi
code=0; out=$(as_ops 'shakedown check -i lab.toml web.feature') || code=$?
echo "    $out" | head -1
if [ "$code" = 2 ] && [[ "$out" == "SHAKEDOWN CRITICAL - 1 of 4 scenarios failed: The host is not web2 [web2]"* ]]; then ok "ops: shakedown check on web1+web2: CRITICAL"; else echo "$out"; fail "ops: check on web exit $code"; fi

say "the admin's configuration, and Nagios 4 runs check_shakedown with the shipped example"
# What the shipped examples and units read: /etc/shakedown (inventory, features, key),
# readable by the nagios user the checks run as.
in_root "install -d -m 750 -o root -g nagios /etc/shakedown /etc/shakedown/features"
sed -e "s|/home/ops/.ssh/|/etc/shakedown/|" "$R/home/ops/lab.toml" >"$R/etc/shakedown/inventory.toml"
cp "$R/home/ops/web.feature" "$R/etc/shakedown/features/web.feature"
install -m 600 "$LAB/id_ed25519" "$R/etc/shakedown/id_ed25519"
install -m 644 "$LAB/known_hosts" "$R/etc/shakedown/known_hosts"
# As if the timer had run once: its state directory (StateDirectory=shakedown).
in_root "install -d -o shakedown -m 750 /var/lib/shakedown && install -o shakedown -m 640 /dev/null /var/lib/shakedown/last.xml"
in_root "chown nagios /etc/shakedown/id_ed25519 && chgrp nagios /etc/shakedown/inventory.toml /etc/shakedown/features/web.feature"
N=/tmp/nagios   # in the root's own /tmp (tmpfs)
mkdir -p "$R$N/spool" "$R$N/tmp"
{
  nagios_base_objects
  nagios_example_objects
  cat <<'EOF'
define host {
  name                  lab-host
  hostgroups            web-servers
  check_command         always-up
  max_check_attempts    1
  check_period          24x7
  contacts              nobody
  notification_interval 0
  notification_period   24x7
  register              0
}
define host {
  use       lab-host
  host_name web1
  alias     web1
  address   10.77.0.11
}
define host {
  use       lab-host
  host_name web2
  alias     web2
  address   10.77.0.12
}
EOF
} >"$R$N/objects.cfg"
nagios_main_cfg "$N" nagios /usr/share/doc/shakedown/examples/nagios/shakedown.cfg >"$R$N/nagios.cfg"
in_root "chown -R nagios:nagios $N"
grep -q "command_line  /usr/lib/nagios/plugins/check_shakedown " "$R/usr/share/doc/shakedown/examples/nagios/shakedown.cfg" \
  && ok "the shipped command definition runs /usr/lib/nagios/plugins/check_shakedown" || fail "the shipped command definition"
if ! in_root "nagios4 -v $N/nagios.cfg" >"$WORK/verify.out" 2>&1; then
  cat "$WORK/verify.out"; fail "nagios4 -v with the shipped example"
else
  t0=$SECONDS
  in_root "exec nagios4 $N/nagios.cfg" >"$WORK/nagios.out" 2>&1 &
  nagios=$!
  if python3 - "$R$N/status.dat" <<'EOF'; then ok "Nagios checked both services ($((SECONDS - t0)) s)"; else fail "Nagios did not check both services within 120 s"; fi
import sys, time
deadline = time.time() + 120
while time.time() < deadline:
    try:
        blocks = open(sys.argv[1]).read().split("servicestatus {")[1:]
        if len(blocks) >= 2 and all("\thas_been_checked=1" in b for b in blocks):
            sys.exit(0)
    except FileNotFoundError:
        pass
    time.sleep(0.5)
sys.exit(1)
EOF
  cp "$R$N/status.dat" "$WORK/status.dat" 2>/dev/null || true
  kill "$nagios" 2>/dev/null || true
  wait "$nagios" 2>/dev/null || true
  if python3 - "$WORK/status.dat" <<'EOF'; then ok "Nagios recorded OK on web1, CRITICAL on web2, with perfdata"; else fail "Nagios status.dat"; fi
import re, sys
services = {}
for block in open(sys.argv[1]).read().split("servicestatus {")[1:]:
    fields = dict(l.strip().split("=", 1) for l in block.split("\n") if "=" in l)
    services[fields["host_name"]] = fields
T = r"\d+(\.\d+)?"
want = {
    "web1": (0, rf"SHAKEDOWN OK - 2 scenarios passed on 1 host in {T}s",
             rf"scenarios=2 passed=2 failed=0 skipped=0 time={T}s 'web1 SSH answers quickly: 10\.77\.0\.11 port 22 connect'={T}ms;;1000"),
    "web2": (2, r"SHAKEDOWN CRITICAL - 1 of 2 scenarios failed: The host is not web2 \[web2\]",
             rf"scenarios=2 passed=1 failed=1 skipped=0 time={T}s 'web2 SSH answers quickly: 10\.77\.0\.12 port 22 connect'={T}ms;;1000"),
}
bad = 0
for host, (state, output, perf) in want.items():
    s = services.get(host, {})
    good = s.get("service_description") == "shakedown web" and int(s.get("current_state", -1)) == state \
        and re.fullmatch(output, s.get("plugin_output", "")) and re.fullmatch(perf, s.get("performance_data", ""))
    print(f"    {'ok  ' if good else 'FAIL'} {host} {s.get('service_description')}: state {s.get('current_state')} | {s.get('plugin_output')} | {s.get('performance_data')}")
    bad += not good
sys.exit(1 if bad else 0)
EOF
fi
cat >"$R$N/icinga2.conf" <<'EOF'
include <itl>
const PluginDir = "/usr/lib/nagios/plugins"
object HostGroup "web-servers" { }
object Host "web1" {
  check_command = "dummy"
  address = "10.77.0.11"
  groups = [ "web-servers" ]
}
include "/usr/share/doc/shakedown/examples/icinga2/shakedown.conf"
EOF
if in_root "icinga2 daemon -C -c $N/icinga2.conf" >"$WORK/icinga2.out" 2>&1 && grep -q 'Instantiated 1 Service' "$WORK/icinga2.out"; then
  ok "icinga2 daemon -C: the shipped Icinga 2 example (PluginDir + \"/check_shakedown\")"
else
  cat "$WORK/icinga2.out"; fail "icinga2 daemon -C with the shipped example"
fi

# What may change in the fresh root besides the package's files: dpkg's database and logs,
# man-db's cache, the shakedown system user (sysusers.d; Debian keeps system users),
# deb-systemd-helper's state and masks, the admin's /etc/shakedown and the state dir, and
# the cache `icinga2 daemon -C` (above) writes.
ALLOWED='^/var/cache/icinga2/|^/var/lib/dpkg/|^/var/log/|^/var/cache/man/|^/var/cache/debconf/|^/etc/(passwd|group|shadow|gshadow|subuid|subgid)-?$|^/etc/\.pwd\.lock$|^/var/lib/systemd/deb-systemd-helper-|^/etc/systemd/'
leftovers() { # EXTRA-ALLOWED
  layer | comm -13 "$WORK/before" - | grep -Ev "$ALLOWED${1:+|$1}" || true
}

say "dpkg -r: only configuration is left"
in_root "dpkg -r shakedown" >"$WORK/dpkg-r.out" 2>&1 && ok "dpkg -r shakedown" || { cat "$WORK/dpkg-r.out"; fail "dpkg -r"; }
left=0
while read -r f; do
  if [ -e "$R$f" ] || [ -L "$R$f" ]; then echo "    left: $f"; left=1; fi
done <"$WORK/files"
[ "$left" = 0 ] && ok "no file of the package is left ($(wc -l <"$WORK/files") files)" || fail "files of the package left after dpkg -r"
[ -f "$R/etc/shakedown/inventory.toml" ] && [ -f "$R/etc/shakedown/features/web.feature" ] && [ -f "$R/var/lib/shakedown/last.xml" ] && ok "the admin's /etc/shakedown and the timer's /var/lib/shakedown are kept" || fail "dpkg -r removed /etc/shakedown"
extra=$(leftovers '^/etc/shakedown(/|$)|^/var/lib/shakedown(/|$)|^/home(/|$)')
{ layer | comm -13 "$WORK/before" - | grep -Ev '^/var/lib/dpkg/|^/var/log/|^/var/cache/|^/home/' || true; } | sed 's/^/    kept: /'
[ -z "$extra" ] && ok "nothing else changed in the root" || { echo "$extra" | sed 's/^/    left: /'; fail "dpkg -r left more than configuration"; }
in_root "dpkg-query -W -f '\${db:Status-Status}' shakedown" | grep -qx config-files && ok "dpkg: shakedown is config-files" || fail "dpkg status after -r"

say "dpkg --purge: the configuration goes too"
in_root "dpkg --purge shakedown" >"$WORK/dpkg-purge.out" 2>&1 && ok "dpkg --purge shakedown" || { cat "$WORK/dpkg-purge.out"; fail "dpkg --purge"; }
[ ! -e "$R/etc/shakedown" ] && [ ! -e "$R/var/lib/shakedown" ] && ok "/etc/shakedown and /var/lib/shakedown removed" || fail "purge left /etc/shakedown or /var/lib/shakedown"
in_root "! dpkg -s shakedown >/dev/null 2>&1" && ok "dpkg no longer knows shakedown" || fail "dpkg still lists shakedown"
extra=$(leftovers '^/home(/|$)')
{ layer | comm -13 "$WORK/before" - | grep -Ev '^/var/lib/dpkg/|^/var/log/|^/var/cache/|^/home/' || true; } | sed 's/^/    kept: /'
[ -z "$extra" ] && ok "nothing else is left in the root (dpkg's database and logs, man-db's cache, the system user)" || { echo "$extra" | sed 's/^/    left: /'; fail "purge left files"; }
if [ -d "$UP/etc/systemd" ]; then
  masks=$(cd "$UP" && find etc/systemd -type l 2>/dev/null | head -5)
  [ -z "$masks" ] && ok "no unit link or mask left in /etc/systemd" || { echo "$masks"; fail "links left in /etc/systemd"; }
fi

say "installed: $failures failure(s)"
[ "$failures" = 0 ]
