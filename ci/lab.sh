#!/usr/bin/env bash
# ci/lab.sh: a lab of real hosts on this one machine, for shakedown's integration tests.
#
#   ci/lab.sh up [--hosts N]      bring the lab up and wait until every daemon answers, MariaDB
#                                 replicates and HAProxy sees web1+web2 UP. Idempotent: a second
#                                 call keeps what runs, restarts what does not and resets the
#                                 fault switches below. --hosts N: N extra bench hosts (without
#                                 it, keep as many as there are; fewer than there are removes
#                                 the surplus)
#   ci/lab.sh down                remove everything `up` made; fine when nothing is up
#   ci/lab.sh status              one line per host: address, each daemon (running inside the
#                                 host and answering from here), HAProxy and replication state;
#                                 exit 0 only when all is up
#   ci/lab.sh exec HOST -- CMD... run CMD as root inside HOST, via nsenter into its init (all
#                                 its namespaces): cwd /root, environment reset to PATH, HOME,
#                                 USER, LOGNAME, LANG, TERM; stdin/stdout/stderr passed through;
#                                 exit status is CMD's. Tests inject and repair faults with
#                                 `ci/lab.sh exec HOST -- sh -c 'SCRIPT'` (LAB_DIR passed on)
#   ci/lab.sh addr HOST           print HOST's address
#
# up ends with ci/lab/become.sh up (the `deploy` login user on every base host: passwordless
# sudo on web1 web2 lb1 db1, password-only sudo on db2, no sudo on app1, doas on web2;
# $LAB_DIR/deploy.toml and deploy_sudo_password; each base host gets its own /home), down
# starts with its down, status runs its status (see its header). Then ci/lab/fleet.sh up
# writes $LAB_DIR/fleet.toml: the whole lab (base, systemd and bastion hosts) logged in as
# deploy with become, int1/int2 through the bastion (the project's features/ and the fault
# matrix run with it).
#
# Needs root and the packages of ci/install-deps.sh. No Docker. The hosts below but sd1/sd2
# run without systemd: each is a set of Linux namespaces (network, PID, UTS, IPC, mount)
# whose PID 1 is ci/lab/host-init.sh, which becomes tini (reaps orphans; killing it ends the
# host). Per host: overlayfs on /etc and /var (lower = this machine's dirs, upper =
# $HOSTS_DIR/HOST/{etc,var}/upper), private tmpfs on /run, /tmp and /mnt,
# $HOSTS_DIR/HOST/root bound on /root. Whatever a test changes stays on that host. Daemons
# are started directly; `systemctl is-enabled` works (offline mode), `systemctl is-active`
# does not. /etc/lab/svc inside every host starts, stops and reports its daemons by pid file
# (`/etc/lab/svc start|stop|restart|status NAME`, NAME = sshd nginx slow haproxy mariadb
# apache2 cron; /etc/lab/services lists the host's).
#
# Network: bridge sdlab0 in the root namespace holds 10.77.0.1/16 (the controller: where
# shakedown and the tests run; /16 rather than /24 so bench hosts in 10.77.1.x and up share
# the link). Host HOST = network namespace sdlab-HOST, eth0 = ADDR/16, veth sdl-HOST on the
# bridge, no default route. Only 10.77.0.0/16 is ever a target. No iptables rules are made.
#
#   host  address     groups        runs (and is enabled at boot)
#   web1  10.77.0.11  web           sshd, nginx :80 :443, slow backend 127.0.0.1:8081, cron
#   web2  10.77.0.12  web           sshd, nginx :80 :443, slow backend 127.0.0.1:8081
#   lb1   10.77.0.21  lb            sshd, HAProxy :80 (backend app = web1 + web2), stats :8404
#   db1   10.77.0.31  db            sshd, MariaDB :3306 primary (binlog, server-id 1)
#   db2   10.77.0.32  db, replicas  sshd, MariaDB :3306 replica of db1 (GTID slave_pos,
#                                   read_only=ON, server-id 2)
#   app1  10.77.0.41  app           sshd, Apache :80 with mod_status, cron
#   hNNN  10.77.(1+(N-1)/200).((N-1)%200+10)  bench  sshd, nginx :80 (1 worker), cron
#         (h001 = 10.77.1.10 ... h200 = 10.77.1.209, h201 = 10.77.2.10 ...; at most h999)
#   bastion  10.77.0.60 + 10.77.200.1   sshd (a jump host: relays ssh, forwards no packet)
#   int1  10.77.200.11  internal  sshd, nginx   on bridge sdlab1, reached only through the
#   int2  10.77.200.12  internal  sshd          bastion, as deploy (int2: PermitRootLogin no)
#         made by ci/lab/bastion.sh (up runs it last, down first, status after the others;
#         see its header): route `unreachable 10.77.200.0/24` here, $LAB_DIR/bastion.toml,
#         bastion.ini, bastion_ssh_config, bastion_known_hosts; not in inventory.toml
#
# Host kinds: the hosts above are namespace hosts (no init system: PID 1 is tini, daemons
# started directly). sd1 and sd2 are systemd hosts: systemd 252 is PID 1 (systemd-nspawn,
# ci/lab/systemd-host.sh), sshd is the unit ssh.service, and ci/lab/systemd.sh (its header
# lists their units) sets them up, writes $LAB_DIR/systemd.toml and systemd_known_hosts:
#   sd1   10.77.0.51  systemd, web  nginx.service :80 (access log in the journal too), sshd;
#                                   lab-broken.service failed (the host is `degraded`)
#   sd2   10.77.0.52  systemd       sshd only; PermitRootLogin no: reached as deploy only
#   Both: user deploy (uid 2000, the lab key, passwordless sudo). `up` boots them in parallel
#   with the other hosts (~5 s), `exec sd1 -- CMD` enters sd1's systemd's namespaces.
#
# Every host: sshd on ADDR:22 only (/etc/ssh/sshd_config_lab: own ed25519 host key made once
#   per lab, PidFile /run/sshd.pid, UsePAM no, PermitRootLogin prohibit-password, MaxStartups
#   1000, MaxSessions 100); root logs in with the lab key; /etc/app.conf (root, 0644) =
#   `max_conn = 100` and `env = production` (identical everywhere); /etc/fstab with comment
#   lines, tab-separated `/dev/vda / ext4` and `UUID=... /boot` lines (/boot not mounted) and
#   `tmpfs /mnt/data tmpfs defaults,noatime 0 0`, plus a tmpfs mounted on /mnt/data (options
#   noatime,size=16m); php-cli with the curl module; its own /etc/hostname, /etc/hosts.
# Differences, so that one check passes on some hosts and fails on others:
#   - db2: no /mnt/data line in /etc/fstab and nothing mounted on /mnt/data.
#   - enabled at boot (systemd multi-user.target.wants links and SysV /etc/rcN.d links as
#     Debian has them; on the other hosts they are whited out, so `systemctl is-enabled X`
#     says disabled): nginx on web1, web2 and bench hosts; mariadb on db1, db2; haproxy on
#     lb1; apache2 (and apache-htcacheclean) on app1; cron on web1, app1 and bench; ssh on all.
#   - package nginx (and nginx-common) is not installed on db1 and db2: no stanza in their
#     /var/lib/dpkg/status; /etc/nginx, /etc/init.d/nginx, /etc/default/nginx... whited out.
#     (Its unit file in /lib stays: `systemctl is-enabled nginx` says disabled there too.)
#   - a process named cron runs on web1, app1 and bench hosts only.
#   - user and group `appuser` exist on web1, web2 and app1 only (useradd inside the host).
#     (`deploy`, the login user of become, is on every base host: ci/lab/become.sh.)
#   - /var/www/html/index.html: "Welcome to web1" / "Welcome to web2"; bench: "Welcome to
#     hNNN"; app1: "app1 application server"; others: this machine's /var/www/html.
#   - /var/log/backup.log on db1 and db2 only: last line `backup done`, written at first up.
# nginx on web1/web2 (ADDR and HOST their own): / = index.html; /health = application/json
#   {"status":"ok","host":"web1","data":{"items":[{"name":"a"},{"name":"b"}]}}; /old = 301
#   to http://ADDR/new; /new = 200 text; /api answers any method (POST too) with
#   {"ok":true,"host":"web1","method":"POST"}; /slow = proxied to the slow backend, "slow ok".
#   :443 serves the same with TLS: www.shakedown.test (self-signed, CN and SAN, valid 90 days
#   from the lab's first up) and, by SNI, short.shakedown.test (expires 5 days after it).
#   Keys and certificates: $LAB_DIR/tls/{www,short}.shakedown.test.{crt,key}.
#   curl --resolve www.shakedown.test:443:10.77.0.11 -k https://www.shakedown.test/health
#   Bench hosts' nginx: / and /health ({"status":"ok","host":"hNNN"}), FAIL switch too.
# HAProxy on lb1: frontend :80 -> backend `app` (roundrobin), servers web1 and web2, `option
#   httpchk GET /health`, check inter 1s fall 2 rise 1 (a dead server is DOWN in ~2 s); stats
#   socket /run/haproxy/admin.sock (level admin); `listen stats` :8404 with /stats (CSV at
#   http://10.77.0.21:8404/stats;csv).
# MariaDB: database app, table users (id INT PRIMARY KEY, name VARCHAR(64)) with 42 rows,
#   made on db1 and replicated to db2; monitor@'%' (SELECT, PROCESS, REPLICATION CLIENT,
#   SLAVE MONITOR), password generated at up in $LAB_DIR/mysql_password (mode 600); root
#   inside a db host over the unix socket (`ci/lab.sh exec db2 -- mariadb -e '...'`);
#   replication user repl (password in $LAB_DIR/.repl_password), MASTER_CONNECT_RETRY=1.
#   Datadir: $HOSTS_DIR/dbN/mysql bound on /var/lib/mysql.
#   mariadb -h 10.77.0.31 -u monitor -p"$(cat .lab/mysql_password)" -e 'SELECT COUNT(*) FROM app.users'
# Apache on app1: http://10.77.0.41/ and http://10.77.0.41/server-status?auto (mod_status,
#   ExtendedStatus On, open to 10.77.0.0/24 and localhost).
#
# Fault switches (inject, then always restore; `up` also resets the first three):
#   ci/lab.sh exec web2 -- touch /var/www/FAIL              every nginx URL answers 500, so
#   ci/lab.sh exec web2 -- rm -f /var/www/FAIL              HAProxy marks web2 DOWN in ~2 s
#   ci/lab.sh exec web2 -- sh -c 'echo 2 > /var/www/DELAY'  /slow answers after 2 s (decimals
#   ci/lab.sh exec web2 -- rm -f /var/www/DELAY             allowed)
#   ci/lab.sh exec lb1 -- sh -c 'echo "disable server app/web1" | socat stdio UNIX:/run/haproxy/admin.sock'
#                                                           web1 in MAINT ("enable ..." back)
#   ci/lab.sh exec web2 -- /etc/lab/svc stop nginx          also sshd, slow, haproxy, mariadb,
#   ci/lab.sh exec web2 -- /etc/lab/svc start nginx         apache2, cron (waits until it answers)
#   ci/lab.sh exec db2 -- sh -c 'kill $(cat /run/sshd.pid)'
#   ci/lab.sh exec db2 -- /usr/sbin/sshd -f /etc/ssh/sshd_config_lab
#   ci/lab.sh exec db2 -- mariadb -e 'STOP SLAVE SQL_THREAD'     (mariadb -e 'START SLAVE')
#   ci/lab.sh exec web2 -- sed -i 's/^max_conn = 100/max_conn = 5/' /etc/app.conf (and back)
#   ci/lab.sh exec web2 -- mv /etc/php/8.2/cli/conf.d/20-curl.ini /root/   (php -m: no curl)
#
# Files in $LAB_DIR (default <repo>/.lab): id_ed25519 (lab client key, ed25519, no
#   passphrase), known_hosts (`ADDR ssh-ed25519 KEY`, one line per host), inventory.toml
#   (shakedown's format, strict host key checking against that known_hosts), inventory.ini
#   (Ansible; extra hosts in group bench), mysql_password, tls/, hosts/ (a tmpfs that up
#   mounts and down unmounts: every host's layers, keys, datadir, init.pid and logs),
#   systemd.toml and systemd_known_hosts (sd1 as root, sd2 as deploy; ci/lab/systemd.sh),
#   deploy.toml, deploy_sudo_password (ci/lab/become.sh), bastion.* (ci/lab/bastion.sh),
#   fleet.toml and fleet_known_hosts (every host, as deploy with become; ci/lab/fleet.sh).
#   export SHAKEDOWN_MYSQL_PASSWORD=$(cat .lab/mysql_password)
#   ssh -i .lab/id_ed25519 -o UserKnownHostsFile=.lab/known_hosts -o StrictHostKeyChecking=yes root@10.77.0.11
# State made by up and removed by down: namespaces sdlab-*, veths sdl-* (and vb-sd1, vb-sd2
#   of the systemd hosts' containers), bridge sdlab0, the
#   hosts' processes, the tmpfs on $HOSTS_DIR ($LAB_DIR/hosts, or /srv/shakedown-lab/ID/hosts
#   for a LAB_DIR under /tmp, /run, /mnt, /var, /etc or /root), the files above.
#   Lock: /run/lock/sdlab.lock.
# Times measured here (2 cores, while other builds ran): up of the 6 hosts 5-10 s, a second
#   up ~2 s, down < 1 s; up --hosts 20 ~8-15 s; up --hosts 200 ~50-100 s and ~1 GB.
# shellcheck disable=SC2030,SC2031 # host_info in subshells on purpose
set -euo pipefail
umask 022

