#!/usr/bin/env bash
# Debian packages the test suite needs (run as root, or it uses sudo), installed WITHOUT recommends,
# so every module a peer imports at run time is named here, not left to a Recommends: line:
#   socat                  - a pseudo-terminal pair that stands in for an RS-485 cable (Modbus RTU tests)
#   python3-pymodbus       - an independent Modbus slave the jsmodbus client is tested against;
#   python3-serial           its server imports `serial` and `serial_asyncio` even for TCP, and
#   python3-serial-asyncio   Debian 12's python3-pymodbus only recommends them
#   mbpoll                 - an independent Modbus master (libmodbus) for cross-checks
#   util-linux             - unshare, for the fake-sysfs GPIO tests in a private mount namespace
#   chromium               - the real browser the dashboard's end-to-end tests drive (playwright-core)
#   systemd                - systemd-analyze (verify, security) and systemd-notify, for the unit tests
#   logrotate              - checks the gateway's log rotation rules with a real rotation
#   systemd-container      - systemd-nspawn: boots the gateway's unit under a real systemd (test/nspawn)
#   openssl                - the installer's local certificate authority and the HTTPS tests
#   curl                   - the health checks inside the nspawn containers
#   debootstrap            - builds the Debian 13 (trixie) root of the container install test (.ci/run)
#   libnss3-tools          - certutil: the HTTPS browser test makes Chromium trust the gateway's local CA
#                            as a Pi kiosk would (docs/deploy.md)
#   mosquitto              - the MQTT broker the centre tests start on a loopback port (docs/centre.md);
#                            the tests run it with their own config, never a system service on 1883
#   mosquitto-clients      - mosquitto_pub/mosquitto_sub: the centre tests read the retained topics
#                            and publish as a stranger with them
#
# Then it proves each peer works, not only that its package is installed: a peer that is
# installed but cannot run (a missing module, a broken browser) fails here with the package to
# install, instead of as thirteen confusing test failures later.
set -euo pipefail
PKGS=(socat python3-pymodbus python3-serial python3-serial-asyncio mbpoll util-linux systemd logrotate
  systemd-container chromium openssl curl debootstrap libnss3-tools mosquitto mosquitto-clients)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "install-test-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Each check: a name, the package that fixes it, and a command that must succeed quietly.
failed=()
check() { # NAME PACKAGE COMMAND...
  local name=$1 pkg=$2 out
  shift 2
  if out=$("$@" 2>&1); then
    echo "install-test-deps: ok   $name"
  else
    echo "install-test-deps: FAIL $name: ${out##*$'\n'}" >&2
    echo "install-test-deps:      fix: apt-get install --no-install-recommends $pkg" >&2
    failed+=("$name")
  fi
}
# The tests run Debian's Python explicitly (test/fixtures/modbus_slave.py): a pyenv or venv python3
# earlier on PATH does not see these modules.
check "pymodbus server (/usr/bin/python3)" python3-pymodbus \
  /usr/bin/python3 -c 'import pymodbus.server.async_io, pymodbus.datastore, pymodbus.transaction'
check "pyserial" python3-serial /usr/bin/python3 -c 'import serial'
check "pyserial-asyncio" python3-serial-asyncio /usr/bin/python3 -c 'import serial_asyncio'
# mbpoll -h exits 0 after printing its usage: it runs and finds libmodbus.
check "mbpoll" mbpoll sh -c 'mbpoll -h >/dev/null'
check "socat" socat socat -V
check "unshare" util-linux unshare --help
check "systemd-analyze" systemd systemd-analyze --version
check "systemd-notify" systemd systemd-notify --help
check "logrotate" logrotate logrotate --version
check "systemd-nspawn" systemd-container systemd-nspawn --version
check "openssl" openssl openssl version
check "curl" curl curl --version
check "debootstrap" debootstrap sh -c 'command -v debootstrap'
check "certutil" libnss3-tools sh -c "certutil -N -d 'sql:$scratch' --empty-password"
# A headless start that renders a page: proves the binary, its libraries and the sandbox flags work.
check "chromium (headless)" chromium sh -c "timeout 60 chromium --headless --no-sandbox --disable-gpu \
  --disable-background-networking --disable-component-update --disable-sync --no-first-run \
  --user-data-dir='$scratch/chromium' --dump-dom 'data:text/html,<p>presso-ok</p>' 2>/dev/null | grep -q presso-ok"
# A broker of our own on a free loopback port (the package may also have started a system one on
# 1883; the tests never use that), and a retained message round-tripped through it.
mosquitto_roundtrip() {
  local port pid out
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" >"$scratch/mosquitto.conf"
  mosquitto -c "$scratch/mosquitto.conf" >"$scratch/mosquitto.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do
    mosquitto_pub -h 127.0.0.1 -p "$port" -r -t presso/check -m presso-ok 2>/dev/null && break
    sleep 0.1
  done
  out=$(mosquitto_sub -h 127.0.0.1 -p "$port" -t presso/check -C 1 -W 5 2>&1) || true
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ "$out" = presso-ok ] || { echo "retained message not read back (got: $out)"; cat "$scratch/mosquitto.log"; return 1; }
}
check "mosquitto + mosquitto_pub/sub (retained round trip)" "mosquitto mosquitto-clients" mosquitto_roundtrip

if [ ${#failed[@]} -gt 0 ]; then
  echo "install-test-deps: ${#failed[@]} peer(s) do not work: ${failed[*]}" >&2
  exit 1
fi
echo "install-test-deps: all present and working (${PKGS[*]})"
