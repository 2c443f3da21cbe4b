#!/usr/bin/env bash
# ci/lab/bastion.sh: hosts behind a bastion (jump host), added to the running lab and removed
# from it on their own. `ci/lab.sh up` / `down` / `status` call it; by hand (as root):
#
#   ci/lab/bastion.sh up       make (or keep) the bridge, the route and the three hosts below,
#                              wait until int1 and int2 answer through the bastion, write the
#                              files below. Idempotent. Needs the lab up (bridge sdlab0, key)
#   ci/lab/bastion.sh down     remove all of it; fine when nothing is up
#   ci/lab/bastion.sh status   one line per host, the route, a login through the bastion;
#                              exit 0 only when all is up
#
#   host     address                     runs         logins
#   bastion  10.77.0.60/16 on sdlab0     sshd         deploy (and root) with the lab key
#            10.77.200.1/24 on sdlab1
#   int1     10.77.200.11/24 on sdlab1   sshd, nginx  deploy (and root)
#   int2     10.77.200.12/24 on sdlab1   sshd         deploy only (PermitRootLogin no)
#
# The hosts are ci/lab.sh namespace hosts (`ci/lab.sh _host NAME`, so `ci/lab.sh exec int1
# -- CMD` works), each with its own /home ($HOSTS_DIR/NAME/home bound on it) and the `deploy`
# user of ci/lab/deploy-user.sh (uid 2000, lab key, passwordless sudo). They are not in
# inventory.toml. The internal bridge sdlab1 has no address on the controller, the bastion
# does not forward packets (net.ipv4.ip_forward=0 in its namespace: it only relays ssh
# channels) and int1/int2 have no route beyond 10.77.200.0/24, so they answer only through
# the bastion. The controller gets `unreachable 10.77.200.0/24`, more specific than sdlab0's
# 10.77.0.0/16: a direct connection to an internal host fails at once and never leaves this
# machine by its default route (`ip route get 10.77.200.11` says unreachable).
#
# Files in $LAB_DIR (removed by down):
#   bastion.toml        native inventory: hosts bastion, int1, int2 (group internal), user
#                       deploy, group internal has proxy_jump = "bastion"
#   bastion.ini         Ansible inventory: the same, through
#                       ansible_ssh_common_args='-o ProxyJump=deploy@10.77.0.60:22'
#   bastion_ssh_config  an ssh_config file: Host bastion, int1 (ProxyJump bastion), int2...
#                       (`ssh -F .lab/bastion_ssh_config int1`; the inventory key ssh_config)
#   bastion_known_hosts the three hosts' keys (`ADDR ssh-ed25519 KEY`)
# State: bridge sdlab1, route unreachable 10.77.200.0/24, namespaces sdlab-{bastion,int1,int2},
#   veths sdl-bastion, sdl1-bastion, sdl-int1, sdl-int2, their dirs under $HOSTS_DIR.
# Env: LAB_DIR (default <repo>/.lab); LAB_LOCK_HELD=1 when the caller holds the lab's lock.
set -euo pipefail
umask 022

SELF=$(readlink -f "$0")
LABSRC=$(dirname "$SELF")
REPO=$(dirname "$(dirname "$LABSRC")")
LAB_SH=$REPO/ci/lab.sh
LAB_DIR=$(realpath -m "${LAB_DIR:-$REPO/.lab}")
export LAB_DIR
BRIDGE1=sdlab1
SUBNET=10.77.200.0/24
BASTION_INNER=10.77.200.1/24
HOSTS=(bastion int1 int2)
declare -A ADDR=([bastion]=10.77.0.60 [int1]=10.77.200.11 [int2]=10.77.200.12)
KEY=$LAB_DIR/id_ed25519
KH=$LAB_DIR/bastion_known_hosts
FILES=(bastion.toml bastion.ini bastion_ssh_config bastion_known_hosts bastion.bridge)

LAB_PART=bastion
# shellcheck source=ci/lab/common.sh
. "$LABSRC/common.sh"

hexec() { "$LAB_SH" exec "$@" 9>&-; }

# `ip route get` of an internal address fails with "No route to host" (the unreachable route)
route_unreachable() {
  ! ip route get "${ADDR[int1]}" >/dev/null 2>&1 &&
    [[ "$(ip route show "$SUBNET")" == "unreachable $SUBNET"* ]]
}

