#!/usr/bin/env bash
# Debian packages the test suite needs (run as root, or it uses sudo):
#   socat            - a pseudo-terminal pair that stands in for an RS-485 cable (Modbus RTU tests)
#   python3-pymodbus - an independent Modbus slave the jsmodbus client is tested against
#   mbpoll           - an independent Modbus master (libmodbus) for cross-checks
#   util-linux       - unshare, for the fake-sysfs GPIO tests in a private mount namespace
#   chromium         - the real browser the dashboard's end-to-end tests drive (playwright-core)
#   systemd          - systemd-analyze (verify, security) and systemd-notify, for the unit tests
#   logrotate        - checks the gateway's log rotation rules with a real rotation
#   systemd-container - systemd-nspawn: boots the gateway's unit under a real systemd (test/nspawn)
set -euo pipefail
PKGS=(socat python3-pymodbus mbpoll util-linux systemd logrotate systemd-container chromium)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: all present (${PKGS[*]})"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-test-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
