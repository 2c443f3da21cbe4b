#!/bin/sh
# ci/lab/deploy-user.sh: the `deploy` login user of a lab host, as a real fleet has it (a user
# that logs in with a key and reads as root through sudo). Runs INSIDE the host, as root, from
# its standard input, so it works on every host kind (namespace hosts, systemd-nspawn hosts,
# hosts behind the bastion), none of which needs to see this checkout:
#
#   ci/lab.sh exec HOST -- sh -s -- SUDO "KEY" < ci/lab/deploy-user.sh
#
# KEY: the lab client key's public line, put in ~deploy/.ssh/authorized_keys.
# SUDO: `nopasswd` (sudo without a password: /etc/sudoers.d/deploy, mode 0440), `password`
# (sudo asks deploy's own password; the caller sets it afterwards with chpasswd on stdin, so
# it is never on a command line: ci/lab/become.sh) or `none` (no sudo rights at all).
# Idempotent: a second call sets the same state again (a password set is kept).
# The user: uid and gid 2000, home /home/deploy (0750), shell /bin/bash, group deploy. A
# `deploy` of another uid (an older lab's fixture user) is moved to 2000.
set -eu
mode=$1
key=$2
if ! id deploy >/dev/null 2>&1; then
  groupadd -g 2000 deploy 2>/dev/null || true
  useradd -u 2000 -g deploy -m -d /home/deploy -s /bin/bash -c Deployer deploy
fi
if [ "$(id -u deploy)" != 2000 ] || [ "$(id -g deploy)" != 2000 ]; then
  groupmod -g 2000 deploy
  usermod -u 2000 -g deploy -d /home/deploy -s /bin/bash deploy
fi
# no password, but not locked: sshd without PAM refuses a locked account (`!` in shadow)
case $mode in
  password) getent shadow deploy | cut -d: -f2 | grep -q '^[!*]' && usermod -p '*' deploy ;;
  *) usermod -p '*' deploy ;;
esac
install -d -o deploy -g deploy -m 0750 /home/deploy
install -d -o deploy -g deploy -m 0700 /home/deploy/.ssh
printf '%s\n' "$key" >/home/deploy/.ssh/authorized_keys
chown deploy:deploy /home/deploy/.ssh/authorized_keys
chmod 0600 /home/deploy/.ssh/authorized_keys
mkdir -p /etc/sudoers.d
case $mode in
  nopasswd)
    printf 'deploy ALL=(ALL:ALL) NOPASSWD: ALL\n' >/etc/sudoers.d/deploy.tmp
    chmod 0440 /etc/sudoers.d/deploy.tmp
    mv /etc/sudoers.d/deploy.tmp /etc/sudoers.d/deploy
    ;;
  password)
    printf 'deploy ALL=(ALL:ALL) ALL\n' >/etc/sudoers.d/deploy.tmp
    chmod 0440 /etc/sudoers.d/deploy.tmp
    mv /etc/sudoers.d/deploy.tmp /etc/sudoers.d/deploy
    ;;
  none) rm -f /etc/sudoers.d/deploy ;;
  *)
    echo "deploy-user: SUDO must be nopasswd, password or none, not '$mode'" >&2
    exit 2
    ;;
esac
