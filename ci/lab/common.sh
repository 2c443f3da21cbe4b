# ci/lab/common.sh: what ci/lab.sh and its parts (ci/lab/{systemd,become,bastion}.sh) share,
# sourced by each after it has set LAB_DIR (absolute) and LAB_PART (the prefix of its
# messages, e.g. `lab`, `bastion`): where the hosts live, messages, the one lab lock, polling.
# shellcheck shell=bash

# The hosts' layers, keys, datadirs and logs: a tmpfs (fast to fill, instant to remove). Each
# host covers /etc, /var, /run, /tmp, /mnt and /root with its own mounts, and host-init.sh
# reads its directory after some of them: a LAB_DIR under one of those (a checkout in /tmp)
# keeps its hosts under /srv/shakedown-lab/ instead, one directory per LAB_DIR.
case $LAB_DIR/ in
  /etc/* | /var/* | /run/* | /tmp/* | /mnt/* | /root/*)
    HOSTS_DIR=/srv/shakedown-lab/$(printf %s "$LAB_DIR" | md5sum | cut -c1-12)/hosts ;;
  *) HOSTS_DIR=$LAB_DIR/hosts ;;
esac
# One lock for every change to the lab (up, down, a part's up or down).
LOCK_FILE=/run/lock/sdlab.lock

die() {
  echo "$LAB_PART: $*" >&2
  exit 1
}
log() { echo "$LAB_PART: $*" >&2; }
need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root"; }

# Takes the lab lock on fd 9 (held until exit), unless the caller holds it (LAB_LOCK_HELD=1:
# ci/lab.sh up and down running a part).
lock() {
  [ -n "${LAB_LOCK_HELD:-}" ] && return 0
  mkdir -p "$(dirname "$LOCK_FILE")"
  exec 9>"$LOCK_FILE"
  flock -w 900 9 || die "another ci/lab.sh up/down holds $LOCK_FILE"
}

# poll DEADLINE WHAT CMD...: runs CMD until it succeeds, every 50 ms, for at most DEADLINE
# seconds (then logs that WHAT was not ready and fails).
poll() {
  local deadline=$1 what=$2 end
  shift 2
  end=$((${EPOCHREALTIME/./} + deadline * 1000000))
  until "$@"; do
    if [ "${EPOCHREALTIME/./}" -gt "$end" ]; then
      log "$what: not ready within ${deadline}s"
      return 1
    fi
    sleep 0.05
  done
}
