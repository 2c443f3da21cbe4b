#!/usr/bin/env bash
# ci/lab/systemd.sh: the lab's systemd hosts, booted with systemd as PID 1 (ci/lab/systemd-host.sh,
# systemd-nspawn) on the running lab's bridge. ci/lab.sh up/down/status/exec call it; it can
# also be applied to (and removed from) a running lab on its own:
#
#   LAB_DIR=... ci/lab/systemd.sh up       boot sd1 and sd2 in parallel (a host that runs and
#                                          answers ssh is kept), set up their units and users,
#                                          write $LAB_DIR/systemd.toml and systemd_known_hosts
#   LAB_DIR=... ci/lab/systemd.sh down     power both off, remove their dirs and files
#   LAB_DIR=... ci/lab/systemd.sh status   one line per host (exit 0 only when both are up)
#   LAB_DIR=... ci/lab/systemd.sh exec HOST -- CMD...   CMD as root inside HOST
#   ci/lab/systemd.sh is-host NAME         exit 0 when NAME is one of these hosts
#
#   host  address     group    role
#   sd1   10.77.0.51  systemd  web: nginx.service enabled and running (access log also to the
#                              journal, so a request shows in `journalctl -u nginx`); root and
#                              deploy log in; lab-broken.service enabled and failed
#   sd2   10.77.0.52  systemd  plain: sshd only; PermitRootLogin no, reached only as deploy
# Both: /etc/app.conf as on every lab host, user deploy (uid 2000, lab key, passwordless sudo;
# ci/lab/deploy-user.sh) and the
# units of the service-state matrix (tests/lab/systemd.rs):
#   active    ssh.service (and nginx on sd1)        inactive  cron.service (Debian's, disabled)
#   failed    lab-broken.service (sd1; ExecStart=/bin/false; inactive and disabled on sd2)
#   masked    apache2.service (Debian's, masked)    static    lab-tick.service (no [Install])
#   indirect  lab-echo.service (Also=lab-echo.socket, not enabled itself)
#   alias     sshd.service -> ssh.service           template  lab-worker@.service: instance
#             lab-worker@one enabled and running, lab-worker@two neither
#   socket    lab-echo.socket (127.0.0.1:7070, enabled, listening; lab-echo.service inactive
#             until a connection comes)
#   timer     lab-tick.timer (enabled, active, every hour; runs lab-tick.service)
#   missing   no unit named nosuch-unit
# Logins open no systemd user manager (pam_systemd is left out of /etc/pam.d/common-session:
# under this machine's cgroup v1, user@UID.service fails at logout and the host degrades).
# The journal: in the host's own /var/log/journal (its dir), gone with the host. deploy is in
# neither adm nor systemd-journal: it sees only its own messages (journalctl's "Hint").
# Host dirs: $HOSTS_DIR/sd1, $HOSTS_DIR/sd2 (HOSTS_DIR as in ci/lab.sh).
set -euo pipefail

SELF=$(readlink -f "$0")
LABSRC=$(dirname "$SELF")
REPO=$(dirname "$(dirname "$LABSRC")")
LAB_DIR=$(realpath -m "${LAB_DIR:-$REPO/.lab}")
LAB_PART="lab systemd"
# shellcheck source=ci/lab/common.sh
. "$LABSRC/common.sh"
HOSTS=(sd1 sd2)
declare -A ADDR=([sd1]=10.77.0.51 [sd2]=10.77.0.52)
declare -A ROLE=([sd1]=web [sd2]=plain)
HOST_SH=$LABSRC/systemd-host.sh
export KEY_PUB=$LAB_DIR/id_ed25519.pub BRIDGE=${BRIDGE:-sdlab0}


is_host() { [ -n "${ADDR[${1:-}]:-}" ]; }

ssh_ok() { # ssh_ok USER HOST
  ssh -i "$LAB_DIR/id_ed25519" -o UserKnownHostsFile="$LAB_DIR/systemd_known_hosts" \
    -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=3 -o LogLevel=ERROR \
    -F /dev/null "$1@${ADDR[$2]}" true </dev/null 9>&-
}