SELF=$(readlink -f "$0")
CI_DIR=$(dirname "$SELF")
REPO=$(dirname "$CI_DIR")
LABSRC=$CI_DIR/lab
LAB_DIR=$(realpath -m "${LAB_DIR:-$REPO/.lab}")
export LAB_DIR
BRIDGE=sdlab0
BRIDGE_CIDR=10.77.0.1/16
NS_PREFIX=sdlab-
VETH_PREFIX=sdl-
LAB_PART=lab
# shellcheck source=ci/lab/common.sh
. "$LABSRC/common.sh"
TEMPLATE_DIR=$HOSTS_DIR/.bench-template
BASE_HOSTS=(web1 web2 lb1 db1 db2 app1)
HOST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
JOBS=${LAB_JOBS:-8}
# units whose enablement differs between hosts (everything else is as on this machine)
MANAGED_UNITS=(nginx mariadb haproxy apache2 apache-htcacheclean cron)
MAX_EXTRA=999

now() { echo "${EPOCHREALTIME/./}"; } # microseconds
elapsed() {
  local d=$((${EPOCHREALTIME/./} - $1))
  printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000))
}

# ---------------------------------------------------------------------------------------
# hosts

# host_info NAME: sets H_ADDR H_GROUPS H_SERVICES (what runs) H_ENABLED (units enabled)
host_info() {
  H_NAME=$1
  case $1 in
    web1) H_ADDR=10.77.0.11 H_GROUPS="web" H_SERVICES="sshd nginx slow cron" H_ENABLED="ssh nginx cron" ;;
    web2) H_ADDR=10.77.0.12 H_GROUPS="web" H_SERVICES="sshd nginx slow" H_ENABLED="ssh nginx" ;;
    lb1) H_ADDR=10.77.0.21 H_GROUPS="lb" H_SERVICES="sshd haproxy" H_ENABLED="ssh haproxy" ;;
    db1) H_ADDR=10.77.0.31 H_GROUPS="db" H_SERVICES="sshd mariadb" H_ENABLED="ssh mariadb" ;;
    db2) H_ADDR=10.77.0.32 H_GROUPS="db replicas" H_SERVICES="sshd mariadb" H_ENABLED="ssh mariadb" ;;
    app1) H_ADDR=10.77.0.41 H_GROUPS="app" H_SERVICES="sshd apache2 cron" H_ENABLED="ssh apache2 apache-htcacheclean cron" ;;
    h[0-9][0-9][0-9])
      local i=$((10#${1#h}))
      [ "$i" -ge 1 ] || die "unknown host $1"
      H_ADDR=10.77.$((1 + (i - 1) / 200)).$(((i - 1) % 200 + 10))
      H_GROUPS="bench" H_SERVICES="sshd nginx cron" H_ENABLED="ssh nginx cron"
      ;;
    # behind the bastion (ci/lab/bastion.sh): not in inventory.toml, on their own bridge
    bastion) H_ADDR=10.77.0.60 H_GROUPS="jump" H_SERVICES="sshd" H_ENABLED="ssh" ;;
    int1) H_ADDR=10.77.200.11 H_GROUPS="internal" H_SERVICES="sshd nginx" H_ENABLED="ssh nginx" ;;
    int2) H_ADDR=10.77.200.12 H_GROUPS="internal" H_SERVICES="sshd" H_ENABLED="ssh" ;;
    *) die "unknown host '$1' (hosts: ${BASE_HOSTS[*]} h001...)" ;;
  esac
  H_NS=$NS_PREFIX$1
  H_VETH=$VETH_PREFIX$1
  H_DIR=$HOSTS_DIR/$1
  H_BRIDGE=$BRIDGE H_PREFIX=16
  case $1 in int[0-9]) H_BRIDGE=sdlab1 H_PREFIX=24 ;; esac
}

