#!/usr/bin/env bash
# ci/bench.sh: shakedown against pytest-testinfra and a plain SSH loop, on the lab.
#
#   ci/bench.sh [--hosts N] [--delay MS[,MS...]] [--runs R] [--ti-runs R] [--slow-runs R]
#               [--only REGEX] [--out PREFIX] [--keep-lab] [--behind-bastion] [--warm]
#
#   --hosts N     bench hosts h001..hNNN (group `bench`) brought up by ci/lab.sh (default 20)
#   --delay MS    latency added to every packet between the controller and the lab hosts, in
#                 each direction (a round trip gains 2 x MS); a comma list measures each in
#                 turn (default 25; `--delay 0,25` for both tables). netem when the kernel has
#                 it, else iptables NFQUEUE + bench/delay.py (LAB.md "Latency").
#   --runs R      runs per configuration, median reported (default 5)
#   --ti-runs R   runs per pytest-testinfra configuration at -n 2 and -n 8 (default = --runs)
#   --slow-runs R runs of the slowest configurations: testinfra at -n 0, and without a
#                 ControlMaster (default = --ti-runs; they take minutes each)
#   --only REGEX  measure only the configurations whose name matches (e.g. 'shakedown|floor')
#   --out PREFIX  write PREFIX.md, PREFIX.png, PREFIX.tsv (default bench/results)
#   --keep-lab    leave the bench hosts up (default: back to the 6 base hosts)
#   --behind-bastion  also measure every bench host reached through the lab's bastion
#                 (ci/lab/bastion.sh, 10.77.0.60, as deploy): rows "floor: N hosts in
#                 parallel, through the bastion" (one ssh master to the bastion, then
#                 `ssh -J` to every host over it, as shakedown does) and "shakedown through
#                 the bastion" (an inventory with proxy_jump = "bastion" for group bench),
#                 beside the direct ones; the bench hosts are on sdlab0, which the bastion
#                 reaches
#   --warm        also measure warm runs, every connection kept from a previous run: "warm
#                 floor" (one `ssh HOST true` per host at once over masters already open),
#                 "shakedown warm" (--keep-connections, masters kept from its previous run),
#                 "ssh loop, ControlPersist, warm" and "testinfra ssh + ControlMaster +
#                 ControlPersist, warm, -n 0/2/8" (masters kept from their previous run); one
#                 unmeasured run of each opens the connections first
#   --no-agree    skip the check that every suite passes on healthy hosts and fails on each
#                 fault (see `agree` below; about a minute, needs 2 hosts)
#
# The same 10 checks per host everywhere: bench/shakedown/bench.feature,
# bench/testinfra/test_bench.py, bench/loop.sh. shakedown is the release build, cold (no
# SSH master before the run); pytest-testinfra comes from PyPI into $TARGET/bench-venv.
# Each measured run is wrapped in /usr/bin/time (wall time, peak RSS of the largest process
# of the tree, not the sum; and the CPU time, user + sys, of the tree it waited for: a kept
# master, daemonised by an earlier run, is not counted). The measuring part holds /tmp/shakedown-lab.lock, the lock of
# the lab tests; on any exit it removes the delay (iptables rules, queue process, qdiscs)
# and puts the lab back to its 6 base hosts. Prints the table and writes PREFIX.*; exits 1
# when the suites disagree (--agree) or any measured run failed.
# Env: LAB_DIR (default ./.lab), LAB_SH (default ci/lab.sh), CARGO_TARGET_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOSTS=20 DELAYS=25 RUNS=5 TI_RUNS="" SLOW_RUNS="" ONLY="" KEEP=0 OUT="" AGREE=1 BEHIND=0 WARM=0
while [ $# -gt 0 ]; do
  case $1 in
    --hosts) HOSTS=$2; shift 2 ;;
    --delay) DELAYS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --ti-runs) TI_RUNS=$2; shift 2 ;;
    --slow-runs) SLOW_RUNS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --keep-lab) KEEP=1; shift ;;
    --no-keep-lab) KEEP=0; shift ;;
    --no-agree) AGREE=0; shift ;;
    --agree) AGREE=1; shift ;;
    --behind-bastion) BEHIND=1; shift ;;
    --direct) BEHIND=0; shift ;;
    --warm) WARM=1; shift ;;
    --cold) WARM=0; shift ;;
    *) sed -n '2,41p' "$0"; exit 2 ;;
  esac