# The units and users of a host, set up from inside it (stdin script, as root).
setup_script() {
  local name=$1 role=$2
  cat <<'EOF'
set -eu
d=/etc/systemd/system
cat >$d/lab-broken.service <<'U'
[Unit]
Description=Lab unit whose start fails
[Service]
ExecStart=/bin/false
[Install]
WantedBy=multi-user.target
U
cat >$d/lab-tick.service <<'U'
[Unit]
Description=Lab static unit run by lab-tick.timer
[Service]
Type=oneshot
ExecStart=/bin/true
U
cat >$d/lab-tick.timer <<'U'
[Unit]
Description=Lab timer, every hour
[Timer]
OnBootSec=1h
OnUnitActiveSec=1h
[Install]
WantedBy=timers.target
U
cat >$d/lab-echo.socket <<'U'
[Unit]
Description=Lab socket that activates lab-echo.service
[Socket]
ListenStream=127.0.0.1:7070
[Install]
WantedBy=sockets.target
U
cat >$d/lab-echo.service <<'U'
[Unit]
Description=Lab socket-activated service
[Service]
ExecStart=/bin/sleep infinity
[Install]
Also=lab-echo.socket
U
cat >$d/lab-worker@.service <<'U'
[Unit]
Description=Lab template, instance %i
[Service]
ExecStart=/bin/sleep infinity
[Install]
WantedBy=multi-user.target
U
# no user manager per login (user@UID.service): under this machine's cgroup v1 it cannot
# kill its processes on logout and ends `failed`, which would make every host degraded
sed -i '/pam_systemd\.so/d' /etc/pam.d/common-session
# the application config every lab host has (identical everywhere, root 0644)
printf 'max_conn = 100\nenv = production\n' >/etc/app.conf
chmod 0644 /etc/app.conf
systemctl daemon-reload
systemctl mask -q apache2.service
systemctl enable -q --now lab-tick.timer lab-echo.socket lab-worker@one.service
EOF
  if [ "$role" = web ]; then
    cat <<'EOF'
printf 'access_log syslog:server=unix:/dev/log,nohostname;\n' >/etc/nginx/conf.d/lab-journal.conf
systemctl reload-or-restart nginx
systemctl enable -q lab-broken.service
systemctl start lab-broken.service || true
EOF
  else
    cat <<'EOF'
printf 'PermitRootLogin no\n' >/etc/ssh/sshd_config.d/lab-no-root.conf
systemctl reload ssh
EOF
  fi
  echo ": $name"
}

up_host() {
  local h=$1 dir=$HOSTS_DIR/$1
  if [ -s "$dir/init.pid" ] && "$HOST_SH" pid "$h" "$dir" >/dev/null 2>&1 \
    && [ -s "$LAB_DIR/systemd_known_hosts" ] && ssh_ok deploy "$h"; then
    return 0 # running: kept
  fi
  "$HOST_SH" up "$h" "${ADDR[$h]}" "${ROLE[$h]}" "$dir" 2>&1 | grep -v 'degraded' >&2 || true
  "$HOST_SH" pid "$h" "$dir" >/dev/null || die "$h did not boot (see $dir/boot.log)"
  setup_script "$h" "${ROLE[$h]}" | "$HOST_SH" exec "$h" "$dir" -- sh -s
  "$HOST_SH" exec "$h" "$dir" -- sh -s -- nopasswd "$(cat "$KEY_PUB")" <"$LABSRC/deploy-user.sh"
}

