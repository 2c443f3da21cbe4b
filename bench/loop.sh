#!/usr/bin/env bash
# bench/loop.sh ADDR...: the plain SSH loop of ci/bench.sh, with an OpenSSH ControlMaster.
# One host after another; per host the same 10 checks as bench/shakedown/bench.feature
# (9 commands over one master, the HTTP status with curl from the controller). Prints the
# hosts where a check failed; exit 1 if any did. Needs LAB_DIR.
# Warm (ci/bench.sh --warm): LOOP_CTL=DIR keeps the masters there (ControlPersist 30 min)
# for the next run instead of closing them; LOOP_CLOSE=1 with it closes them (no check).
set -u
ctl=${LOOP_CTL:-$(mktemp -d /tmp/sdb-loop.XXXXXX)}
opts=(-o BatchMode=yes -o User=root -i "$LAB_DIR/id_ed25519"
      -o UserKnownHostsFile="$LAB_DIR/known_hosts" -o StrictHostKeyChecking=yes
      -o ControlMaster=auto -o ControlPath="$ctl/%C" -o ControlPersist="$([ -n "${LOOP_CTL:-}" ] && echo 1800 || echo 60)")
if [ -n "${LOOP_CLOSE:-}" ]; then
  for s in "$ctl"/*; do [ -S "$s" ] && ssh -o ControlPath="$s" -O exit x 2>/dev/null; done
  exit 0
fi
bad=0
for host in "$@"; do
  ok=1
  ssh "${opts[@]}" "$host" '/etc/init.d/nginx status' >/dev/null 2>&1 || ok=0
  ssh "${opts[@]}" "$host" 'systemctl is-enabled nginx' >/dev/null 2>&1 || ok=0
  ssh "${opts[@]}" "$host" 'dpkg-query -W -f "\${Status}" nginx | grep -q "ok installed"' || ok=0
  ssh "${opts[@]}" "$host" 'test -e /etc/app.conf' || ok=0
  ssh "${opts[@]}" "$host" 'grep -qF "max_conn = 100" /etc/app.conf' || ok=0
  ssh "${opts[@]}" "$host" 'findmnt -n /mnt/data' >/dev/null || ok=0
  ssh "${opts[@]}" "$host" 'ss -Hltn "sport = :80" | grep -q .' || ok=0
  ssh "${opts[@]}" "$host" 'pgrep -x cron' >/dev/null || ok=0
  ssh "${opts[@]}" "$host" 'uname -s' | grep -q Linux || ok=0
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$host/")" = 200 ] || ok=0
  [ $ok = 1 ] || { echo "failed: $host"; bad=1; }
done
[ -n "${LOOP_CTL:-}" ] && exit $bad
for host in "$@"; do ssh "${opts[@]}" -O exit "$host" 2>/dev/null; done
rm -rf "$ctl"
exit $bad
