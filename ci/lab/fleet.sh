#!/usr/bin/env bash
# ci/lab/fleet.sh: the whole lab as a real fleet has it, in one inventory: every host logged in
# as `deploy` and reading as root with `become` (sudo; doas on web2; db2's sudo asks deploy's
# password), the systemd hosts sd1 and sd2, and int1 and int2 reached only through the bastion.
# `ci/lab.sh up` runs `up` last (it reads the files the other parts wrote), `down` removes it:
#
#   ci/lab/fleet.sh up     write $LAB_DIR/fleet.toml and $LAB_DIR/fleet_known_hosts
#   ci/lab/fleet.sh down   remove them
#
# fleet.toml: the base hosts as in deploy.toml (app1: become = false, deploy has no sudo
# rights there), sd1 and sd2 (group systemd), bastion (group jump) and int1, int2 (group
# internal, proxy_jump = "bastion"). The project's features/ and the fault matrix run with it
# (tests/lab/fleet.rs, tests/lab/faults.rs). Secrets, as for deploy.toml:
#   export SHAKEDOWN_MYSQL_PASSWORD=$(cat .lab/mysql_password)
#   export SHAKEDOWN_BECOME_PASSWORD=$(cat .lab/deploy_sudo_password)
#   shakedown run -i .lab/fleet.toml -t 'not @deploy' features/
set -euo pipefail

SELF=$(readlink -f "$0")
REPO=$(dirname "$(dirname "$(dirname "$SELF")")")
LAB_DIR=$(realpath -m "${LAB_DIR:-$REPO/.lab}")

die() {
  echo "lab fleet: $*" >&2
  exit 1
}

cmd_up() {
  local f
  for f in deploy.toml known_hosts systemd_known_hosts bastion_known_hosts; do
    [ -s "$LAB_DIR/$f" ] || die "$LAB_DIR/$f is missing (ci/lab.sh up makes it)"
  done
  cat "$LAB_DIR"/{known_hosts,systemd_known_hosts,bastion_known_hosts} >"$LAB_DIR/fleet_known_hosts.tmp"
  mv "$LAB_DIR/fleet_known_hosts.tmp" "$LAB_DIR/fleet_known_hosts"
  {
    cat <<EOT
# The whole lab as a real fleet: every host logged in as deploy, reading as root with become;
# int1 and int2 through the bastion. Written by ci/lab/fleet.sh up: do not edit.
# Secrets: SHAKEDOWN_MYSQL_PASSWORD=\$(cat $LAB_DIR/mysql_password),
# SHAKEDOWN_BECOME_PASSWORD=\$(cat $LAB_DIR/deploy_sudo_password) (db2's sudo).
[defaults]
user = "deploy"
identity_file = "$LAB_DIR/id_ed25519"
known_hosts_file = "$LAB_DIR/fleet_known_hosts"
host_key_checking = "strict"
connect_timeout = "5s"
become = true
EOT
    # the base hosts: deploy.toml's tables, after its [defaults]
    sed -n '/^\[hosts\./,$p' "$LAB_DIR/deploy.toml"
    cat <<'EOT'

[hosts.sd1]
address = "10.77.0.51"
groups = ["systemd"]

[hosts.sd2]
address = "10.77.0.52"
groups = ["systemd"]

[hosts.bastion]
address = "10.77.0.60"
groups = ["jump"]

[hosts.int1]
address = "10.77.200.11"
groups = ["internal"]
proxy_jump = "bastion"

[hosts.int2]
address = "10.77.200.12"
groups = ["internal"]
proxy_jump = "bastion"
EOT
  } >"$LAB_DIR/fleet.toml.tmp"
  mv "$LAB_DIR/fleet.toml.tmp" "$LAB_DIR/fleet.toml"
}

cmd_down() { rm -f "$LAB_DIR"/{fleet.toml,fleet.toml.tmp,fleet_known_hosts,fleet_known_hosts.tmp}; }

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  *) die "usage: $0 up|down" ;;
esac