extra_name() { printf 'h%03d' "$1"; }
declare -A BASE_ADDR=([web1]=10.77.0.11 [web2]=10.77.0.12 [lb1]=10.77.0.21 [db1]=10.77.0.31
  [db2]=10.77.0.32 [app1]=10.77.0.41)
host_addr() { if [ -n "${BASE_ADDR[$1]:-}" ]; then echo "${BASE_ADDR[$1]}"; else (host_info "$1" && echo "$H_ADDR"); fi; }
has() { [[ " $1 " == *" $2 "* ]]; }

# the hosts recorded in $LAB_DIR, base hosts first
recorded_hosts() {
  local h
  for h in "${BASE_HOSTS[@]}"; do [ -d "$HOSTS_DIR/$h" ] && echo "$h"; done
  if [ -d "$HOSTS_DIR" ]; then
    find "$HOSTS_DIR" -mindepth 1 -maxdepth 1 -type d -name 'h[0-9][0-9][0-9]' -printf '%f\n' | sort
  fi
  return 0
}

# init_pid NAME: the host's PID 1 as seen from here (checked against its start time)
init_pid() {
  local f=$HOSTS_DIR/$1/init.pid pid start st
  [ -s "$f" ] || return 1
  read -r pid start <"$f" || return 1
  [ -r "/proc/$pid/stat" ] || return 1
  read -r -a st <"/proc/$pid/stat" 2>/dev/null || return 1
  [ "${st[21]:-}" = "$start" ] && [ "${st[2]}" != Z ] || return 1
  echo "$pid"
}

# hexec NAME CMD...: CMD as root inside the host (the lock fd is never inherited)
hexec() {
  local pid
  pid=$(init_pid "$1") || die "host $1 is not up (ci/lab.sh up)"
  shift
  nsenter -t "$pid" -m -u -i -n -p -- env -i -C /root PATH="$HOST_PATH" HOME=/root USER=root \
    LOGNAME=root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@" 9>&-
}

# ---------------------------------------------------------------------------------------
# per-host files (overlay upper layers)

# mkup LAYER RELDIR: a directory in the host's upper layer, with the lower dir's owner/mode
# (an upper directory's attributes hide the lower one's)
mkup() {
  local layer=$1 up=$H_DIR/$1/upper p="" c
  [ -d "$up/$2" ] && return 0
  local -a parts
  IFS=/ read -r -a parts <<<"$2"
  for c in "${parts[@]}"; do
    [ -n "$c" ] || continue
    p=$p/$c
    if [ ! -d "$up$p" ]; then
      mkdir "$up$p"
      if [ -d "/$layer$p" ]; then
        chown --reference="/$layer$p" "$up$p"
        chmod --reference="/$layer$p" "$up$p"
      fi
    fi
  done
}