# a real login as deploy through the bastion, with the lab key and strict host key checking
ssh_through() {
  ssh -F "$LAB_DIR/bastion_ssh_config" -o BatchMode=yes -o LogLevel=ERROR "$1" true </dev/null 9>&-
}

write_files() {
  local h
  for h in "${HOSTS[@]}"; do
    echo "${ADDR[$h]} $(cut -d' ' -f1,2 "$HOSTS_DIR/$h/ssh_host_ed25519_key.pub")"
  done >"$KH.tmp"
  mv "$KH.tmp" "$KH"

  cat >"$LAB_DIR/bastion_ssh_config.tmp" <<EOF
# ssh configuration of the hosts behind the lab's bastion, written by ci/lab/bastion.sh.
#   ssh -F $LAB_DIR/bastion_ssh_config int1
Host bastion
  HostName ${ADDR[bastion]}
Host int1
  HostName ${ADDR[int1]}
  ProxyJump bastion
Host int2
  HostName ${ADDR[int2]}
  ProxyJump bastion
Host bastion int1 int2
  User deploy
  Port 22
  IdentityFile $KEY
  IdentitiesOnly yes
  UserKnownHostsFile $KH
  StrictHostKeyChecking yes
  ConnectTimeout 5
EOF
  mv "$LAB_DIR/bastion_ssh_config.tmp" "$LAB_DIR/bastion_ssh_config"

  cat >"$LAB_DIR/bastion.toml.tmp" <<EOF
# shakedown inventory of the hosts behind the lab's bastion, written by ci/lab/bastion.sh.
# int1 and int2 answer only through the bastion (proxy_jump), and only as deploy.
[defaults]
user = "deploy"
port = 22
identity_file = "$KEY"
known_hosts_file = "$KH"
host_key_checking = "strict"
connect_timeout = "5s"

[hosts.bastion]
address = "${ADDR[bastion]}"
groups = ["jump"]

[hosts.int1]
address = "${ADDR[int1]}"
groups = ["internal"]

[hosts.int2]
address = "${ADDR[int2]}"
groups = ["internal"]

[groups.internal]
proxy_jump = "bastion"
EOF
  mv "$LAB_DIR/bastion.toml.tmp" "$LAB_DIR/bastion.toml"

  cat >"$LAB_DIR/bastion.ini.tmp" <<EOF
# Ansible inventory of the hosts behind the lab's bastion, written by ci/lab/bastion.sh.
[jump]
bastion ansible_host=${ADDR[bastion]}

[internal]
int1 ansible_host=${ADDR[int1]}
int2 ansible_host=${ADDR[int2]}

[internal:vars]
ansible_ssh_common_args='-o ProxyJump=deploy@${ADDR[bastion]}:22 -o UserKnownHostsFile=$KH -o StrictHostKeyChecking=yes'

[all:vars]
ansible_user=deploy
ansible_port=22
ansible_ssh_private_key_file=$KEY
shakedown_known_hosts_file=$KH
shakedown_host_key_checking=strict
shakedown_connect_timeout=5s
EOF
  mv "$LAB_DIR/bastion.ini.tmp" "$LAB_DIR/bastion.ini"
}