done
TI_RUNS=${TI_RUNS:-$RUNS}
SLOW_RUNS=${SLOW_RUNS:-$TI_RUNS}
OUT=${OUT:-$ROOT/bench/results}
[[ "$DELAYS" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "bench: --delay takes MS[,MS...]" >&2; exit 2; }
export LAB_DIR=${LAB_DIR:-$ROOT/.lab}
LAB_SH=${LAB_SH:-$ROOT/ci/lab.sh}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release/shakedown
VENV=$TARGET/bench-venv

if [ -z "${BENCH_LOCKED:-}" ]; then
  # Build and install before taking the lab, so the lab is held only while measuring.
  need=()
  for p in time python3-venv iptables curl; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || need+=("$p")
  done
  [ ${#need[@]} = 0 ] || { apt-get update -q && apt-get install -y -q "${need[@]}"; }
  (cd "$ROOT" && cargo build --release -q)
  if [ ! -x "$VENV/bin/pytest" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q pytest-testinfra pytest-xdist paramiko matplotlib
  fi
  echo "bench: waiting for the lab lock /tmp/shakedown-lab.lock" >&2
  # -o: the lab hosts this run starts must not inherit the lock (they outlive the run).
  BENCH_LOCKED=1 exec flock -o /tmp/shakedown-lab.lock "$0" --hosts "$HOSTS" --delay "$DELAYS" \
    --runs "$RUNS" --ti-runs "$TI_RUNS" --slow-runs "$SLOW_RUNS" --only "$ONLY" --out "$OUT" \
    "$([ $KEEP = 1 ] && echo --keep-lab || echo --no-keep-lab)" "$([ $AGREE = 1 ] && echo --agree || echo --no-agree)" \
    "$([ $BEHIND = 1 ] && echo --behind-bastion || echo --direct)" "$([ $WARM = 1 ] && echo --warm || echo --cold)"
fi

WORK=$(mktemp -d /tmp/sdbench.XXXXXX)
QUEUE=7877
NFQ_RULES=("INPUT -i sdlab0" "OUTPUT -o sdlab0")
DELAY_PID="" NETEM_DEVS=()
# delay_off: remove whatever delay_on added (safe to call twice, or when nothing was added).
delay_off() {
  local r d
  for r in "${NFQ_RULES[@]}"; do
    # shellcheck disable=SC2086 # the rule is words on purpose
    while iptables -D $r -j NFQUEUE --queue-num $QUEUE --queue-bypass 2>/dev/null; do :; done
  done
  if [ -n "$DELAY_PID" ]; then
    kill "$DELAY_PID" 2>/dev/null || true
    wait "$DELAY_PID" 2>/dev/null || true
    DELAY_PID=""
  fi
  for d in "${NETEM_DEVS[@]}"; do
    # shellcheck disable=SC2086 # "dev X" or "netns N dev X"
    if [[ $d == netns* ]]; then ip -n ${d#netns } qdisc del root 2>/dev/null || true
    else tc qdisc del $d root 2>/dev/null || true; fi
  done
  NETEM_DEVS=()
}
cleanup() {
  delay_off
  [ "$(type -t warm_close)" != function ] || warm_close
  [ $KEEP = 1 ] || "$LAB_SH" up --hosts 0 >/dev/null 2>&1 || echo "bench: lab reset failed" >&2
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
delay_off # rules left by a run that was killed (harmless: --queue-bypass lets packets pass)

# delay_on MS: every packet between the controller and the lab held MS ms, each direction.
delay_on() {
  local ms=$1 h
  [ "$ms" = 0 ] && return 0
  if tc qdisc add dev sdlab0 root netem delay "${ms}ms" 2>/dev/null; then
    NETEM_DEVS+=("dev sdlab0")
    for h in $(ip netns list | awk '/^sdlab-/ {print $1}'); do
      ip -n "$h" qdisc add dev eth0 root netem delay "${ms}ms"
      NETEM_DEVS+=("netns $h dev eth0")
    done
    DELAY_HOW="netem"
    return 0
  fi
  rm -f "$WORK/queue-ready"
  python3 "$ROOT/bench/delay.py" "$QUEUE" "$ms" "$WORK/queue-ready" &
  DELAY_PID=$!
  for _ in $(seq 100); do
    [ -e "$WORK/queue-ready" ] && break
    kill -0 "$DELAY_PID" 2>/dev/null || { echo "bench: bench/delay.py failed" >&2; exit 1; }
    sleep 0.05
  done
  [ -e "$WORK/queue-ready" ] || { echo "bench: bench/delay.py did not bind queue $QUEUE" >&2; exit 1; }
  for r in "${NFQ_RULES[@]}"; do
    # shellcheck disable=SC2086
    iptables -I $r -j NFQUEUE --queue-num $QUEUE --queue-bypass
  done
  DELAY_HOW="iptables NFQUEUE (bench/delay.py)"
}

echo "bench: lab up with $HOSTS bench hosts" >&2
"$LAB_SH" up --hosts "$HOSTS" >"$WORK/lab.log" 2>&1 || { cat "$WORK/lab.log" >&2; exit 1; }

addrs=()
for ((i = 1; i <= HOSTS; i++)); do
  addrs+=("10.77.$((1 + (i - 1) / 200)).$(((i - 1) % 200 + 10))")
done
export SHAKEDOWN_MYSQL_PASSWORD
SHAKEDOWN_MYSQL_PASSWORD=$(cat "$LAB_DIR/mysql_password")
RES=$OUT.tsv
: >"$RES"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
DELAY=0 DELAY_HOW=none

# measure NAME RUNS CMD...: run CMD RUNS times under /usr/bin/time; one line per run in
# $RES: delay, name, wall seconds, peak RSS kB, exit status, 1-minute load average after,
# CPU seconds (user + sys).
measure() {
  local name=$1 runs=$2 i rc wall rss usr sys cpu load
  shift 2
  [[ -z "$ONLY" || "$name" =~ $ONLY ]] || return 0
  for ((i = 1; i <= runs; i++)); do
    rc=0
    /usr/bin/time -f '%e %M %U %S' -o "$WORK/time" "$@" >"$WORK/out" 2>&1 || rc=$?
    read -r wall rss usr sys < <(tail -1 "$WORK/time")
    cpu=$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    load=$(cut -d' ' -f1 /proc/loadavg)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$DELAY" "$name" "$wall" "$rss" "$rc" "$load" "$cpu" >>"$RES"
    echo "bench: +${DELAY}ms $name: ${wall}s ${rss}kB exit $rc (load $load)" >&2
    [ $rc = 0 ] || tail -5 "$WORK/out" >&2
    "${POST[@]}"
  done
}
POST=(true)

SSHO=(-o BatchMode=yes -o User=root -i "$LAB_DIR/id_ed25519" -o ControlMaster=no
      -o ControlPath=none -o UserKnownHostsFile="$LAB_DIR/known_hosts" -o StrictHostKeyChecking=yes)
# KEX_SH KEX CMD...: run CMD in a private mount namespace whose /root/.ssh/config holds only
# `KexAlgorithms KEX` (nothing for "default"): ssh reads the passwd home, not $HOME.
# shellcheck disable=SC2016 # expanded by the inner sh
KEX_SH='mount -t tmpfs bench /root && mkdir /root/.ssh &&
  if [ "$0" != default ]; then echo "KexAlgorithms $0" >/root/.ssh/config; fi && exec "$@"'
floor_one() { ssh "${SSHO[@]}" "$@" "${addrs[0]}" true; }
floor_all() {
  local a
  for a in "${addrs[@]}"; do ssh "${SSHO[@]}" "$@" "$a" true & done
  wait
}
FLOOR_ENV="$(declare -p SSHO addrs); $(declare -f floor_one floor_all)"
SD=("$BIN" run -i "$LAB_DIR/inventory.toml" "$ROOT/bench/shakedown/bench.feature" --format quiet)
# Through the bastion: the lab's inventory, plus the bastion and a proxy_jump for the bench
# hosts; the floor through it with ssh -J (the hop's key and known-hosts in a config file,
# which ssh hands on to the hop with -F).
if [ $BEHIND = 1 ]; then
  [ -s "$LAB_DIR/bastion_known_hosts" ] || { echo "bench: no bastion in the lab (ci/lab/bastion.sh up)" >&2; exit 1; }
  {
    cat "$LAB_DIR/inventory.toml"
    printf '\n[hosts.bastion]\naddress = "10.77.0.60"\nuser = "deploy"\nknown_hosts_file = "%s"\n' "$LAB_DIR/bastion_known_hosts"
    printf '\n[groups.bench]\nproxy_jump = "bastion"\n'
  } >"$WORK/behind.toml"
  # one config per KEX: the hop reads only this file (ssh hands it -F), not -o options
  for kex in default curve25519-sha256; do
    {
      printf 'Host bastion-hop\n  HostName 10.77.0.60\n  User deploy\n  IdentityFile %s\n' "$LAB_DIR/id_ed25519"
      printf '  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  BatchMode yes\n' "$LAB_DIR/bastion_known_hosts"
      printf '  ControlMaster no\n  ControlPath %s\n' "$WORK/jump-$kex.ctl"
      if [ $kex != default ]; then printf '  KexAlgorithms %s\n' "$kex"; fi
    } >"$WORK/jump-$kex.config"
  done
  SD_BEHIND=("$BIN" run -i "$WORK/behind.toml" "$ROOT/bench/shakedown/bench.feature" --format quiet)
  # floor_behind CONFIG SSH_OPTIONS...: a master to the bastion, every host through it at once
  floor_behind() {
    local jc=$1 a
    shift
    ssh -F "$jc" -o ControlMaster=yes -o ControlPersist=no -f -N bastion-hop || return 1
    for a in "${addrs[@]}"; do ssh "${SSHO[@]}" -F "$jc" -J bastion-hop "$@" "$a" true & done
    wait
    ssh -F "$jc" -O exit bastion-hop 2>/dev/null
  }
  FLOOR_ENV="$FLOOR_ENV; $(declare -f floor_behind)"
fi

CTL=$WORK/ctl
mkdir -p "$CTL"
sed "s|@LAB_DIR@|$LAB_DIR|g" "$ROOT/bench/testinfra/ssh_config.in" >"$WORK/ssh_config"
sed "s|@LAB_DIR@|$LAB_DIR|g; s|@CTL@|$CTL|g" "$ROOT/bench/testinfra/ssh_config_cm.in" >"$WORK/ssh_config_cm"
close_masters() {
  local a
  for a in "${addrs[@]}"; do ssh -F "$WORK/ssh_config_cm" -O exit "$a" 2>/dev/null || true; done
}
join() { local p=$1 a out=""; shift; for a in "$@"; do out+="${out:+,}$p://$a"; done; echo "$out"; }
PYT=("$VENV/bin/pytest" -q -p no:cacheprovider "$ROOT/bench/testinfra/test_bench.py")

# The suites check the same things: before measuring, on the first two bench hosts, every
# suite passes with both healthy and fails with each fault below on the second (one suite
# per tool; the testinfra backends share one test file). Not faulted: `uname -s` (no fault
# short of breaking the host), and port 80 alone (every fault that closes it stops nginx).
FAULTS=(
  "nginx stopped|/etc/lab/svc stop nginx|/etc/lab/svc start nginx"
  "nginx disabled at boot|rm /etc/systemd/system/multi-user.target.wants/nginx.service|ln -sf /lib/systemd/system/nginx.service /etc/systemd/system/multi-user.target.wants/nginx.service"
  "nginx package removed|cp -p /var/lib/dpkg/status /root/.sdb-status && sed -i '/^Package: nginx\$/,/^\$/d' /var/lib/dpkg/status|mv /root/.sdb-status /var/lib/dpkg/status"
  "/etc/app.conf missing|mv /etc/app.conf /root/.sdb-app.conf|mv /root/.sdb-app.conf /etc/app.conf"
  "/etc/app.conf without max_conn = 100|cp -p /etc/app.conf /root/.sdb-app.conf && sed -i 's/^max_conn = 100/max_conn = 5/' /etc/app.conf|mv /root/.sdb-app.conf /etc/app.conf"
  "/mnt/data unmounted|umount /mnt/data|mountpoint -q /mnt/data || mount -t tmpfs -o noatime,size=16m tmpfs /mnt/data"
  "cron stopped|/etc/lab/svc stop cron|/etc/lab/svc start cron"
  "nginx answering 500|touch /var/www/FAIL|rm -f /var/www/FAIL"
)
agree() {
  local pair=("${addrs[@]:0:2}") f name inject repair tool rc bad=0
  local tools=("shakedown" "testinfra" "ssh loop" "floor + work")
  run_suite() { # TOOL: exit status of its suite on the two hosts
    case $1 in
      shakedown) "${SD[@]}" --hosts h001,h002 ;;
      testinfra) "${PYT[@]}" -n 0 --hosts="$(join paramiko "${pair[@]}")" --ssh-config="$WORK/ssh_config" ;;
      "ssh loop") "$ROOT/bench/loop.sh" "${pair[@]}" ;;
      "floor + work") "$ROOT/bench/ideal.sh" -- "${pair[@]}" ;;
    esac >"$WORK/agree.out" 2>&1
  }
  for f in "healthy||" "${FAULTS[@]}"; do
    IFS='|' read -r name inject repair <<<"$f"
    [ -z "$inject" ] || "$LAB_SH" exec h002 -- sh -c "$inject"
    for tool in "${tools[@]}"; do
      rc=0
      run_suite "$tool" || rc=$?
      if { [ -z "$inject" ] && [ $rc != 0 ]; } || { [ -n "$inject" ] && [ $rc = 0 ]; }; then
        echo "bench: agree: $tool on $name: exit $rc (expected $([ -z "$inject" ] && echo 0 || echo non-zero))" >&2
        tail -5 "$WORK/agree.out" >&2
        bad=1
      fi
    done
    [ -z "$repair" ] || "$LAB_SH" exec h002 -- sh -c "$repair"
    echo "bench: agree: $name: $([ $bad = 0 ] && echo "every suite $([ -z "$inject" ] && echo passes || echo fails)" || echo MISMATCH)" >&2
  done
  [ $bad = 0 ] || { echo "bench: the suites do not check the same things (above)" >&2; exit 1; }
}

# One delay. The fast configurations (floor, shakedown with both KEX, the loop) are measured
# in rounds, one run of each per round, so that a change of machine load between rounds
# hits all of them alike; then pytest-testinfra, fastest configurations first (they get
# their runs even if the rest is cut short).
bench_at() {
  local n runs r kex o
  for ((r = 1; r <= RUNS; r++)); do
    for kex in default curve25519-sha256; do
      o=()
      [ $kex = default ] || o=(-o "KexAlgorithms=$kex")
      # The network floor: one fresh SSH handshake + one command on one host; all at once.
      measure "floor: 1 host, handshake + 1 command ($kex KEX)" 1 bash -c "$FLOOR_ENV; floor_one ${o[*]}"
      measure "floor: $HOSTS hosts in parallel ($kex KEX)" 1 bash -c "$FLOOR_ENV; floor_all ${o[*]}"
      # The floor with the work: the same 9 host checks as one command per host, all at once.
      measure "floor + work: $HOSTS hosts, the checks in 1 command each ($kex KEX)" 1 \
        "$ROOT/bench/ideal.sh" "${o[@]}" -- "${addrs[@]}"
      measure "shakedown ($kex KEX)" 1 unshare -m sh -c "$KEX_SH" "$kex" "${SD[@]}"
      if [ $BEHIND = 1 ]; then
        measure "floor: $HOSTS hosts in parallel, through the bastion ($kex KEX)" 1 \
          bash -c "$FLOOR_ENV; floor_behind $WORK/jump-$kex.config ${o[*]}"
        measure "shakedown through the bastion ($kex KEX)" 1 unshare -m sh -c "$KEX_SH" "$kex" "${SD_BEHIND[@]}"
      fi
    done
    measure "ssh loop, ControlMaster" 1 "$ROOT/bench/loop.sh" "${addrs[@]}"
    if [ $WARM = 1 ]; then
      measure "warm floor: $HOSTS hosts in parallel, over open masters" 1 bash -c "$WARM_ENV; warm_floor"
      measure "shakedown warm (--keep-connections)" 1 env XDG_RUNTIME_DIR="$WORK/rt" "${SD_WARM[@]}"
      measure "ssh loop, ControlPersist, warm" 1 env LOOP_CTL="$WORK/wloop" "$ROOT/bench/loop.sh" "${addrs[@]}"
    fi
  done
  if [ $WARM = 1 ]; then
    for n in 2 8 0; do
      runs=$TI_RUNS
      [ $n != 0 ] || runs=$SLOW_RUNS
      measure "testinfra ssh + ControlMaster + ControlPersist, warm, -n $n" "$runs" "${PYT[@]}" -n "$n" \
        --hosts="$(join ssh "${addrs[@]}")" --ssh-config="$WORK/ssh_config_wcm"
    done
  fi
  for n in 2 8 0; do
    runs=$TI_RUNS
    [ $n != 0 ] || runs=$SLOW_RUNS
    POST=(close_masters)
    measure "testinfra ssh + ControlMaster, -n $n" "$runs" "${PYT[@]}" -n "$n" \
      --hosts="$(join ssh "${addrs[@]}")" --ssh-config="$WORK/ssh_config_cm"
    POST=(true)
    measure "testinfra paramiko, -n $n" "$runs" "${PYT[@]}" -n "$n" \
      --hosts="$(join paramiko "${addrs[@]}")" --ssh-config="$WORK/ssh_config"
    measure "testinfra ssh, -n $n" "$SLOW_RUNS" "${PYT[@]}" -n "$n" \
      --hosts="$(join ssh "${addrs[@]}")" --ssh-config="$WORK/ssh_config"
  done
}

# Warm: connections opened once before the rounds (not measured) and kept between runs.
if [ $WARM = 1 ]; then
  mkdir -m 0700 "$WORK/rt" "$WORK/wfl" "$WORK/wloop" "$WORK/wcm"
  WSSHO=(-o BatchMode=yes -o User=root -i "$LAB_DIR/id_ed25519" -o UserKnownHostsFile="$LAB_DIR/known_hosts"
         -o StrictHostKeyChecking=yes -o ControlPath="$WORK/wfl/%C")
  warm_floor() {
    local a
    for a in "${addrs[@]}"; do ssh "${WSSHO[@]}" -o ControlMaster=no "$a" true & done
    wait
  }
  WARM_ENV="$(declare -p WSSHO addrs); $(declare -f warm_floor)"
  SD_WARM=("${SD[@]}" --keep-connections 30m)
  sed "s|@LAB_DIR@|$LAB_DIR|g; s|@CTL@|$WORK/wcm|g; s|ControlPersist .*|ControlPersist 1800|" \
    "$ROOT/bench/testinfra/ssh_config_cm.in" >"$WORK/ssh_config_wcm"
  warm_close() {
    local a
    for a in "${addrs[@]}"; do
      ssh "${WSSHO[@]}" -O exit "$a" 2>/dev/null || true
      ssh -F "$WORK/ssh_config_wcm" -O exit "$a" 2>/dev/null || true
    done
    LOOP_CTL="$WORK/wloop" LOOP_CLOSE=1 "$ROOT/bench/loop.sh" >/dev/null 2>&1 || true
    XDG_RUNTIME_DIR="$WORK/rt" "$BIN" connections --close >/dev/null 2>&1 || true
  }
  for a in "${addrs[@]}"; do ssh "${WSSHO[@]}" -o ControlMaster=yes -o ControlPersist=1800 -f -N "$a"; done
  XDG_RUNTIME_DIR="$WORK/rt" "${SD_WARM[@]}" >/dev/null 2>&1 || echo "bench: warm-up shakedown run failed" >&2
  LOOP_CTL="$WORK/wloop" "$ROOT/bench/loop.sh" "${addrs[@]}" >/dev/null 2>&1 || echo "bench: warm-up loop failed" >&2
  "${PYT[@]}" -n 0 --hosts="$(join ssh "${addrs[@]}")" --ssh-config="$WORK/ssh_config_wcm" >/dev/null 2>&1 ||
    echo "bench: warm-up testinfra run failed" >&2
fi

if [ $AGREE = 1 ] && [ "$HOSTS" -ge 2 ]; then agree; fi
HOWS=()
for DELAY in ${DELAYS//,/ }; do
  delay_on "$DELAY"
  HOWS+=("$DELAY ms: $DELAY_HOW")
  bench_at
  delay_off
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

"$VENV/bin/python" "$ROOT/bench/report.py" "$RES" "$OUT.md" "$OUT.png" \
  "$HOSTS" "$LOAD_BEFORE" "$LOAD_AFTER" "$(IFS=';'; echo "${HOWS[*]}")" "$(nproc)"
# A run that failed (a suite found a fault, a tool crashed) makes its timing meaningless.
failed=$(awk -F'\t' '$5 != 0' "$RES" | wc -l)
[ "$failed" = 0 ] || { echo "bench: $failed of $(wc -l <"$RES") runs failed (exit status column of $RES)" >&2; exit 1; }