parent() { if [[ $1 == */* ]]; then echo "${1%/*}"; fi; }

# putf LAYER RELPATH [MODE [OWNER]]: stdin to a file of the host's upper layer (default
# 0644 root:root)
putf() {
  local f=$H_DIR/$1/upper/$2
  mkup "$1" "$(parent "$2")"
  cat >"$f"
  if [ "${3:-644}" != 644 ]; then chmod "$3" "$f"; fi
  if [ -n "${4:-}" ]; then chown "$4" "$f"; fi
}

# template FILE: a template of ci/lab/templates with the current host's values
template() {
  sed -e "s|@NAME@|$H_NAME|g" -e "s|@ADDR@|$H_ADDR|g" "$LABSRC/templates/$1"
}

# enable_links UNIT...: the links (relative to /etc) that enable these units at boot on this
# machine: systemd links named or pointing at UNIT.service, SysV /etc/rcN.d/[SK]NNUNIT
enable_links() {
  local rel target u l
  while read -r rel target; do
    for u; do
      if [ "${rel##*/}" = "$u.service" ] || [ "${target##*/}" = "$u.service" ]; then
        echo "systemd/system/$rel"
      fi
    done
  done < <(find /etc/systemd/system -mindepth 1 -maxdepth 2 -type l -printf '%P %l\n')
  for u; do
    for l in /etc/rc[0-6S].d/[SK][0-9][0-9]"$u"; do
      if [ -e "$l" ] || [ -L "$l" ]; then echo "${l#/etc/}"; fi
    done
  done
}

# prepare_common: the files of $H_DIR that do not depend on the host's name or address
# (bench hosts copy them from one template made by `up`)
prepare_common() {
  local d=$H_DIR l unit
  mkdir -p "$d/etc/upper" "$d/etc/work" "$d/var/upper" "$d/var/work" "$d/root/.ssh"
  chmod 700 "$d/root" "$d/root/.ssh"
  cp "$LAB_DIR/id_ed25519.pub" "$d/root/.ssh/authorized_keys"
  chmod 600 "$d/root/.ssh/authorized_keys"
  {
    echo "# /etc/fstab: static file system information."
    echo "#"
    printf '# <file system>\t<mount point>\t<type>\t<options>\t<dump>\t<pass>\n'
    printf '/dev/vda\t/\text4\terrors=remount-ro\t0\t1\n'
    printf 'UUID=5b0e2c1a-7f3d-4c8e-9a61-2d4f8b3c9e10\t/boot\text4\tdefaults\t0\t2\n'
    if [ "$H_NAME" != db2 ]; then echo "tmpfs /mnt/data tmpfs defaults,noatime 0 0"; fi
  } | putf etc fstab
  if [ "$H_NAME" != db2 ]; then : >"$d/mnt-data"; fi
  printf 'max_conn = 100\nenv = production\n' |
    putf etc app.conf
  putf etc lab/svc 755 <"$LABSRC/svc"
  echo "$H_SERVICES" | tr ' ' '\n' | putf etc lab/services

  # enabled at boot: whiteout the links of the managed units this host does not enable
  local -a off=()
  for unit in "${MANAGED_UNITS[@]}"; do
    has "$H_ENABLED" "$unit" || off+=("$unit")
  done
  {
    enable_links "${off[@]}"
    # no nginx package on the database hosts
    if has "$H_SERVICES" mariadb; then
      for l in nginx init.d/nginx default/nginx logrotate.d/nginx ufw/applications.d/nginx; do
        if [ -e "/etc/$l" ]; then echo "$l"; fi
      done
    fi
  } | /usr/bin/python3 "$LABSRC/whiteout.py" "$d/etc/upper" /etc

  if has "$H_GROUPS" web; then
    for l in www short; do
      putf etc "nginx/tls/$l.shakedown.test.crt" <"$LAB_DIR/tls/$l.shakedown.test.crt"
      putf etc "nginx/tls/$l.shakedown.test.key" 600 <"$LAB_DIR/tls/$l.shakedown.test.key"
    done
    putf etc lab/slow-backend.py 755 <"$LABSRC/slow-backend.py"
  fi
  if has "$H_SERVICES" mariadb; then
    mkup var log/mysql
    chown mysql:adm "$d/var/upper/log/mysql"
    chmod 2750 "$d/var/upper/log/mysql"
    mkdir -p "$d/mysql"
    chown mysql:mysql "$d/mysql"
    chmod 700 "$d/mysql"
    {
      echo "$(date '+%F %T') backup started: mariadb-dump --all-databases"
      echo "$(date '+%F %T') dumped 3 databases, 42 rows in app.users"
      echo "backup done"
    } | putf var log/backup.log 640
    # no nginx package on the database hosts (its files in /etc are whited out above)
    awk 'BEGIN { RS = ""; ORS = "\n\n" }
         { split($0, l, "\n") }
         l[1] ~ /^Package: (nginx|nginx-common|nginx-core|nginx-full|nginx-light|nginx-extras|libnginx-mod-.*)$/ { next }
         { print }' /var/lib/dpkg/status | putf var lib/dpkg/status
  fi
}

# prepare_specific: the files of $H_DIR made from the host's name and address
prepare_specific() {
  local d=$H_DIR h
  [ -s "$d/ssh_host_ed25519_key" ] ||
    ssh-keygen -q -t ed25519 -N '' -C "root@$H_NAME" -f "$d/ssh_host_ed25519_key"
  echo "$H_NAME" >"$d/etc/upper/hostname"
  {
    printf '127.0.0.1\tlocalhost\n'
    for h in "${BASE_HOSTS[@]}"; do
      printf '%s\t%s\n' "$(host_addr "$h")" "$h"
    done
    [[ $H_NAME == h* ]] && printf '%s\t%s\n' "$H_ADDR" "$H_NAME"
  } >"$d/etc/upper/hosts"
  template sshd_config | putf etc ssh/sshd_config_lab
  putf etc ssh/ssh_host_ed25519_key 600 <"$d/ssh_host_ed25519_key"
  putf etc ssh/ssh_host_ed25519_key.pub <"$d/ssh_host_ed25519_key.pub"
  if has "$H_GROUPS" web; then
    template nginx-web.conf | putf etc nginx/nginx.conf
    template nginx-site.conf | putf etc nginx/lab-site.conf
    printf '<!DOCTYPE html>\n<html><head><title>%s</title></head>\n<body><h1>Welcome to %s</h1></body></html>\n' \
      "$H_NAME" "$H_NAME" | putf var www/html/index.html
  elif has "$H_SERVICES" nginx; then
    template nginx-bench.conf | putf etc nginx/nginx.conf
    printf '<!DOCTYPE html>\n<html><body><h1>Welcome to %s</h1></body></html>\n' "$H_NAME" |
      putf var www/html/index.html
  fi
  if has "$H_SERVICES" haproxy; then
    template haproxy.cfg | awk -v s="$(printf '    server %s %s:80\n' web1 "$(host_addr web1)" web2 "$(host_addr web2)")" \
      '$0 == "@SERVERS@" { print s; next } { print }' | putf etc haproxy/haproxy.cfg
  fi
  if has "$H_SERVICES" mariadb; then
    local sid=1 ro=OFF
    if [ "$H_NAME" = db2 ]; then sid=2 ro=ON; fi
    template mariadb.cnf | sed -e "s|@SERVER_ID@|$sid|" -e "s|@READ_ONLY@|$ro|" |
      putf etc mysql/mariadb.conf.d/60-lab.cnf
  fi
  if has "$H_SERVICES" apache2; then
    template apache2.conf | putf etc apache2/apache2.conf
    printf '<!DOCTYPE html>\n<html><body><h1>%s application server</h1></body></html>\n' "$H_NAME" |
      putf var www/html/index.html
  fi
}

# prepare_host: all of $H_DIR's files (upper layers, keys, flags) for a new host
prepare_host() {
  if [[ $H_NAME == h[0-9]* ]]; then
    [ -d "$TEMPLATE_DIR" ] || die "no $TEMPLATE_DIR (made by up)"
    mkdir -p "$H_DIR"
    cp -a "$TEMPLATE_DIR/." "$H_DIR/"
  else
    prepare_common
  fi
  prepare_specific
  : >"$H_DIR/prepared"
}

# the bench hosts' common files, made once per lab
make_bench_template() {
  [ -e "$TEMPLATE_DIR/prepared" ] && return 0
  (
    host_info h001
    H_DIR=$TEMPLATE_DIR
    rm -rf "$H_DIR"
    prepare_common
    : >"$H_DIR/prepared"
  )
}

# ---------------------------------------------------------------------------------------
# bringing one host up / down

# kill_netns NS: kill every process in a network namespace and remove it
kill_netns() {
  local pids
  [ -e "/run/netns/$1" ] || return 0
  pids=$(ip netns pids "$1" 2>/dev/null || true)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    poll 10 "processes of $1 to exit" netns_empty "$1" || true
  fi
  ip netns delete "$1" 2>/dev/null || true
}
netns_empty() { [ -z "$(ip netns pids "$1" 2>/dev/null)" ]; }

# _host NAME (run in parallel by up): create or keep the host, then start its daemons
cmd_host() {
  local name=$1 state=kept pid t0
  t0=$(now)
  host_info "$name"
  if ! pid=$(init_pid "$name"); then
    state=created
    # leftovers of a host that died (its namespace, its veth)
    kill_netns "$H_NS"
    ip link delete "$H_VETH" 2>/dev/null || true
    forget_neighbour
    mkdir -p "$H_DIR"
    [ -e "$H_DIR/prepared" ] || prepare_host
    ip netns add "$H_NS"
    ip link add "$H_VETH" type veth peer name eth0 netns "$H_NS"
    ip link set "$H_VETH" master "$H_BRIDGE" up
    ip -n "$H_NS" addr add "$H_ADDR/$H_PREFIX" dev eth0
    ip -n "$H_NS" link set lo up
    ip -n "$H_NS" link set eth0 up
    rm -f "$H_DIR/init.pid"
    setsid ip netns exec "$H_NS" env -i PATH="$HOST_PATH" LANG=C.UTF-8 unshare --pid --fork --uts --ipc --mount --propagation private \
      /bin/sh "$LABSRC/host-init.sh" "$name" "$H_DIR" </dev/null >"$H_DIR/init.log" 2>&1 9>&- &
    local bg=$!
    if ! poll 15 "$name init" init_pid "$name" >/dev/null; then
      kill -KILL "$bg" 2>/dev/null || true
      cat "$H_DIR/init.log" >&2
      die "$name: init did not start"
    fi
    if [ -d "$H_DIR/mysql" ] && [ ! -d "$H_DIR/mysql/mysql" ]; then
      hexec "$name" mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db \
        --auth-root-authentication-method=socket >"$H_DIR/mariadb-install.log" 2>&1 </dev/null || {
        cat "$H_DIR/mariadb-install.log" >&2
        die "$name: mariadb-install-db failed"
      }
    fi
  fi
  if [ "$name" = web1 ] || [ "$name" = web2 ] || [ "$name" = app1 ]; then
    hexec "$name" sh -c 'id appuser >/dev/null 2>&1 || useradd -M -U -s /bin/bash -c "Application" appuser'
  fi
  # a kept host gets this checkout's service script
  if ! cmp -s "$LABSRC/svc" "$H_DIR/etc/upper/lab/svc"; then
    hexec "$name" sh -c 'cat >/etc/lab/svc.new && chmod 755 /etc/lab/svc.new && mv /etc/lab/svc.new /etc/lab/svc' <"$LABSRC/svc"
  fi
  # shellcheck disable=SC2086
  if ! hexec "$name" /etc/lab/svc start $H_SERVICES </dev/null >"$H_DIR/svc.log" 2>&1; then
    cat "$H_DIR/svc.log" >&2
    die "$name: services did not start ($H_SERVICES)"
  fi
  printf '  %-5s %-12s %-8s %ss\n' "$name" "$H_ADDR" "$state" "$(elapsed "$t0")"
}

destroy_host() {
  host_info "$1"
  local pid
  if pid=$(init_pid "$1"); then kill -KILL "$pid" 2>/dev/null || true; fi
  kill_netns "$H_NS"
  ip link delete "$H_VETH" 2>/dev/null || true
  forget_neighbour
  rm -rf "$H_DIR"
}

# The controller's ARP entry for $H_ADDR names the MAC of the host's previous veth: a host
# made again within a minute (bench or scale hosts after 200 of them) would be unreachable
# for seconds, until the stale entry failed its probes.
forget_neighbour() {
  ip neigh flush to "$H_ADDR" dev "$H_BRIDGE" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------
# lab-wide material

make_secrets() {
  mkdir -p "$LAB_DIR"
  if [ ! -s "$LAB_DIR/id_ed25519" ]; then
    rm -f "$LAB_DIR/id_ed25519" "$LAB_DIR/id_ed25519.pub"
    ssh-keygen -q -t ed25519 -N '' -C "shakedown-lab" -f "$LAB_DIR/id_ed25519"
  fi
  local f
  for f in mysql_password .repl_password; do
    if [ ! -s "$LAB_DIR/$f" ]; then
      (umask 077 && openssl rand -hex 16 >"$LAB_DIR/$f")
    fi
    chmod 600 "$LAB_DIR/$f"
  done
  mkdir -p "$LAB_DIR/tls"
  local name days
  for name in www:90 short:5; do
    days=${name#*:} name=${name%:*}.shakedown.test
    [ -s "$LAB_DIR/tls/$name.crt" ] && continue
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$days" \
      -subj "/CN=$name" -addext "subjectAltName=DNS:$name" \
      -keyout "$LAB_DIR/tls/$name.key" -out "$LAB_DIR/tls/$name.crt" 2>/dev/null
    chmod 600 "$LAB_DIR/tls/$name.key"
  done
}

ensure_hosts_fs() {
  mkdir -p "$HOSTS_DIR"
  if ! mountpoint -q "$HOSTS_DIR"; then
    : >"$LAB_DIR/hosts.mount"
    mount -t tmpfs -o mode=0755,size=4g sdlab-hosts "$HOSTS_DIR"
  fi
}

ensure_bridge() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    : >"$LAB_DIR/bridge"
    ip link add "$BRIDGE" type bridge
  fi
  : >"$LAB_DIR/bridge"
  if [[ "$(ip -4 -o addr show dev "$BRIDGE")" != *" inet $BRIDGE_CIDR "* ]]; then
    ip addr add "$BRIDGE_CIDR" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
}

# ---------------------------------------------------------------------------------------
# MariaDB primary/replica, HAProxy, SSH readiness

sql() { hexec "$1" mariadb --batch --skip-column-names; }

db_setup() {
  local pw repl
  pw=$(cat "$LAB_DIR/mysql_password")
  repl=$(cat "$LAB_DIR/.repl_password")
  if sql db1 <<SQL
CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY '$repl';
ALTER USER 'repl'@'%' IDENTIFIED BY '$repl';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
CREATE USER IF NOT EXISTS 'monitor'@'%' IDENTIFIED BY '$pw';
ALTER USER 'monitor'@'%' IDENTIFIED BY '$pw';
GRANT SELECT, PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'monitor'@'%';
CREATE DATABASE IF NOT EXISTS app;
USE app;
CREATE TABLE IF NOT EXISTS app.users (id INT PRIMARY KEY, name VARCHAR(64));
INSERT IGNORE INTO app.users (id, name) SELECT seq, CONCAT('user', seq) FROM seq_1_to_42;
SQL
  then :; else log "db1: setting up users and app.users failed"; return 1; fi
  [ -d "$HOSTS_DIR/db2" ] || return 0
  host_info db1
  if [ -z "$(echo 'SHOW SLAVE STATUS' | sql db2)" ]; then
    sql db2 <<SQL || { log "db2: CHANGE MASTER failed"; return 1; }
CHANGE MASTER TO MASTER_HOST='$H_ADDR', MASTER_PORT=3306, MASTER_USER='repl',
  MASTER_PASSWORD='$repl', MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos;
SQL
  fi
  echo 'START SLAVE' | sql db2 2>/dev/null
  poll 60 "db2 replicating the 42 rows of app.users" db2_has_rows || {
    echo 'SHOW SLAVE STATUS\G' | hexec db2 mariadb >&2 || true
    return 1
  }
}
db2_has_rows() { [ "$(echo 'SELECT COUNT(*) FROM app.users' | sql db2 2>/dev/null)" = 42 ]; }

# the fault switches of the lab back to normal (up makes the lab as specified)
reset_faults() {
  local h
  for h in web1 web2; do
    if [ -d "$HOSTS_DIR/$h" ]; then hexec "$h" rm -f /var/www/FAIL /var/www/DELAY; fi
  done
  if [ -d "$HOSTS_DIR/lb1" ]; then
    hexec lb1 sh -c 'printf "enable server app/web1\nenable server app/web2\n" |
      socat stdio UNIX-CONNECT:/run/haproxy/admin.sock' >/dev/null
  fi
}

# haproxy_states: "web1=UP web2=UP" from lb1's stats socket
haproxy_states() {
  hexec lb1 sh -c 'echo "show stat" | socat stdio UNIX-CONNECT:/run/haproxy/admin.sock' 2>/dev/null </dev/null |
    awk -F, '$1 == "app" && $2 != "BACKEND" { printf "%s%s=%s", sep, $2, $18; sep = " " }'
}
haproxy_up() { [ "$(haproxy_states)" = "web1=UP web2=UP" ]; }

ssh_ok() {
  ssh -i "$LAB_DIR/id_ed25519" -o UserKnownHostsFile="$LAB_DIR/known_hosts" -o StrictHostKeyChecking=yes \
    -o BatchMode=yes -o ConnectTimeout=3 -o LogLevel=ERROR -o KexAlgorithms=curve25519-sha256 -F /dev/null "root@$1" true </dev/null 9>&-
}

write_known_hosts() {
  local h
  for h in $(recorded_hosts); do
    host_info "$h"
    echo "$H_ADDR $(cut -d' ' -f1,2 "$H_DIR/ssh_host_ed25519_key.pub")"
  done >"$LAB_DIR/known_hosts.tmp"
  mv "$LAB_DIR/known_hosts.tmp" "$LAB_DIR/known_hosts"
}

toml_list() {
  local out="" g
  for g in "$@"; do out="$out${out:+, }\"$g\""; done
  echo "[$out]"
}

write_inventories() {
  local h toml=$LAB_DIR/inventory.toml ini=$LAB_DIR/inventory.ini
  local key=$LAB_DIR/id_ed25519 kh=$LAB_DIR/known_hosts
  {
    echo "# shakedown inventory of the lab, written by ci/lab.sh up: do not edit (regenerated)."
    echo "# MySQL password: export SHAKEDOWN_MYSQL_PASSWORD=\$(cat $LAB_DIR/mysql_password)"
    echo "[defaults]"
    echo 'user = "root"'
    echo "port = 22"
    echo "identity_file = \"$key\""
    echo "known_hosts_file = \"$kh\""
    echo 'host_key_checking = "strict"'
    echo 'connect_timeout = "5s"'
    for h in $(recorded_hosts); do
      host_info "$h"
      echo
      echo "[hosts.$h]"
      echo "address = \"$H_ADDR\""
      # shellcheck disable=SC2086
      echo "groups = $(toml_list $H_GROUPS)"
      case $h in
        web*) echo "vars = { app_url = \"http://$H_ADDR/\", site = \"www.shakedown.test\" }" ;;
        lb1) echo 'vars = { haproxy_socket = "/run/haproxy/admin.sock" }' ;;
        app1) echo "vars = { app_url = \"http://$H_ADDR/\" }" ;;
        h*) echo "vars = { app_url = \"http://$H_ADDR/\" }" ;;
      esac
      if has "$H_SERVICES" mariadb; then
        echo
        echo "[hosts.$h.mysql]"
        echo "port = 3306"
        echo 'user = "monitor"'
        echo 'password_env = "SHAKEDOWN_MYSQL_PASSWORD"'
      fi
    done
  } >"$toml.tmp"
  mv "$toml.tmp" "$toml"

  local g line
  {
    echo "# Ansible inventory of the shakedown lab, written by ci/lab.sh up: do not edit."
    for g in web lb db replicas app bench; do
      line=""
      for h in $(recorded_hosts); do
        host_info "$h"
        has "$H_GROUPS" "$g" || continue
        if [ -z "$line" ]; then
          echo
          echo "[$g]"
          line=1
        fi
        if [ "$g" = replicas ]; then
          echo "$h"
          continue
        fi
        printf '%s ansible_host=%s ansible_user=root ansible_ssh_private_key_file=%s' "$h" "$H_ADDR" "$key"
        case $h in
          web*) printf ' app_url=http://%s/ site=www.shakedown.test' "$H_ADDR" ;;
          lb1) printf ' haproxy_socket=/run/haproxy/admin.sock' ;;
          app1 | h*) printf ' app_url=http://%s/' "$H_ADDR" ;;
        esac
        echo
      done
    done
    if [ -d "$HOSTS_DIR/db1" ] || [ -d "$HOSTS_DIR/db2" ]; then
      echo
      echo "[db:vars]"
      echo "mysql_port=3306"
      echo "mysql_user=monitor"
      echo "mysql_password_env=SHAKEDOWN_MYSQL_PASSWORD"
    fi
    echo
    echo "[all:vars]"
    echo "ansible_user=root"
    echo "ansible_port=22"
    echo "ansible_ssh_private_key_file=$key"
    echo "ansible_ssh_common_args='-o UserKnownHostsFile=$kh -o StrictHostKeyChecking=yes'"
    echo "shakedown_known_hosts_file=$kh"
    echo "shakedown_host_key_checking=strict"
    echo "shakedown_connect_timeout=5s"
  } >"$ini.tmp"
  mv "$ini.tmp" "$ini"
}

