#!/usr/bin/env bash
# ci/package.sh: builds the Debian package of shakedown and prints its path
# (target/debian/shakedown_VERSION-1_ARCH.deb). Works from a fresh clone, as root on Debian
# (installs cargo-deb, dpkg-dev and lintian when missing).
#
#   1. cargo build --release (the binary is stripped into the package: cargo-deb --strip),
#      and `cargo install --locked --path .` (README's other way in) works;
#   2. stages under target/release/debian-assets/ what is generated, never committed:
#      - man pages and completions from the binary itself (`shakedown manual`, clap_mangen
#        and clap_complete over the one CLI definition), man pages gzipped;
#      - the systemd units, Nagios/Icinga 2 and cron examples of ci/examples/ with the
#        package's paths (/usr/bin/shakedown, /usr/lib/nagios/plugins/check_shakedown);
#        each rewrite must change its file, so an example that changes shape stops the build
#        instead of shipping /usr/local/bin paths;
#   3. cargo deb (metadata: [package.metadata.deb] in Cargo.toml; maintainer scripts, the
#      sysusers file, changelog and lintian overrides: packaging/debian/; the plugin wrapper:
#      packaging/check_shakedown);
#   4. lintian: exit non-zero on any error; the warnings kept are listed in README (Install).
#
# Usage: ci/package.sh            (the .deb path is the last line of the output)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# cargo-deb reads the asset paths (target/release/...) and the unit directory relative to
# the crate: keep the target dir there.
export CARGO_TARGET_DIR=$ROOT/target
CARGO_DEB_VERSION=3.8.0

step() { printf '\n--- %s (%ss)\n' "$*" "$SECONDS"; }

step "tools: cargo-deb $CARGO_DEB_VERSION, dpkg-shlibdeps, lintian"
if [ "$(cargo deb --version 2>/dev/null || true)" != "cargo-deb $CARGO_DEB_VERSION" ]; then
  cargo install --locked --quiet cargo-deb --version "$CARGO_DEB_VERSION"
fi
missing=()
command -v dpkg-shlibdeps >/dev/null || missing+=(dpkg-dev)
command -v lintian >/dev/null || missing+=(lintian)
command -v man >/dev/null || missing+=(man-db)
if [ "${#missing[@]}" -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null || {
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

step "cargo build --release"
cargo build --locked --release
BIN=$CARGO_TARGET_DIR/release/shakedown

step "cargo install --locked --path . (the other way in; into target/cargo-install, reusing the build)"
cargo install --locked --quiet --path . --root "$CARGO_TARGET_DIR/cargo-install"
"$CARGO_TARGET_DIR/cargo-install/bin/shakedown" --version

step "generated assets: man pages, completions, units and examples with the package's paths"
ASSETS=$CARGO_TARGET_DIR/release/debian-assets
rm -rf "$ASSETS"
mkdir -p "$ASSETS/systemd" "$ASSETS/examples/nagios" "$ASSETS/examples/icinga2" "$ASSETS/examples/cron" "$ASSETS/examples/ci"
"$BIN" manual --out "$ASSETS"
# man must read every page without a warning (lintian checks them again in the package).
for page in "$ASSETS"/man/man*/*; do
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null || echo "man failed")
  if [ -n "$warnings" ]; then
    echo "package: man warns on $page:" >&2
    echo "$warnings" >&2
    exit 1
  fi
done
gzip -9n "$ASSETS"/man/man*/*

# rewrite SRC DEST SED-SCRIPT: DEST is SRC through sed, and must differ from it.
rewrite() {
  sed -e "$3" "$1" >"$2"
  if cmp -s "$1" "$2"; then
    echo "package: the rewrite of $1 changed nothing: ci/package.sh no longer matches it" >&2
    exit 1
  fi
  if grep -n '/usr/local/bin/shakedown' "$2" >&2; then
    echo "package: $1 still names /usr/local/bin/shakedown after the rewrite" >&2
    exit 1
  fi
}
PLUGIN=/usr/lib/nagios/plugins/check_shakedown
rewrite ci/examples/shakedown.service "$ASSETS/systemd/shakedown.service" '
  s|^#   cp ci/examples/shakedown.service ci/examples/shakedown.timer /etc/systemd/system/$|#   installed, disabled, by the shakedown package; write /etc/shakedown/inventory.toml and\n#   /etc/shakedown/features/, mail options with `systemctl edit shakedown.service`, then|
  s|^#   systemctl daemon-reload && systemctl enable --now shakedown.timer$|#   systemctl enable --now shakedown.timer|
  s|/usr/local/bin/shakedown|/usr/bin/shakedown|
  s| --mail-to ops@example.com --smtp smtp://mail.example.com:25$||'
cp ci/examples/shakedown.timer "$ASSETS/systemd/shakedown.timer"
rewrite ci/examples/nagios/shakedown.cfg "$ASSETS/examples/nagios/shakedown.cfg" "s|/usr/local/bin/shakedown check|$PLUGIN|"
rewrite ci/examples/nagios-shakedown.cfg "$ASSETS/examples/nagios/shakedown-shards.cfg" "s|/usr/local/bin/shakedown check|$PLUGIN|"
rewrite ci/examples/icinga2/shakedown.conf "$ASSETS/examples/icinga2/shakedown.conf" 's|\[ "/usr/local/bin/shakedown", "check" \]|[ PluginDir + "/check_shakedown" ]|'
rewrite ci/examples/icinga2-shakedown.conf "$ASSETS/examples/icinga2/shakedown-shards.conf" 's|\[ "/usr/local/bin/shakedown", "check" \]|[ PluginDir + "/check_shakedown" ]|'
rewrite ci/examples/crontab "$ASSETS/examples/cron/crontab" 's|crontab -u shakedown ci/examples/crontab|crontab -u shakedown /usr/share/doc/shakedown/examples/cron/crontab|'
rewrite ci/examples/README.md "$ASSETS/examples/README.md" "
  s|/usr/local/bin/shakedown check|$PLUGIN|
  s|\[ \"/usr/local/bin/shakedown\", \"check\" \]|[ PluginDir + \"/check_shakedown\" ]|
  s|are in \`ci/examples/\`|are in this directory (\`ci/examples/\` of the source)|"
cp ci/examples/Jenkinsfile ci/examples/gitlab-ci.yml "$ASSETS/examples/ci/"

step "cargo deb"
rm -rf "$CARGO_TARGET_DIR/debian"
cargo deb --locked --no-build --strip --output "$CARGO_TARGET_DIR/debian/" >/dev/null
deb=$(ls "$CARGO_TARGET_DIR"/debian/shakedown_*.deb)
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'

step "lintian"
# Errors fail the build; warnings are printed (the ones kept are explained in README).
lintian --fail-on error --tag-display-limit 0 "$deb"

step "done"
echo "binary $(stat -c %s "$BIN") bytes in target/release, $(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/bin/shakedown | wc -c) bytes stripped in the package; package $(stat -c %s "$deb") bytes"
echo "$deb"