write_files() {
  local h kh=$LAB_DIR/systemd_known_hosts toml=$LAB_DIR/systemd.toml
  for h in "${HOSTS[@]}"; do
    echo "${ADDR[$h]} $(cut -d' ' -f1,2 "$HOSTS_DIR/$h/root/etc/ssh/ssh_host_ed25519_key.pub")"
  done >"$kh.tmp"
  mv "$kh.tmp" "$kh"
  {
    echo "# shakedown inventory of the lab's systemd hosts, written by ci/lab/systemd.sh up: do not edit."
    echo "[defaults]"
    echo 'user = "root"'
    echo "port = 22"
    echo "identity_file = \"$LAB_DIR/id_ed25519\""
    echo "known_hosts_file = \"$kh\""
    echo 'host_key_checking = "strict"'
    echo 'connect_timeout = "5s"'
    echo
    echo "[hosts.sd1]"
    echo "address = \"${ADDR[sd1]}\""
    echo 'groups = ["systemd", "web"]'
    echo "vars = { app_url = \"http://${ADDR[sd1]}/\" }"
    echo
    echo "[hosts.sd2]"
    echo "address = \"${ADDR[sd2]}\""
    echo 'groups = ["systemd"]'
    echo 'user = "deploy"'
  } >"$toml.tmp"
  mv "$toml.tmp" "$toml"
}

cmd_up() {
  [ -f "$KEY_PUB" ] || die "no $KEY_PUB: bring the lab up first (ci/lab.sh up)"
  ip link show "$BRIDGE" >/dev/null 2>&1 || die "no bridge $BRIDGE: bring the lab up first"
  local h t0=$SECONDS
  local -A pid=()
  for h in "${HOSTS[@]}"; do
    up_host "$h" &
    pid[$h]=$!
  done
  for h in "${HOSTS[@]}"; do wait "${pid[$h]}" || die "$h failed to come up"; done
  write_files
  local deadline=$((SECONDS + 15))
  until ssh_ok root sd1 && ssh_ok deploy sd1 && ssh_ok deploy sd2; do
    [ $SECONDS -lt $deadline ] || die "ssh to sd1 (root, deploy) and sd2 (deploy) does not answer"
    sleep 0.1
  done
  echo "lab: systemd hosts sd1 sd2 up in $((SECONDS - t0))s (inventory $LAB_DIR/systemd.toml)"
}

cmd_down() {
  local h
  for h in "${HOSTS[@]}"; do
    "$HOST_SH" down "$h" "$HOSTS_DIR/$h" &
  done
  wait
  for h in "${HOSTS[@]}"; do rm -rf "${HOSTS_DIR:?}/$h"; done
  rm -f "$LAB_DIR"/{systemd.toml,systemd.toml.tmp,systemd_known_hosts,systemd_known_hosts.tmp}
}

cmd_status() {
  local h all=0 st
  for h in "${HOSTS[@]}"; do
    if ! "$HOST_SH" pid "$h" "$HOSTS_DIR/$h" >/dev/null 2>&1; then
      printf '%-5s %-12s DOWN (host not running)\n' "$h" "${ADDR[$h]}"
      all=1
      continue
    fi
    st=$("$HOST_SH" exec "$h" "$HOSTS_DIR/$h" -- systemctl is-system-running 2>/dev/null || true)
    if ssh_ok deploy "$h"; then
      printf '%-5s %-12s up   systemd:%s ssh(deploy):ok\n' "$h" "${ADDR[$h]}" "$st"
    else
      printf '%-5s %-12s FAIL systemd:%s ssh(deploy):NO-ANSWER\n' "$h" "${ADDR[$h]}" "$st"
      all=1
    fi
  done
  return $all
}

cmd_exec() {
  local h=${1:-}
  is_host "$h" || die "usage: exec sd1|sd2 -- CMD..."
  shift
  [ "${1:-}" = -- ] && shift
  [ $# -ge 1 ] || die "usage: exec HOST -- CMD..."
  local pid
  pid=$("$HOST_SH" pid "$h" "$HOSTS_DIR/$h") || die "host $h is not up (ci/lab.sh up)"
  exec nsenter -t "$pid" -a -- env -i -C /root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  exec) shift; cmd_exec "$@" ;;
  is-host) is_host "${2:-}" ;;
  *)
    sed -n '2,/is-host NAME/s/^# \{0,1\}//p' "$SELF" >&2
    exit 2
    ;;
esac
