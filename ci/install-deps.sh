#!/usr/bin/env bash
# Installs (Debian/apt) everything the project's tests and the lab (ci/lab.sh) need.
# Idempotent: asks dpkg what is missing first and does nothing (no `apt-get update`) when
# everything is there. Package installs must not start daemons in the root namespace: a
# /usr/sbin/policy-rc.d that exits 101 is put in place for the install (and removed after
# only if this script created it), and any daemon that the install started anyway in the
# root namespace is stopped again (by pid, only processes that appeared during the install).
set -euo pipefail

PACKAGES=(
  # lab plumbing (ci/lab.sh)
  iproute2 util-linux procps passwd tini iptables openssl python3 curl socat ca-certificates
  # the systemd hosts sd1, sd2 (ci/lab/systemd.sh: systemd-nspawn, systemd 252 as PID 1)
  systemd systemd-container sudo
  # what the lab hosts run
  openssh-server openssh-client mariadb-server mariadb-client nginx haproxy apache2 cron
  php-cli php-curl
  # become: the deploy user's sudo and doas (ci/lab/become.sh)
  sudo doas
  # tests (JUnit schema checks)
  libxml2-utils git
  # tests of the operations paths: a real SMTP server (aiosmtpd under /usr/bin/python3),
  # the NSCA 2.x daemon, and Icinga 2 for its API (src/notify/)
  python3-aiosmtpd nsca icinga2-bin
  # the HTML report (tests/lab/html.rs): rendered in headless Chromium, fonts with its
  # symbols, validated with tidy (and vnu, below, when npm is there)
  chromium fonts-dejavu-core tidy
)
# daemons a package install may start in the root namespace
DAEMONS=(apache2 nginx mariadbd mysqld haproxy sshd cron php-fpm8.2 nsca icinga2)

# The Nu HTML Checker (vnu), the W3C's validator, from the npm package vnu-jar (the jar runs
# on the installed Java): tests/lab/html.rs prefers it to tidy. Optional: without npm, or
# offline, tidy validates alone.
install_vnu() {
  local jar=/opt/vnu/node_modules/vnu-jar/build/dist/vnu.jar
  if [ -f "$jar" ] || ! command -v npm >/dev/null; then return 0; fi
  echo "install-deps: installing vnu-jar (npm) into /opt/vnu"
  timeout 300 npm install --prefix /opt/vnu --ignore-scripts --no-audit --no-fund vnu-jar >/dev/null 2>&1 \
    || echo "install-deps: vnu-jar not installed (tidy validates the HTML report)"
}

missing=()
for p in "${PACKAGES[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  install_vnu
  exit 0
fi
echo "install-deps: installing ${missing[*]}"

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: must run as root to install: ${missing[*]}" >&2
  exit 1
fi

# processes of the root pid+net namespace with a given name
root_ns_pids() { pgrep --ns $$ --nslist pid,net -x "$1" 2>/dev/null || true; }
declare -A before=()
for d in "${DAEMONS[@]}"; do
  for pid in $(root_ns_pids "$d"); do before[$pid]=1; done
done

created_policy=0
cleanup() {
  if [ "$created_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# installed by shakedown ci/install-deps.sh for the duration of an install\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  created_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

# Stop what the install started anyway (only new processes of the root namespaces).
for d in "${DAEMONS[@]}"; do
  for pid in $(root_ns_pids "$d"); do
    if [ -z "${before[$pid]:-}" ]; then
      echo "install-deps: stopping $d (pid $pid) started by the install"
      kill "$pid" 2>/dev/null || true
    fi
  done
done
install_vnu
echo "install-deps: done"