# ---------------------------------------------------------------------------------------
# commands


check_tools() {
  local t missing=()
  for t in ip nsenter unshare setsid tini sshd ssh ssh-keygen nginx haproxy mariadbd mariadb \
    mariadb-install-db apache2 cron python3 openssl socat ss curl systemd-nspawn; do
    command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || missing+=("$t")
  done
  [ "${#missing[@]}" -eq 0 ] || die "missing ${missing[*]}: run ci/install-deps.sh"
}


cmd_up() {
  local extra="" t0 h n
  while [ $# -gt 0 ]; do
    case $1 in
      --hosts) extra=${2:-}; shift 2 || die "--hosts needs a number" ;;
      --hosts=*) extra=${1#--hosts=}; shift ;;
      *) die "up: unknown argument '$1' (usage: ci/lab.sh up [--hosts N])" ;;
    esac
  done
  if [ -n "$extra" ]; then
    if ! [[ $extra =~ ^[0-9]+$ ]] || [ "$((10#$extra))" -gt "$MAX_EXTRA" ]; then
      die "--hosts takes 0..$MAX_EXTRA"
    fi
    extra=$((10#$extra))
  fi
  need_root
  check_tools
  t0=$(now)
  lock
  make_secrets
  ensure_hosts_fs
  ensure_bridge

  # the extra hosts: as many as asked, or as many as there are
  if [ -z "$extra" ]; then
    extra=$(recorded_hosts | grep -c '^h' || true)
  fi
  for h in $(recorded_hosts | grep '^h' || true); do
    n=$((10#${h#h}))
    if [ "$n" -gt "$extra" ]; then
      destroy_host "$h"
    fi
  done
  local -a hosts=("${BASE_HOSTS[@]}")
  for ((n = 1; n <= extra; n++)); do hosts+=("$(extra_name "$n")"); done

  if [ "$extra" -gt 0 ]; then make_bench_template; fi
  echo "lab: bringing up ${#hosts[@]} hosts in $LAB_DIR"
  local jobs=$JOBS sdpid
  # the systemd hosts boot meanwhile (they need only the bridge and the lab key)
  "$LABSRC/systemd.sh" up 9>&- &
  sdpid=$!
  if ! printf '%s\n' "${hosts[@]}" | xargs -P "$jobs" -I{} "$SELF" _host {} 9>&-; then
    die "some hosts failed to come up (see above; ci/lab.sh down to clean up)"
  fi

  write_known_hosts
  reset_faults
  db_setup || die "MariaDB replication is not working"
  poll 30 "HAProxy servers web1 and web2 UP" haproxy_up || die "HAProxy backend app is not UP"
  # a real login with the lab key and strict host key checking, all base hosts at once
  local -A sshpid=()
  for h in "${BASE_HOSTS[@]}"; do
    poll 10 "ssh root@$h" ssh_ok "$(host_addr "$h")" &
    sshpid[$h]=$!
  done
  for h in "${BASE_HOSTS[@]}"; do
    wait "${sshpid[$h]}" || die "cannot ssh to $h ($(host_addr "$h"))"
  done
  # the bench hosts' sshd answers from here too (a stale ARP entry would not)
  for h in "${hosts[@]}"; do
    [[ " ${BASE_HOSTS[*]} " == *" $h "* ]] || { poll 10 "$h :22 from the controller" tcp_open "$(host_addr "$h")" 22 & sshpid[$h]=$!; }
  done
  for h in "${hosts[@]}"; do
    [[ " ${BASE_HOSTS[*]} " == *" $h "* ]] || wait "${sshpid[$h]}" || die "$h ($(host_addr "$h")) does not answer on port 22"
  done
  write_inventories
  wait "$sdpid" || die "the systemd hosts sd1, sd2 failed to come up (ci/lab/systemd.sh)"
  # the deploy login user with sudo/doas on the base hosts, deploy.toml (ci/lab/become.sh)
  LAB_LOCK_HELD=1 "$LABSRC/become.sh" up 9>&- || die "the deploy user is not set up"
  # the hosts behind the bastion (their own bridge, route and inventories)
  LAB_LOCK_HELD=1 "$LABSRC/bastion.sh" up 9>&- || die "the hosts behind the bastion did not come up"
  # the whole lab as one fleet inventory, from the files above (ci/lab/fleet.sh)
  "$LABSRC/fleet.sh" up || die "the fleet inventory was not written"

  echo "lab: up in $(elapsed "$t0")s: ${#hosts[@]} hosts on $BRIDGE (controller 10.77.0.1)"
  echo "  inventory  $LAB_DIR/inventory.toml  (Ansible: inventory.ini)"
  echo "  ssh key    $LAB_DIR/id_ed25519       known_hosts: $LAB_DIR/known_hosts"
  echo "  MySQL      monitor / \$(cat $LAB_DIR/mysql_password)  -> SHAKEDOWN_MYSQL_PASSWORD"
  echo "  faults     ci/lab.sh exec HOST -- CMD   (see the top of ci/lab.sh)"
}

cmd_down() {
  need_root
  lock
  local h pid ns
  local -a hosts pids=()
  "$LABSRC/fleet.sh" down || true
  # the systemd hosts first: their roots live in $HOSTS_DIR, unmounted below
  "$LABSRC/systemd.sh" down 9>&- || true
  LAB_LOCK_HELD=1 "$LABSRC/become.sh" down 9>&- >/dev/null || log "removing the deploy user failed"
  LAB_LOCK_HELD=1 "$LABSRC/bastion.sh" down 9>&- >/dev/null || log "removing the hosts behind the bastion failed"
  mapfile -t hosts < <(recorded_hosts)
  if [ "${#hosts[@]}" -gt 0 ]; then
    # killing a host's init (PID 1 of its PID namespace) ends every process of the host
    for h in "${hosts[@]}"; do
      if pid=$(init_pid "$h"); then pids+=("$pid"); fi
    done
    if [ "${#pids[@]}" -gt 0 ]; then
      kill -KILL "${pids[@]}" 2>/dev/null || true
      poll 20 "the hosts' init processes to exit" pids_gone "${pids[@]}" || true
    fi
    # anything left in a host's network namespace (e.g. entered with nsenter -n only)
    pids=()
    for h in "${hosts[@]}"; do
      ns=$NS_PREFIX$h
      if [ -e "/run/netns/$ns" ]; then mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$ns" 2>/dev/null); fi
    done
    if [ "${#pids[@]}" -gt 0 ]; then
      kill -KILL "${pids[@]}" 2>/dev/null || true
      poll 20 "the lab's processes to exit" pids_gone "${pids[@]}" || true
    fi
    for h in "${hosts[@]}"; do
      echo "link delete $VETH_PREFIX$h"
      if [ -e "/run/netns/$NS_PREFIX$h" ]; then echo "netns delete $NS_PREFIX$h"; fi
    done | ip -force -batch - >/dev/null 2>&1 || true
  fi
  if mountpoint -q "$HOSTS_DIR"; then
    # busy until the hosts' mount namespaces are gone
    poll 20 "unmounting $HOSTS_DIR" umount "$HOSTS_DIR" 2>/dev/null || umount -l "$HOSTS_DIR"
  fi
  if [ -e "$LAB_DIR/bridge" ]; then
    ip link delete "$BRIDGE" 2>/dev/null || true
  fi
  if [ -d "$LAB_DIR" ]; then
    rm -rf "$HOSTS_DIR" "$LAB_DIR/tls"
    [ "$HOSTS_DIR" = "$LAB_DIR/hosts" ] || rmdir "$(dirname "$HOSTS_DIR")" 2>/dev/null || true
    rm -f "$LAB_DIR"/{hosts.mount,id_ed25519,id_ed25519.pub,known_hosts,known_hosts.tmp,inventory.toml,inventory.ini} \
      "$LAB_DIR"/{inventory.toml.tmp,inventory.ini.tmp,mysql_password,.repl_password,bridge}
    rmdir "$LAB_DIR" 2>/dev/null || log "left $LAB_DIR (it holds files the lab did not make)"
  fi
  if [ "${#hosts[@]}" -eq 0 ]; then echo "lab: nothing was up"; else echo "lab: down (${#hosts[@]} hosts removed)"; fi
}

# whether all these processes have exited (zombies of the host's init count as gone)
pids_gone() {
  local p st
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    read -r -a st <"/proc/$p/stat" 2>/dev/null || continue
    [ "${st[2]}" = Z ] || return 1
  done
}

# the port of a service that the controller can reach
declare -A SVC_PORT=([sshd]=22 [nginx]=80 [haproxy]=80 [mariadb]=3306 [apache2]=80)
# shellcheck disable=SC2016 # expanded by the inner bash
tcp_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }

cmd_status() {
  local h ok=0 all=0 line s st
  if [ -z "$(recorded_hosts)" ]; then
    echo "lab: down (no hosts in $LAB_DIR)"
    return 1
  fi
  ip link show "$BRIDGE" >/dev/null 2>&1 || { echo "lab: bridge $BRIDGE missing"; all=1; }
  for h in $(recorded_hosts); do
    host_info "$h"
    if ! init_pid "$h" >/dev/null; then
      printf '%-5s %-12s DOWN (host not running)\n' "$h" "$H_ADDR"
      all=1
      continue
    fi
    line=""
    ok=0
    # inside the host: pid file alive and port listening; from here: the port answers
    # shellcheck disable=SC2086
    st=$(hexec "$h" /etc/lab/svc status $H_SERVICES 2>/dev/null </dev/null) || ok=1
    for s in $H_SERVICES; do
      if ! grep -qx "$s running" <<<"$st"; then
        line="$line $s:DOWN"
      elif [ -n "${SVC_PORT[$s]:-}" ] && ! tcp_open "$H_ADDR" "${SVC_PORT[$s]}"; then
        line="$line $s:NO-ANSWER(:${SVC_PORT[$s]})"
        ok=1
      else
        line="$line $s:ok"
      fi
    done
    printf '%-5s %-12s %-4s%s\n' "$h" "$H_ADDR" "$([ $ok = 0 ] && echo up || echo FAIL)" "$line"
    [ $ok = 0 ] || all=1
  done
  if [ -d "$HOSTS_DIR/lb1" ] && init_pid lb1 >/dev/null; then
    st=$(haproxy_states)
    echo "haproxy: backend app: ${st:-no answer from the stats socket}"
    [ "$st" = "web1=UP web2=UP" ] || all=1
  fi
  if [ -d "$HOSTS_DIR/db2" ] && init_pid db2 >/dev/null; then
    st=$(echo 'SHOW SLAVE STATUS\G' | hexec db2 mariadb 2>/dev/null || true)
    if grep -q 'Slave_IO_Running: Yes' <<<"$st" && grep -q 'Slave_SQL_Running: Yes' <<<"$st"; then
      echo "mariadb: db2 replicating from db1 (IO and SQL threads running)"
    else
      echo "mariadb: db2 replication NOT running"
      all=1
    fi
  fi
  "$LABSRC/systemd.sh" status || all=1
  "$LABSRC/become.sh" status || all=1
  "$LABSRC/bastion.sh" status || all=1
  return $all
}

cmd_exec() {
  [ $# -ge 1 ] || die "usage: ci/lab.sh exec HOST -- CMD..."
  local h=$1
  if "$LABSRC/systemd.sh" is-host "$h"; then exec "$LABSRC/systemd.sh" exec "$@" 9>&-; fi
  shift
  [ "${1:-}" = -- ] && shift
  [ $# -ge 1 ] || die "usage: ci/lab.sh exec HOST -- CMD..."
  host_info "$h"
  local pid
  pid=$(init_pid "$h") || die "host $h is not up (ci/lab.sh up)"
  exec nsenter -t "$pid" -m -u -i -n -p -- env -i -C /root PATH="$HOST_PATH" HOME=/root USER=root \
    LOGNAME=root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@"
}

cmd_addr() {
  [ $# -eq 1 ] || die "usage: ci/lab.sh addr HOST"
  case $1 in sd1) echo 10.77.0.51; return ;; sd2) echo 10.77.0.52; return ;; esac
  host_info "$1"
  echo "$H_ADDR"
}

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down ;;
  status) shift; cmd_status ;;
  exec) shift; cmd_exec "$@" ;;
  addr) shift; cmd_addr "$@" ;;
  _host) shift; cmd_host "$@" ;;
  _destroy) shift; need_root; for h; do destroy_host "$h"; done ;;
  *)
    sed -n '2,/ci\/lab.sh addr HOST/s/^# \{0,1\}//p' "$SELF" >&2
    exit 2
    ;;
esac
