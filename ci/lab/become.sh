#!/usr/bin/env bash
# ci/lab/become.sh: the `deploy` login user on the base hosts, as a real fleet has it (log in
# with a key, read as root through sudo or doas), applied to the running lab and removed from
# it on its own. `ci/lab.sh up` / `down` / `status` call it; by hand (as root):
#
#   ci/lab/become.sh up       give each base host its own /home, make deploy there (below),
#                             check every login and sudo, write the files below. Idempotent.
#                             Needs the lab up
#   ci/lab/become.sh down     remove all of it (user, sudoers and doas rules, /home binds,
#                             files); fine when nothing is up
#   ci/lab/become.sh status   one line per base host; exit 0 only when all is as below
#
#   host   deploy's rights (ci/lab/deploy-user.sh: uid 2000, lab key, /home/deploy, bash)
#   web1   sudo without a password
#   web2   sudo without a password, and doas (`permit nopass deploy` in /etc/doas.conf)
#   lb1    sudo without a password
#   db1    sudo without a password
#   db2    sudo WITH a password only (deploy's own, generated at the first up)
#   app1   no sudo rights at all
# Root keeps logging in with the lab key on every base host (every other test does).
# The base hosts share this machine's /home unless given their own: up binds
# $HOSTS_DIR/HOST/home on /home inside each (ci/lab.sh exec), so no lab user's home lands
# on this machine.
#
# Files in $LAB_DIR (removed by down):
#   deploy.toml              native inventory of the base hosts logged in as deploy, with
#                            become (db2: become_password_env = "SHAKEDOWN_BECOME_PASSWORD";
#                            web2: become_method = "doas"; app1: become = false, no rights)
#   deploy_sudo_password     db2's sudo password (mode 0600; never printed:
#                            export SHAKEDOWN_BECOME_PASSWORD=$(cat .lab/deploy_sudo_password))
# Env: LAB_DIR (default <repo>/.lab); LAB_LOCK_HELD=1 when the caller holds the lab's lock.
set -euo pipefail
umask 022

SELF=$(readlink -f "$0")
LABSRC=$(dirname "$SELF")
REPO=$(dirname "$(dirname "$LABSRC")")
LAB_SH=$REPO/ci/lab.sh
LAB_DIR=$(realpath -m "${LAB_DIR:-$REPO/.lab}")
export LAB_DIR
HOSTS=(web1 web2 lb1 db1 db2 app1)
declare -A SUDO=([web1]=nopasswd [web2]=nopasswd [lb1]=nopasswd [db1]=nopasswd [db2]=password [app1]=none)
KEY=$LAB_DIR/id_ed25519
PASSWORD_FILE=$LAB_DIR/deploy_sudo_password
FILES=(deploy.toml deploy.toml.tmp deploy_sudo_password)

LAB_PART=become
# shellcheck source=ci/lab/common.sh
. "$LABSRC/common.sh"

hexec() { "$LAB_SH" exec "$@" 9>&-; }
is_up() { "$LAB_SH" exec "$1" -- true >/dev/null 2>&1; }
addr() { "$LAB_SH" addr "$1"; }

# a login as deploy with the lab key, then CMD there; bounded
as_deploy() {
  local h=$1
  shift
  timeout 10 ssh -n -i "$KEY" -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=5 \
    -o UserKnownHostsFile="$LAB_DIR/known_hosts" -o StrictHostKeyChecking=yes \
    "deploy@$(addr "$h")" "$@"
}

cmd_up() {
  need_root
  [ -e "$LAB_DIR/inventory.toml" ] && [ -e "$KEY.pub" ] || die "the lab is not up (ci/lab.sh up)"
  lock
  local h key pw
  key=$(cat "$KEY.pub")
  if [ ! -s "$PASSWORD_FILE" ]; then
    (umask 077 && openssl rand -hex 16 >"$PASSWORD_FILE.tmp" && mv "$PASSWORD_FILE.tmp" "$PASSWORD_FILE")
  fi
  chmod 0600 "$PASSWORD_FILE"
  for h in "${HOSTS[@]}"; do
    mkdir -p "$HOSTS_DIR/$h/home"
    hexec "$h" -- sh -c 'mountpoint -q /home || mount --bind "$1" /home' _ "$HOSTS_DIR/$h/home"
    hexec "$h" -- sh -s -- "${SUDO[$h]}" "$key" <"$LABSRC/deploy-user.sh"
    case $h in
      db2) # the password on chpasswd's stdin, never on a command line
        printf 'deploy:%s\n' "$(cat "$PASSWORD_FILE")" | hexec "$h" -- chpasswd ;;
    esac
    if [ "$h" = web2 ]; then
      hexec "$h" -- sh -c 'umask 077; printf "permit nopass deploy\n" >/etc/doas.conf.tmp && mv /etc/doas.conf.tmp /etc/doas.conf'
    else
      hexec "$h" -- rm -f /etc/doas.conf
    fi
  done
  check || die "deploy is not as it should be (above)"
  write_inventory
  echo "become: deploy on ${HOSTS[*]} (inventory $LAB_DIR/deploy.toml, db2's sudo password in $PASSWORD_FILE)"
}

