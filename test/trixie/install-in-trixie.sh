#!/bin/sh
# A real install in Debian 13 (trixie), the base of Raspberry Pi OS Trixie: debootstrap a minimal
# root from Debian's mirror, boot it with systemd-nspawn (systemd as PID 1, the host's network),
# and let driver.sh run scripts/install-pi.sh in it as a technician would, on the simulator board:
# apt, the service user, the release with npm ci --omit=dev, the certificate authority, the unit
# started under systemd and healthy over HTTPS, the dashboard served, then an update whose release
# never becomes healthy and is rolled back. The container's report lands in OUT/report.txt.
#
#   sh test/trixie/install-in-trixie.sh OUT_DIR     (as root; needs debootstrap, systemd-container)
#
# Node: Trixie's own nodejs is 20.19, and Node 22 is not in Debian; the host's Node binary and npm
# are copied in (the report says which), and the installer is told --accept-eol-node when that
# is a Node 20. PRESSO_TRIXIE_BASE=DIR reuses a root made earlier by the same debootstrap line.
# Run by .ci/run after npm test (about 1 minute of debootstrap and 2-3 of install on a quiet
# 2-core machine), not by npm test.
set -eu
out=$(cd "${1:?usage: install-in-trixie.sh OUT_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
root=$(mktemp -d /tmp/presso-trixie-XXXXXX)
trap 'rm -rf "$root"' EXIT
: >"$out/report.txt"

t0=$(date +%s)
if [ -n "${PRESSO_TRIXIE_BASE:-}" ]; then
  cp -a "$PRESSO_TRIXIE_BASE/." "$root/"
  echo "base: copied from $PRESSO_TRIXIE_BASE" >>"$out/report.txt"
else
  # The mirror apt uses on this machine.
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
  mirror=${mirror:-http://deb.debian.org/debian}
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,ca-certificates trixie "$root" "$mirror" \
    >"$out/debootstrap.log" 2>&1
  echo "base: debootstrap --variant=minbase trixie from $mirror in $(($(date +%s) - t0)) s" >>"$out/report.txt"
fi
chmod 0755 "$root"
grep -q '^VERSION_CODENAME=trixie$' "$root/etc/os-release"

# The host's Node and npm (see above).
cp "$(command -v node)" "$root/usr/bin/node"
npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)
mkdir -p "$root/usr/lib/node_modules"
cp -a "$npm_dir" "$root/usr/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
# A machine whose way out re-signs TLS (an egress proxy) tells Node so with NODE_EXTRA_CA_CERTS;
# npm ci in the container goes out the same way and needs the same certificate.
extra_ca=""
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  cp "$NODE_EXTRA_CA_CERTS" "$root/etc/presso-test-extra-ca.pem"
  extra_ca="Environment=NODE_EXTRA_CA_CERTS=/etc/presso-test-extra-ca.pem"
fi
# Already named as the installer will name it, so it has no hostnamectl to call in a container.
echo presso >"$root/etc/hostname"
rm -f "$root/etc/machine-id"
python3 -c 'import uuid; print(uuid.uuid4().hex)' >"$root/etc/machine-id"

cat >"$root/etc/systemd/system/presso-driver.service" <<UNIT
[Unit]
Description=installs presso-gateway as a technician would, and reports
After=basic.target
[Service]
Type=oneshot
$extra_ca
ExecStart=/bin/sh /src/test/trixie/driver.sh
StandardOutput=journal+console
UNIT
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -s /etc/systemd/system/presso-driver.service "$root/etc/systemd/system/multi-user.target.wants/"

timeout 900 systemd-nspawn -D "$root" --register=no --keep-unit --link-journal=no -b \
  --bind-ro="$src":/src --bind="$out":/results </dev/null >"$out/console.txt" 2>&1 || true
echo "total: $(($(date +%s) - t0)) s" >>"$out/report.txt"
cat "$out/report.txt"
