#!/usr/bin/env bash
# bench/ideal.sh [SSH-OPTION...] -- ADDR...: the "floor with the work" of ci/bench.sh. All
# hosts at once, one fresh SSH connection each (no sharing) running the same 9 host checks
# as bench/loop.sh in ONE command, and the HTTP status with curl from the controller: one
# wave of handshakes plus one round of commands that do the checks' real work on the host.
# No tool can do less over SSH; shakedown's target is measured against it as well as
# against the bare floor (`ssh HOST true`). Exit 1 if a check failed. Needs LAB_DIR.
set -u
opts=(-o BatchMode=yes -o User=root -i "$LAB_DIR/id_ed25519" -o ControlMaster=no -o ControlPath=none
      -o UserKnownHostsFile="$LAB_DIR/known_hosts" -o StrictHostKeyChecking=yes)
while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
shift
# shellcheck disable=SC2016 # runs on the host
checks='/etc/init.d/nginx status >/dev/null 2>&1 &&
  systemctl is-enabled nginx >/dev/null 2>&1 &&
  dpkg-query -W -f "\${Status}" nginx | grep -q "ok installed" &&
  test -e /etc/app.conf &&
  grep -qF "max_conn = 100" /etc/app.conf &&
  findmnt -n /mnt/data >/dev/null &&
  ss -Hltn "sport = :80" | grep -q . &&
  pgrep -x cron >/dev/null &&
  uname -s | grep -q Linux'
one() {
  ssh "${opts[@]}" "$1" "$checks" &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$1/")" = 200 ] || { echo "failed: $1"; return 1; }
}
pids=()
for a in "$@"; do one "$a" & pids+=($!); done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=1; done
exit $bad
