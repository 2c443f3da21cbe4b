#!/usr/bin/env bash
# ci/lab/systemd-host.sh: a lab host booted with systemd as PID 1 (systemd-nspawn), for the
# service steps on real systemd (the other lab hosts run their daemons without an init).
#
#   ci/lab/systemd-host.sh up NAME ADDR ROLE DIR   build DIR/root and boot it; wait until sshd
#                                                  answers on ADDR:22 and systemd has finished
#                                                  booting (is-system-running: running, or
#                                                  degraded with the failed units listed)
#   ci/lab/systemd-host.sh down NAME DIR           power it off (SIGRTMIN+4 to its systemd, 5 s),
#                                                  then SIGKILL whatever is left of it; fine
#                                                  when it is not running
#   ci/lab/systemd-host.sh exec NAME DIR -- CMD... run CMD inside it (nsenter into its systemd)
#   ci/lab/systemd-host.sh pid NAME DIR            print its systemd's pid (exit 1 when down)
#
# ROLE: `web` (nginx as the systemd unit nginx.service, enabled) or `plain` (sshd only).
# Env: BRIDGE (default sdlab0, must exist), KEY_PUB (the lab client key's .pub, authorised for
# root), PREFIX (the address's prefix length, default 16).
#
# How (measured on this machine: systemd 252 boots to sshd in about 2-3 s):
#   systemd-nspawn -D DIR/root --bind-ro=/usr --register=no --keep-unit
#     --network-bridge=BRIDGE --console=passive -b -- systemd.firstboot=off
# DIR/root holds its own copy of this machine's /etc (about 6 MB; fresh ssh host keys,
# hostname and machine-id), its own small /var (dpkg's database copied, so package steps
# read the machine's packages), the `bin sbin lib lib64` links into /usr, and a copy of
# usr/lib/os-release (nspawn refuses a root without one). /usr is this machine's, read-only.
# Only units the role names are enabled (every *.wants link of the copied /etc is removed,
# and the SysV rc links, so no LSB script is started); the address is set by the oneshot
# unit lab-net.service on host0 (the container's end of the veth that nspawn puts on the
# bridge), so systemd-networkd is not needed. The machine runs with cgroup v1 (hybrid):
# --register=no --keep-unit are required. The nspawn process is started with setsid and its
# pid kept in DIR/nspawn.pid; its container's systemd's pid in DIR/init.pid.
set -euo pipefail

BRIDGE=${BRIDGE:-sdlab0}
PREFIX=${PREFIX:-16}
die() {
  echo "systemd-host: $*" >&2
  exit 1
}

# The pid of NAME's systemd: the child of its nspawn process.
init_pid() {
  local dir=$1 np
  [ -s "$dir/nspawn.pid" ] || return 1
  np=$(cat "$dir/nspawn.pid")
  [ -d "/proc/$np" ] || return 1
  pgrep -P "$np" -x systemd | head -1
}

build_root() {
  local name=$1 addr=$2 role=$3 root=$4
  rm -rf "$root"
  mkdir -p "$root"/{usr/lib,var/lib,var/log,var/cache,var/tmp,var/spool,root/.ssh,proc,sys,dev,run,tmp}
  cp -a /etc "$root/etc"
  cp /usr/lib/os-release "$root/usr/lib/"
  for d in bin sbin lib lib64; do ln -s "usr/$d" "$root/$d"; done
  cp -a /var/lib/dpkg "$root/var/lib/"
  # Nothing enabled but what the role asks for.
  find "$root/etc/systemd/system" -path '*.wants/*' -delete
  find "$root/etc" -maxdepth 2 -path "$root/etc/rc?.d/*" -delete
  local wants=$root/etc/systemd/system/multi-user.target.wants
  mkdir -p "$wants"
  ln -s /lib/systemd/system/ssh.service "$wants/ssh.service"
  if [ "$role" = web ]; then
    ln -s /lib/systemd/system/nginx.service "$wants/nginx.service"
    mkdir -p "$root/var/lib/nginx" "$root/var/log/nginx" "$root/var/www/html"
    echo "Welcome to $name" >"$root/var/www/html/index.html"
  fi
  echo "$name" >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n%s\t%s\n' "$addr" "$name" >"$root/etc/hosts"
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$root/etc/machine-id"
  echo >>"$root/etc/machine-id"
  rm -f "$root"/etc/ssh/ssh_host_*
  ssh-keygen -q -A -f "$root"
  cp "$KEY_PUB" "$root/root/.ssh/authorized_keys"
  chmod 700 "$root/root/.ssh"
  cat >"$root/etc/systemd/system/lab-net.service" <<EOF
[Unit]
Description=Lab address on host0
DefaultDependencies=no
Before=network.target ssh.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/ip link set host0 up
ExecStart=/usr/sbin/ip addr replace $addr/$PREFIX dev host0
[Install]
WantedBy=multi-user.target
EOF
  ln -s ../lab-net.service "$wants/lab-net.service"
}