cmd_up() {
  need_root
  [ -s "$KEY.pub" ] && ip link show sdlab0 >/dev/null 2>&1 || die "the lab is not up (ci/lab.sh up)"
  lock
  local t0=${EPOCHREALTIME/./} h
  # the internal bridge: no address here; the route keeps the subnet on this machine
  if ! ip link show "$BRIDGE1" >/dev/null 2>&1; then
    ip link add "$BRIDGE1" type bridge
  fi
  : >"$LAB_DIR/bastion.bridge"
  ip link set "$BRIDGE1" up
  ip route replace unreachable "$SUBNET"
  route_unreachable || die "ip route get ${ADDR[int1]} does not say unreachable"

  for h in "${HOSTS[@]}"; do
    "$LAB_SH" _host "$h" 9>&- || die "$h did not come up"
  done
  # the bastion's leg on the internal bridge (gone with its namespace when it is remade)
  if ! ip -n sdlab-bastion link show eth1 >/dev/null 2>&1; then
    ip link delete sdl1-bastion 2>/dev/null || true
    ip link add sdl1-bastion type veth peer name eth1 netns sdlab-bastion
    ip link set sdl1-bastion master "$BRIDGE1" up
    ip -n sdlab-bastion addr add "$BASTION_INNER" dev eth1
    ip -n sdlab-bastion link set eth1 up
  fi
  ip netns exec sdlab-bastion sysctl -qw net.ipv4.ip_forward=0

  local pub
  pub=$(cat "$KEY.pub")
  for h in "${HOSTS[@]}"; do
    mkdir -p "$HOSTS_DIR/$h/home"
    # shellcheck disable=SC2016 # expanded inside the host
    hexec "$h" -- sh -c 'mountpoint -q /home || mount --bind "$1" /home' _ "$HOSTS_DIR/$h/home"
    hexec "$h" -- sh -s -- nopasswd "$pub" <"$LABSRC/deploy-user.sh"
    # its own name resolves (sudo looks it up)
    # shellcheck disable=SC2016 # expanded inside the host
    hexec "$h" -- sh -c 'grep -q "[[:space:]]$2\$" /etc/hosts || printf "%s\t%s\n" "$1" "$2" >>/etc/hosts' _ "${ADDR[$h]}" "$h"
  done
  # int2 is reached only as deploy
  if ! hexec int2 -- grep -qx 'PermitRootLogin no' /etc/ssh/sshd_config_lab; then
    hexec int2 -- sed -i 's/^PermitRootLogin .*/PermitRootLogin no/' /etc/ssh/sshd_config_lab
    hexec int2 -- /etc/lab/svc restart sshd >/dev/null
  fi

  write_files
  for h in int1 int2; do
    poll 15 "ssh deploy@$h through the bastion" ssh_through "$h" || die "cannot ssh to $h through the bastion"
  done
  echo "bastion: up in $(((${EPOCHREALTIME/./} - t0) / 1000)) ms: bastion ${ADDR[bastion]}, int1 ${ADDR[int1]}, int2 ${ADDR[int2]} on $BRIDGE1"
  echo "  inventory  $LAB_DIR/bastion.toml (Ansible: bastion.ini, ssh_config: bastion_ssh_config)"
}

cmd_down() {
  need_root
  lock
  local h
  "$LAB_SH" _destroy "${HOSTS[@]}" 9>&- 2>/dev/null || true
  ip link delete sdl1-bastion 2>/dev/null || true
  if [ -e "$LAB_DIR/bastion.bridge" ] || ip link show "$BRIDGE1" >/dev/null 2>&1; then
    ip link delete "$BRIDGE1" 2>/dev/null || true
  fi
  ip route del unreachable "$SUBNET" 2>/dev/null || true
  for h in "${FILES[@]}"; do rm -f "$LAB_DIR/$h" "$LAB_DIR/$h.tmp"; done
  echo "bastion: down"
}

cmd_status() {
  local h all=0 st
  if [ ! -d "$HOSTS_DIR/bastion" ]; then
    echo "bastion: down"
    return 1
  fi
  for h in "${HOSTS[@]}"; do
    if st=$(hexec "$h" -- /etc/lab/svc status 2>/dev/null </dev/null); then
      printf '%-7s %-13s up   %s\n' "$h" "${ADDR[$h]}" "$(echo "$st" | tr '\n' ' ')"
    else
      printf '%-7s %-13s FAIL %s\n' "$h" "${ADDR[$h]}" "$(echo "$st" | tr '\n' ' ')"
      all=1
    fi
  done
  if route_unreachable; then echo "route: $SUBNET unreachable from the controller"; else
    echo "route: $SUBNET NOT unreachable (ip route replace unreachable $SUBNET)"
    all=1
  fi
  for h in int1 int2; do
    if ssh_through "$h" 2>/dev/null; then echo "ssh: deploy@$h through the bastion: ok"; else
      echo "ssh: deploy@$h through the bastion: FAIL"
      all=1
    fi
  done
  return $all
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *)
    sed -n '2,/^# Env:/s/^# \{0,1\}//p' "$SELF" >&2
    exit 2
    ;;
esac
