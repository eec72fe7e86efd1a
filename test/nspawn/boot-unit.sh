#!/bin/sh
# Boots a real systemd (PID 1) in systemd-nspawn with presso-gateway.service installed as on a Pi
# (the program is this checkout, bind-mounted read-only at /opt/presso-gateway/current; the board
# is the simulator), and lets test/nspawn/driver.sh exercise it: start (Type=notify readiness from
# the watchdog app), the systemd watchdog tripping on a frozen controller, ExecStopPost= after the
# abort, restart, and a clean stop. The container's report lands in OUT/report.txt.
#
#   sh test/nspawn/boot-unit.sh OUT_DIR        (as root; needs systemd-container; ~25 s idle)
#
# Built on the recipe in the project's research notes: the container's /usr is the host's,
# bind-mounted read-only, with a copy of /etc and a fresh machine id.
set -eu
out=$(cd "${1:?usage: boot-unit.sh OUT_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
root=$(mktemp -d /tmp/presso-nspawn-XXXXXX)
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root" # it becomes the container's /, which the service user must traverse

mkdir -p "$root/usr/lib" "$root/var" "$root/tmp" "$root/run" "$root/proc" "$root/sys" "$root/dev" "$root/root" \
  "$root/opt/presso-gateway" "$root/src"
for l in bin sbin lib lib64; do ln -s "usr/$l" "$root/$l"; done
cp -a /etc "$root/"
rm -rf "$root"/etc/systemd/system/*.target.wants/* "$root/etc/systemd/system/presso-gateway.service.d"
cp /usr/lib/os-release "$root/usr/lib/"
python3 -c 'import uuid; print(uuid.uuid4().hex)' >"$root/etc/machine-id"
ln -s /src "$root/opt/presso-gateway/current"
getent group gpio >/dev/null 2>&1 || grep -q '^gpio:' "$root/etc/group" || groupadd --root "$root" --system gpio
grep -q '^i2c:' "$root/etc/group" || groupadd --root "$root" --system i2c
grep -q '^presso:' "$root/etc/passwd" || useradd --root "$root" --system --user-group --no-create-home \
  --home-dir /var/lib/presso-gateway --shell /usr/sbin/nologin --groups gpio,i2c,dialout presso
# Settings as install-pi.sh leaves them: root:presso, 0750 / 0640.
mkdir -p "$root/etc/presso-gateway"
cp "$src/config/simulator.json" "$root/etc/presso-gateway/board.json"
printf 'PORT=18123\nHOST=127.0.0.1\nPRESSO_LOG_PRESSURES=0\n' >"$root/etc/presso-gateway/gateway.env"
gid=$(sed -n 's/^presso:[^:]*:\([0-9]*\):.*/\1/p' "$root/etc/group")
chown -R "0:$gid" "$root/etc/presso-gateway"
chmod 0750 "$root/etc/presso-gateway"
chmod 0640 "$root/etc/presso-gateway/board.json" "$root/etc/presso-gateway/gateway.env"
cp "$src/systemd/presso-gateway.service" "$root/etc/systemd/system/"
# A short watchdog period, so that the test sees it trip in seconds rather than 30 s.
mkdir -p "$root/etc/systemd/system/presso-gateway.service.d"
printf '[Service]\nWatchdogSec=6s\n' >"$root/etc/systemd/system/presso-gateway.service.d/test.conf"
cat >"$root/etc/systemd/system/presso-driver.service" <<UNIT
[Unit]
Description=drives the presso-gateway test
After=basic.target
[Service]
Type=oneshot
ExecStart=/bin/sh /src/test/nspawn/driver.sh
StandardOutput=journal+console
UNIT
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -s /etc/systemd/system/presso-driver.service "$root/etc/systemd/system/multi-user.target.wants/"
: >"$out/report.txt"

timeout 240 systemd-nspawn -D "$root" --register=no --keep-unit --link-journal=no -b \
  --bind-ro=/usr --bind-ro="$src":/src --bind="$out":/results </dev/null >"$out/console.txt" 2>&1 || true
cat "$out/report.txt"