write_inventory() {
  local h toml=$LAB_DIR/deploy.toml
  {
    echo "# The lab's base hosts logged in as deploy, reading as root with become: written by"
    echo "# ci/lab/become.sh up, do not edit. Secrets: export SHAKEDOWN_MYSQL_PASSWORD=\$(cat $LAB_DIR/mysql_password)"
    echo "# and SHAKEDOWN_BECOME_PASSWORD=\$(cat $PASSWORD_FILE) (db2's sudo asks deploy's password)."
    echo "[defaults]"
    echo 'user = "deploy"'
    echo "identity_file = \"$KEY\""
    echo "known_hosts_file = \"$LAB_DIR/known_hosts\""
    echo 'host_key_checking = "strict"'
    echo 'connect_timeout = "5s"'
    echo "become = true"
  } >"$toml.tmp"
  # every base host of the lab's own inventory (address, groups, vars, mysql), no bench host
  awk '/^\[/ { skip = ($0 ~ /^\[hosts\.h[0-9]/) } /^\[hosts\./ { on = 1 } on && !skip' \
    "$LAB_DIR/inventory.toml" >>"$toml.tmp"
  # per-host become settings: after each host's own header
  for h in web2 db2 app1; do
    case $h in
      web2) line='become_method = "doas"' ;;
      db2) line='become_password_env = "SHAKEDOWN_BECOME_PASSWORD"' ;;
      app1) line='become = false  # deploy has no sudo rights here: checks run as deploy' ;;
    esac
    sed -i "/^\[hosts\.$h\]\$/a $line" "$toml.tmp"
  done
  mv "$toml.tmp" "$toml"
}

# every host: deploy logs in; sudo (or its refusal) as configured; exit 0 when all hold
check() {
  local h out bad=0
  for h in "${HOSTS[@]}"; do
    out=$(as_deploy "$h" 'id -u; sudo -n true 2>&1; echo "sudo=$?"' 2>&1) || true
    case ${SUDO[$h]} in
      nopasswd) [[ $out == 2000*sudo=0 ]] || { echo "  $h: deploy login or sudo -n failed: $out" >&2; bad=1; } ;;
      *) [[ $out == 2000*"password is required"*sudo=1 ]] || { echo "  $h: expected sudo to ask a password: $out" >&2; bad=1; } ;;
    esac
  done
  out=$(as_deploy web2 'doas -n id -u' 2>&1) || true
  [ "$out" = 0 ] || { echo "  web2: doas -n id -u: $out" >&2; bad=1; }
  return $bad
}

cmd_status() {
  local h ok=0
  for h in "${HOSTS[@]}"; do
    if ! is_up "$h"; then
      printf '%-5s DOWN\n' "$h"
      ok=1
      continue
    fi
    printf '%-5s deploy uid %s, sudo %s\n' "$h" "$(hexec "$h" -- id -u deploy 2>/dev/null || echo none)" "${SUDO[$h]}"
  done
  [ -s "$LAB_DIR/deploy.toml" ] || { echo "no $LAB_DIR/deploy.toml"; ok=1; }
  if [ $ok = 0 ]; then check || ok=1; fi
  [ $ok = 0 ] && echo "become: deploy logs in everywhere, sudo/doas as configured"
  return $ok
}

cmd_down() {
  need_root
  lock
  local h
  for h in "${HOSTS[@]}"; do
    is_up "$h" || continue
    hexec "$h" -- sh -c 'rm -f /etc/sudoers.d/deploy /etc/doas.conf
      if id deploy >/dev/null 2>&1; then pkill -KILL -u deploy 2>/dev/null || true; userdel deploy; fi
      getent group deploy >/dev/null && groupdel deploy || true
      if mountpoint -q /home; then umount /home; fi' || true
  done
  for h in "${HOSTS[@]}"; do rm -rf "${HOSTS_DIR:?}/$h/home"; done
  for f in "${FILES[@]}"; do rm -f "$LAB_DIR/$f"; done
  echo "become: down"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) die "usage: ci/lab/become.sh up|down|status" ;;
esac