up() {
  local name=$1 addr=$2 role=$3 dir=$4
  case $role in web | plain) ;; *) die "role must be web or plain, not '$role'" ;; esac
  [ -n "${KEY_PUB:-}" ] && [ -f "$KEY_PUB" ] || die "KEY_PUB must name the lab key's .pub"
  ip link show "$BRIDGE" >/dev/null 2>&1 || die "no bridge $BRIDGE (bring the lab up first)"
  down "$name" "$dir"
  mkdir -p "$dir"
  build_root "$name" "$addr" "$role" "$dir/root"
  setsid systemd-nspawn -D "$dir/root" --bind-ro=/usr --register=no --keep-unit \
    --network-bridge="$BRIDGE" --console=passive -M "$name" -b -- systemd.firstboot=off \
    >"$dir/boot.log" 2>&1 </dev/null &
  echo $! >"$dir/nspawn.pid"
  local deadline=$((SECONDS + 60)) pid="" state=""
  while [ $SECONDS -lt $deadline ]; do
    if [ -z "$pid" ]; then pid=$(init_pid "$dir" || true); fi
    if [ -n "$pid" ]; then
      state=$(nsenter -t "$pid" -a systemctl is-system-running 2>/dev/null || true)
      case $state in running | degraded) break ;; esac
    fi
    [ -d "/proc/$(cat "$dir/nspawn.pid")" ] || die "$name: nspawn exited: $(tail -3 "$dir/boot.log")"
    sleep 0.2
  done
  case $state in running | degraded) ;; *) die "$name: not booted after 60 s (state '$state')" ;; esac
  echo "$pid" >"$dir/init.pid"
  if [ "$state" = degraded ]; then
    echo "systemd-host: $name degraded: $(nsenter -t "$pid" -a systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')" >&2
  fi
}

down() {
  local name=$1 dir=$2 pid np
  [ -d "$dir" ] || return 0
  pid=$(init_pid "$dir" || true)
  np=$(cat "$dir/nspawn.pid" 2>/dev/null || true)
  if [ -n "$pid" ]; then
    kill -s RTMIN+4 "$pid" 2>/dev/null || true # systemd: poweroff
    local deadline=$((SECONDS + 5))
    while [ -n "$np" ] && [ -d "/proc/$np" ] && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  fi
  # Whatever is left: the container's PID 1 takes its namespace down with it.
  if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then kill -9 "$pid" 2>/dev/null || true; fi
  if [ -n "$np" ] && [ -d "/proc/$np" ]; then kill -9 "$np" 2>/dev/null || true; fi
  ip link del "vb-$name" 2>/dev/null || true
  rm -f "$dir/nspawn.pid" "$dir/init.pid"
}

cmd=${1:-}
shift || true
case $cmd in
  up) [ $# -eq 4 ] || die "usage: up NAME ADDR ROLE DIR"; up "$@" ;;
  down) [ $# -eq 2 ] || die "usage: down NAME DIR"; down "$@" ;;
  pid) [ $# -eq 2 ] || die "usage: pid NAME DIR"; init_pid "$2" ;;
  exec)
    [ $# -ge 4 ] && [ "$3" = -- ] || die "usage: exec NAME DIR -- CMD..."
    pid=$(init_pid "$2") || die "$1 is not running"
    shift 3
    exec nsenter -t "$pid" -a -- "$@"
    ;;
  *) die "usage: $0 up|down|exec|pid ..." ;;
esac
