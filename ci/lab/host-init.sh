#!/bin/sh
# PID 1 of a lab host. ci/lab.sh starts it as
#   ip netns exec sdlab-NAME env -i PATH=... unshare --pid --fork --uts --ipc --mount --propagation private \
#       /bin/sh host-init.sh NAME HOSTDIR
# so it runs in the host's own network, PID, UTS, IPC and mount namespaces. It gives the
# host its own files and then stays alive as the host's init (tini reaps orphans); killing
# it ends every process of the host, and its mounts vanish with its mount namespace.
#
# HOSTDIR (made by ci/lab.sh) holds etc/{upper,work}, var/{upper,work} (overlay layers over
# the machine's /etc and /var), root/ (bound on /root), optionally mysql/ (bound on
# /var/lib/mysql) and the flag file mnt-data (mount a noatime tmpfs on /mnt/data).
set -eu
name=$1
dir=$2

# Our pid as the controller sees it: /proc is still the machine's procfs here, and `read`
# is a builtin, so /proc/self is this shell (which exec's tini below: same pid).
read -r outer_pid _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ start_time _ </proc/self/stat

hostname "$name"
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$dir/etc/upper,workdir=$dir/etc/work" /etc
mount -t overlay overlay -o "lowerdir=/var,upperdir=$dir/var/upper,workdir=$dir/var/work" /var
mount -t tmpfs -o mode=0755,nosuid,nodev,size=64m tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev,size=256m tmpfs /tmp
mount -t tmpfs -o mode=0755,size=1m tmpfs /mnt
mount --bind "$dir/root" /root
if [ -d "$dir/mysql" ]; then
  mount --bind "$dir/mysql" /var/lib/mysql
fi
if [ -e "$dir/mnt-data" ]; then
  mkdir /mnt/data
  mount -t tmpfs -o noatime,size=16m tmpfs /mnt/data
fi
mkdir -p /run/sshd /run/lock /run/mysqld /run/haproxy
chmod 0755 /run/sshd
chmod 1777 /run/lock
chown mysql:mysql /run/mysqld 2>/dev/null || true

echo "$outer_pid $start_time" >"$dir/init.pid.tmp"
mv "$dir/init.pid.tmp" "$dir/init.pid"
exec tini -s -- sleep infinity
