#!/usr/bin/env bash
# Installs Presso Gateway on a Raspberry Pi (64-bit Raspberry Pi OS Bookworm or Trixie, Node 22),
# or removes it. Run it from a built checkout (npm ci && npm run build) as root:
#
#   sudo bash scripts/install-pi.sh [--profile pi-hat] [--name presso]  install or update
#   sudo bash scripts/install-pi.sh --uninstall [--purge]             remove (--purge: data too)
#   bash scripts/install-pi.sh --dry-run --root /tmp/pi               print every step, change nothing
#
# Where things go (see docs/deploy.md):
#   /opt/presso-gateway/releases/<version>/   the program; /opt/presso-gateway/current links to one
#   /etc/presso-gateway/                      board.json (the board profile), gateway.env (settings)
#   /var/lib/presso-gateway/                  database, backups, pm2's home
#   /var/log/presso-gateway/                  pm2 log files, rotated by /etc/logrotate.d/presso-gateway
#   /etc/presso-gateway/tls/                  the local certificate authority and the HTTPS certificate
#   /etc/systemd/system/presso-gateway.service
#   /etc/systemd/journald.conf.d/90-presso-gateway.conf   a capped journal that survives a reboot
#   /etc/avahi/services/presso-gateway.service            announces https://<name>.local/
#   /boot/firmware/config.txt                 a marked block: I2C at 400 kHz, boot pin states, UART
#
# Idempotent: running it again changes only what differs. The board profile and the settings in
# /etc are never overwritten once they exist; an update installs a new release next to the old
# ones and moves the `current` link; if the new release does not report healthy within
# --health-timeout seconds, the link moves back to the previous release and that one is
# restarted (docs/deploy.md).
#
# Every action that changes the system goes through run(), which prints it first; --dry-run
# prints without doing. --root DIR puts every path under DIR (for tests); with --root, only
# --dry-run or --skip-system are accepted, so a test can never touch the host.
set -euo pipefail

NAME=presso-gateway
SERVICE_USER=presso
DEVICE_GROUPS=(gpio i2c dialout)
NODE_BIN=/usr/bin/node
# require() of ES modules (pm2 loading ecosystem.config.js) and every locked dependency's engines:
# the same floor as package.json's engines for the Node 22 line.
NODE_MIN=22.13.0
OPT_DIR=/opt/$NAME
ETC_DIR=/etc/$NAME
DATA_DIR=/var/lib/$NAME
LOG_DIR=/var/log/$NAME
UNIT_DIR=/etc/systemd/system
LOGROTATE_DIR=/etc/logrotate.d
MODULES_LOAD_DIR=/etc/modules-load.d
JOURNALD_DIR=/etc/systemd/journald.conf.d
AVAHI_DIR=/etc/avahi/services
TLS_DIR=$ETC_DIR/tls
# Bookworm moved the firmware files from /boot to /boot/firmware; Trixie keeps them there.
BOOT_DIR=/boot/firmware
SUPPORTED_CODENAMES="bookworm trixie"
# Always: log rotation, the .local name, the certificate authority, the health check. More for
# what the board needs (packages_for_board).
APT_PACKAGES=(logrotate avahi-daemon openssl curl)

SOURCE=$(cd "$(dirname "$0")/.." && pwd)
ROOT=""
DRY_RUN=0
SKIP_SYSTEM=0
UNINSTALL=0
PURGE=0
PROFILE=""
PORT=8443
PORT_GIVEN=""
NAME_GIVEN=""
HTTP_PORT=8080
GATEWAY_NAME=presso
HEALTH_TIMEOUT=90
HEALTH_URL=""
CHECK_NATIVE=""
ACCEPT_EOL_NODE=0
START=1

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF
Options:
  --profile NAME   board profile from config/ for a new install (default: pi-direct); an existing
                   /etc/$NAME/board.json is kept
  --port N         HTTPS port for a new install (default 8443); plain HTTP on --http-port
                   (default 8080) only redirects to it
  --http-port N    see --port
  --name NAME      the gateway's name on the LAN for a new install: NAME.local (default presso);
                   sets the host name, the avahi service and the HTTPS certificate
  --health-timeout S  seconds a new release has to report healthy before the rollback (default 90)
  --health-url URL    where to ask (default https://127.0.0.1:PORT/api/health with the local CA)
  --dry-run        print every step, change nothing
  --root DIR       prefix every path with DIR (testing); needs --dry-run or --skip-system
  --skip-system    lay out files only: no apt, users, groups, npm, systemctl
  --no-start       install and enable, but do not (re)start the service now
  --accept-eol-node  accept Node.js 20.19+ (end of life since April 2026, no security fixes):
                   for a test machine whose distribution has nothing newer, never for a clinic
  --check-native DIR  only check that the native modules the board needs load in DIR (an
                   installed release, e.g. after a Node upgrade), and print the fix if not
  --uninstall      stop and remove the service and the program (keeps /etc and /var/lib)
  --purge          with --uninstall: also remove settings, data, logs and the service user
EOF
}

list_profiles() { (cd "$SOURCE/config" && ls -- *.json | sed 's/\.json$//' | tr '\n' ' ' | sed 's/ $//'); }

die() {
  echo "install-pi: error: $*" >&2
  exit 1
}
say() { echo "install-pi: $*"; }

# What an option's value is, for the error when it is missing.
value_of() {
  case $1 in
    --root) echo "a directory" ;;
    --check-native) echo "a release directory" ;;
    --profile) echo "a name (one of: $(list_profiles))" ;;
    --port | --http-port) echo "a number" ;;
    --name) echo "a host name, e.g. presso" ;;
    --health-timeout) echo "seconds" ;;
    --health-url) echo "a URL" ;;
  esac
}

while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) DRY_RUN=1 ;;
    --root | --check-native | --profile | --port | --http-port | --name | --health-timeout | --health-url)
      [ $# -ge 2 ] || die "$1 needs $(value_of "$1")"
      case $1 in
        --root) ROOT=${2%/} ;;
        --check-native) CHECK_NATIVE=$2 ;;
        --profile) PROFILE=$2 ;;
        --port)
          PORT=$2
          PORT_GIVEN=1
          ;;
        --http-port) HTTP_PORT=$2 ;;
        --name)
          GATEWAY_NAME=$2
          NAME_GIVEN=1
          ;;
        --health-timeout) HEALTH_TIMEOUT=$2 ;;
        --health-url) HEALTH_URL=$2 ;;
      esac
      shift
      ;;
    --skip-system) SKIP_SYSTEM=1 ;;
    --uninstall) UNINSTALL=1 ;;
    --accept-eol-node) ACCEPT_EOL_NODE=1 ;;
    --purge) PURGE=1 ;;
    --no-start) START=0 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown option \"$1\" (see --help)" ;;
  esac
  shift
done

if [ -n "$ROOT" ]; then
  [ -d "$ROOT" ] || die "--root $ROOT: no such directory"
  ROOT=$(cd "$ROOT" && pwd)
  [ "$ROOT" != / ] || die "--root / is the real system: leave --root out instead"
  [ $DRY_RUN -eq 1 ] || [ $SKIP_SYSTEM -eq 1 ] || die "--root is for testing: add --dry-run or --skip-system"
fi
[ $PURGE -eq 0 ] || [ $UNINSTALL -eq 1 ] || die "--purge only goes with --uninstall"
case $PORT in '' | *[!0-9]*) die "--port $PORT: not a port number" ;; esac
case $HTTP_PORT in '' | *[!0-9]*) die "--http-port $HTTP_PORT: not a port number" ;; esac
case $HEALTH_TIMEOUT in '' | *[!0-9]*) die "--health-timeout $HEALTH_TIMEOUT: not a number of seconds" ;; esac
# A DNS label: what avahi announces and what the certificate names.
[[ $GATEWAY_NAME =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] ||
  die "--name $GATEWAY_NAME: use lower-case letters, digits and dashes (it becomes $GATEWAY_NAME.local)"
if [ -n "$CHECK_NATIVE" ]; then
  [ -d "$CHECK_NATIVE/node_modules" ] || die "--check-native $CHECK_NATIVE: no node_modules there"
  CHECK_NATIVE_ONLY=1
elif [ $DRY_RUN -eq 0 ] && [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
  die "run as root (sudo bash $0 ...), or try --dry-run first"
fi

# The one way this script changes anything: print the command, then run it unless --dry-run.
run() {
  echo "+ $*"
  if [ $DRY_RUN -eq 0 ]; then "$@"; fi
}

# A system-level step (packages, users, services): printed and skipped with --skip-system.
run_system() {
  if [ $SKIP_SYSTEM -eq 1 ]; then
    echo "skip (--skip-system): $*"
  else
    run "$@"
  fi
}

# File helpers, called through run() so they are printed and honour --dry-run.
append_line() { # FILE LINE: appends LINE unless the file already has it
  grep -qxF -- "$2" "$1" 2>/dev/null || printf '%s\n' "$2" >>"$1"
}
remove_word() { # FILE WORD: removes WORD and one space next to it from a one-line file
  sed -i -e "s/$2 //" -e "s/ \{0,1\}$2//" "$1"
}
write_settings() { # FILE: the first gateway.env, with a fresh admin token (never printed)
  local token
  # A token for the first admin login and for support scripts; change it in gateway.env.
  token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  (
    umask 027
    cat >"$1" <<EOF
# Presso Gateway settings, read by $NAME.service (see docs/deploy.md). KEY=value lines.
# HTTPS on PORT with the certificate from the local CA; plain HTTP on PRESSO_HTTP_PORT only redirects.
PORT=$PORT
HOST=0.0.0.0
PRESSO_HOSTNAME=$GATEWAY_NAME.local
PRESSO_TLS_CERT=$TLS_DIR/server.crt
PRESSO_TLS_KEY=$TLS_DIR/server.key
PRESSO_HTTP_PORT=$HTTP_PORT
PRESSO_ADMIN_TOKEN=$token
EOF
  )
}

# --root DIR: every path under DIR.
p() { echo "$ROOT$1"; }

has_user() { grep -q "^$1:" "$(p /etc/passwd)" 2>/dev/null; }
has_group() { grep -q "^$1:" "$(p /etc/group)" 2>/dev/null; }
root_opt() { if [ -n "$ROOT" ]; then echo "--root=$ROOT"; fi; }

check_os() {
  local release
  release=$(p /etc/os-release)
  [ -r "$release" ] || die "$release not found: this does not look like Raspberry Pi OS"
  # shellcheck disable=SC1090
  local id codename
  id=$(. "$release" && echo "${ID:-}")
  codename=$(. "$release" && echo "${VERSION_CODENAME:-}")
  case $id in
    raspbian | debian) ;;
    *) die "$release says ID=$id: Presso Gateway is installed on Raspberry Pi OS (ID raspbian or debian)" ;;
  esac
  case " $SUPPORTED_CODENAMES " in
    *" $codename "*) ;;
    *) die "$release says VERSION_CODENAME=$codename: this script is for 64-bit Raspberry Pi OS Bookworm (12) or Trixie (13)" ;;
  esac
  say "OS: $id $codename"
}

version_ge() { # A B: is version A >= B (both x.y.z)?
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]
}

check_node() {
  local node version arch
  node=$(p $NODE_BIN)
  [ -x "$node" ] || die "$node not found: install Node.js 22 LTS first (docs/deploy.md, step 2)"
  version=$("$node" --version)
  if [ $ACCEPT_EOL_NODE -eq 1 ] && version_ge "${version#v}" 20.19.0 && ! version_ge "${version#v}" 21.0.0; then
    say "Node $version is end of life (no security fixes since April 2026): accepted by --accept-eol-node"
  else
    version_ge "${version#v}" $NODE_MIN ||
      die "$node is $version; Presso Gateway on the Pi needs Node.js $NODE_MIN (22 LTS) or newer (docs/deploy.md, step 2)"
  fi
  # The architecture Node was built for is the userland's: a 32-bit Raspberry Pi OS reports armv7l
  # from `uname -m` on a 64-bit kernel, but its node is "arm".
  arch=$("$node" -p process.arch)
  case $arch in
    arm64) ;;
    x64) say "Node is x64: not a Raspberry Pi (fine for the simulator and Modbus TCP boards)" ;;
    arm | ia32) die "$node is a 32-bit build ($arch): install the 64-bit Raspberry Pi OS (Raspberry Pi Imager, \"64-bit\") and Node.js 22 for arm64" ;;
    *) die "$node is built for $arch: Presso Gateway supports 64-bit Raspberry Pi OS (arm64)" ;;
  esac
  say "Node: $version ($arch)"
}

board_source() { # the profile file this install will use for a new board.json
  local f=$SOURCE/config/${PROFILE:-pi-direct}.json
  [ -f "$f" ] || die "--profile ${PROFILE}: no $f (profiles: $(list_profiles))"
  echo "$f"
}

board_file() { # the board profile this install uses: the site's, else the chosen profile
  local board
  board=$(p $ETC_DIR/board.json)
  [ -f "$board" ] || board=$(board_source)
  echo "$board"
}

BOARD_FACTS=""
BOARD_FACTS_OF=""
board_fact() { # NAME: one line of scripts/board-facts.mjs about the board in use (read once per board)
  local board
  board=$(board_file)
  if [ "$BOARD_FACTS_OF" != "$board" ]; then
    BOARD_FACTS=$(node "$SOURCE/scripts/board-facts.mjs" "$board") || die "cannot read $board"
    BOARD_FACTS_OF=$board
  fi
  sed -n "s/^$1 \{0,1\}//p" <<<"$BOARD_FACTS"
}

# config.txt lines this installer owns sit between these markers; a rerun replaces the block whole,
# so the file holds each line once and a changed board changes the block.
BLOCK_BEGIN="# BEGIN presso-gateway: written by scripts/install-pi.sh from the board profile; edits here are replaced"
BLOCK_END="# END presso-gateway"
write_block() { # FILE LINES...: replaces (or appends) the marked block with LINES
  local file=$1 tmp
  shift
  tmp=$(mktemp)
  if [ -f "$file" ]; then
    awk -v b="$BLOCK_BEGIN" -v e="$BLOCK_END" '$0 == b {skip = 1} !skip {print} $0 == e {skip = 0}' "$file" >"$tmp"
  fi
  { printf '%s\n' "$BLOCK_BEGIN" "$@" "$BLOCK_END"; } >>"$tmp"
  cat "$tmp" >"$file"
  rm -f "$tmp"
}

header_uart() { # does the board talk Modbus RTU on the 40-pin header's UART (not a USB adapter)?
  local path
  for path in $(board_fact rtu); do
    case $path in /dev/ttyAMA0 | /dev/serial0) return 0 ;; esac
  done
  return 1
}

boot_config_lines() { # the config.txt block for the board in use, one line per argument
  local pin lines=("[all]")
  if [ "$(board_fact i2c)" = yes ]; then
    # What `raspi-config nonint do_i2c 0` does, at 400 kHz: at the default 100 kHz the pi-direct
    # scan of four ADS1115 channels takes about 10.9 ms, more than the 10 ms tick (docs/hardware.md).
    lines+=("dtparam=i2c_arm=on" "dtparam=i2c_arm_baudrate=400000")
  fi
  # Pump and valve lines driven to "off" by the firmware from power-on, and inputs with the pull
  # their wiring needs, so nothing floats or energises before the controller starts.
  for pin in $(board_fact boot-gpio); do lines+=("gpio=$pin"); done
  if header_uart; then
    # Modbus RTU needs parity, which the mini UART lacks: on a Pi 4 the full UART (PL011) moves
    # from Bluetooth to GPIO14/15; on a Pi 5 the header UART is uart0, /dev/ttyAMA0.
    lines+=("enable_uart=1" "[pi4]" "dtoverlay=disable-bt" "[pi5]" "dtparam=uart0=on" "[all]")
  fi
  printf '%s\n' "${lines[@]}"
}

enable_interfaces() {
  local config cmdline lines=()
  config=$(p $BOOT_DIR/config.txt)
  cmdline=$(p $BOOT_DIR/cmdline.txt)
  run mkdir -p "$(p $BOOT_DIR)" "$(p $MODULES_LOAD_DIR)"
  mapfile -t lines < <(boot_config_lines)
  printf '  | %s\n' "${lines[@]}"
  run write_block "$config" "${lines[@]}"
  if [ "$(board_fact i2c)" = yes ]; then run append_line "$(p $MODULES_LOAD_DIR)/i2c-dev.conf" "i2c-dev"; fi
  # USB RS-485 adapters: their drivers loaded at boot, so that the unit's DeviceAllow=char-ttyUSB
  # and char-ttyACM resolve (systemd looks the names up in /proc/devices when the unit starts) and
  # an adapter plugged in later is allowed too.
  run append_line "$(p $MODULES_LOAD_DIR)/presso-gateway.conf" "usbserial"
  run append_line "$(p $MODULES_LOAD_DIR)/presso-gateway.conf" "cdc_acm"
  if header_uart; then
    # No login console fighting over the UART.
    if [ -f "$cmdline" ] && grep -qE 'console=(serial0|ttyAMA0|ttyS0),[0-9]+' "$cmdline"; then
      run remove_word "$cmdline" 'console=\(serial0\|ttyAMA0\|ttyS0\),[0-9]*'
    fi
    # On a Pi 4 the Bluetooth modem would otherwise claim the UART that disable-bt moved.
    if [ -z "$ROOT" ] && systemctl list-unit-files hciuart.service >/dev/null 2>&1; then
      run_system systemctl disable hciuart.service
    fi
    say "the board uses Modbus RTU on the header UART: /dev/ttyAMA0, serial console off (reboot needed)"
  fi
}

packages_for_board() { # APT_PACKAGES plus what the board's drivers need
  local pkgs=("${APT_PACKAGES[@]}")
  # Native modules (onoff's epoll, i2c-bus, serialport) are compiled by npm ci on the Pi.
  if [ -n "$(board_fact native)" ]; then pkgs=(build-essential python3 "${pkgs[@]}"); fi
  if [ "$(board_fact i2c)" = yes ]; then pkgs+=(i2c-tools); fi
  echo "${pkgs[@]}"
}

install_packages() {
  local p missing=()
  for p in $(packages_for_board); do
    dpkg-query --admindir="$(p /var/lib/dpkg)" -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "packages: all present ($(packages_for_board))"
    return 0
  fi
  # A fresh image's package lists may be missing or old.
  run_system apt-get update
  run_system apt-get install -y --no-install-recommends "${missing[@]}"
}

create_user() {
  local g
  for g in "${DEVICE_GROUPS[@]}"; do
    has_group "$g" || run_system groupadd --system $(root_opt) "$g"
  done
  if has_user $SERVICE_USER; then
    run_system usermod $(root_opt) --append --groups "$(IFS=,; echo "${DEVICE_GROUPS[*]}")" $SERVICE_USER
  else
    run_system useradd $(root_opt) --system --user-group --home-dir $DATA_DIR --no-create-home \
      --shell /usr/sbin/nologin --groups "$(IFS=,; echo "${DEVICE_GROUPS[*]}")" $SERVICE_USER
  fi
}

# What a release is made of (the copy to /opt/presso-gateway/releases/<name>/).
RELEASE_ITEMS=(package.json package-lock.json ecosystem.config.js dist config scripts systemd docs README.md dashboard/dist)
# Older releases kept for a rollback, besides the current one.
KEEP_RELEASES=3

# <version>-<hash of the release's files>: the same build always gets the same name (so a rerun
# changes nothing), and a new build gets a new directory next to the old ones (the rollback path).
release_name() {
  local version hash item
  version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$SOURCE/package.json" | head -n 1)
  [ -n "$version" ] || die "$SOURCE/package.json has no version"
  hash=$(
    cd "$SOURCE"
    for item in "${RELEASE_ITEMS[@]}"; do
      if [ -e "$item" ]; then find "$item" -type f; fi
    done | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-8
  )
  echo "$version-$hash"
}

# The package each native module is loaded through, and the packages `npm rebuild` must compile.
declare -A NATIVE_REQUIRE=([onoff]=onoff [i2c-bus]=i2c-bus [serialport]=@serialport/bindings-cpp)
declare -A NATIVE_BUILD=([onoff]=epoll [i2c-bus]=i2c-bus [serialport]=@serialport/bindings-cpp)
load_native() { # DIR MODULE: the board's drivers need MODULE; prove it loads in the release
  local out fix
  if ! out=$(cd "$1" && node -e "require('${NATIVE_REQUIRE[$2]}')" 2>&1); then
    # An optional dependency whose build failed is left out by npm ci; one built for another Node
    # (after a Node upgrade) is there but refuses to load.
    if grep -q 'Cannot find module' <<<"$out"; then
      fix="npm ci --omit=dev --no-audit --no-fund"
    else
      fix="npm rebuild ${NATIVE_BUILD[$2]}"
    fi
    die "$2 (a native module the board needs) does not load in $1:
  $(grep -m 1 -E '^[A-Za-z]*Error' <<<"$out" || tail -n 1 <<<"$out")
fix: apt-get install build-essential python3 && (cd $1 && $fix), then run this installer again"
  fi
  say "native module $2 loads"
}

install_program() {
  local release dir item
  [ -f "$SOURCE/dist/gateway/control-loop/main.js" ] && [ -f "$SOURCE/dist/gateway/safe-state/main.js" ] ||
    die "$SOURCE/dist is missing or incomplete: run npm ci && npm run build in $SOURCE first"
  [ -f "$SOURCE/dashboard/dist/index.html" ] ||
    die "$SOURCE/dashboard/dist/index.html is missing: the tablet would get a \"not built\" page; run npm ci && npm run build in $SOURCE first"
  release=$(release_name)
  dir=$(p $OPT_DIR/releases/$release)
  if [ -d "$dir" ] && [ "$dir" -ef "$SOURCE" ]; then
    # Run from an installed release (a rollback): it is complete already; only the link moves.
    say "installing release $release in place"
  elif [ -f "$dir/.complete" ]; then
    say "release $release is installed already"
  else
    run mkdir -p "$(p $OPT_DIR/releases)"
    # A half-copied release (an earlier run that stopped) is replaced whole.
    if [ -e "$dir" ]; then run rm -rf "$dir"; fi
    run mkdir -p "$dir"
    for item in "${RELEASE_ITEMS[@]}"; do
      if [ -e "$SOURCE/$item" ]; then
        run mkdir -p "$(dirname "$dir/$item")"
        run cp -R "$SOURCE/$item" "$dir/$item"
      fi
    done
    # Production dependencies only, built on this Pi (onoff's epoll and i2c-bus are native).
    run_system npm ci --omit=dev --no-audit --no-fund --prefix "$dir"
    local module
    for module in $(board_fact native); do run_system load_native "$dir" "$module"; done
    run touch "$dir/.complete"
  fi
  PREVIOUS_RELEASE=$(readlink "$(p $OPT_DIR/current)" 2>/dev/null || true)
  NEW_RELEASE=releases/$release
  # The link moves last: until here the running release was untouched.
  run ln -sfn "releases/$release" "$(p $OPT_DIR/current)"
  say "program: $OPT_DIR/current -> releases/$release"
  prune_releases "releases/$release"
}

prune_releases() { # CURRENT: removes all but the KEEP_RELEASES newest releases besides CURRENT
  local name n=0
  [ -d "$(p $OPT_DIR/releases)" ] || return 0
  for name in $(ls -1t "$(p $OPT_DIR/releases)"); do
    [ "releases/$name" != "$1" ] || continue
    n=$((n + 1))
    if [ $n -gt $KEEP_RELEASES ]; then run rm -rf "$(p $OPT_DIR/releases/$name)"; fi
  done
}

install_config() {
  local etc board env token
  etc=$(p $ETC_DIR)
  board=$etc/board.json
  env=$etc/gateway.env
  run mkdir -p "$etc"
  if [ -f "$board" ]; then
    say "keeping $ETC_DIR/board.json"
  else
    run install -m 0640 "$(board_source)" "$board"
  fi
  if [ -f "$env" ]; then
    say "keeping $ETC_DIR/gateway.env"
  else
    run write_settings "$env"
  fi
  install_tls
  run_system chown -R root:$SERVICE_USER "$etc"
  run chmod 0750 "$etc"
}

setting() { # KEY: its value in gateway.env (empty when unset or no file yet)
  sed -n "s/^$1=//p" "$(p $ETC_DIR/gateway.env)" 2>/dev/null | tail -n 1
}

install_tls() {
  local tls addresses=()
  tls=$(p $TLS_DIR)
  # Every address the tablets may use, besides NAME.local: the certificate names each one.
  if [ -z "$ROOT" ]; then read -r -a addresses <<<"$(hostname -I 2>/dev/null || true)"; fi
  run bash "$SOURCE/scripts/make-tls.sh" "$tls" "$GATEWAY_NAME" "${addresses[@]}"
  run chmod 0600 "$tls/ca.key"
  run chmod 0640 "$tls/server.key"
  say "HTTPS: certificate for $GATEWAY_NAME.local ${addresses[*]}; tablets trust $TLS_DIR/ca.crt once (docs/deploy.md)"
  if [ $DRY_RUN -eq 0 ] && [ -f "$tls/ca.crt" ]; then
    say "local CA fingerprint (compare it on the tablet): $(openssl x509 -in "$tls/ca.crt" -noout -fingerprint -sha256 | cut -d= -f2)"
  fi
}

set_hostname() { # the gateway's name on the LAN: NAME.local through avahi
  local current hosts
  current=$(cat "$(p /etc/hostname)" 2>/dev/null || true)
  hosts=$(p /etc/hosts)
  if [ "$current" != "$GATEWAY_NAME" ]; then
    run_system hostnamectl set-hostname "$GATEWAY_NAME"
    # Debian names itself on 127.0.1.1; without it sudo complains it cannot resolve the host.
    if [ -f "$hosts" ]; then run_system sed -i "s/^127\.0\.1\.1[[:space:]].*/127.0.1.1\t$GATEWAY_NAME/" "$hosts"; fi
  fi
  run mkdir -p "$(p $AVAHI_DIR)"
  run install -m 0644 "$SOURCE/systemd/presso-gateway.avahi" "$(p $AVAHI_DIR)/$NAME.service"
  run sed -i "s/@PORT@/$PORT/" "$(p $AVAHI_DIR)/$NAME.service"
}

install_data_dirs() {
  run mkdir -p "$(p $DATA_DIR)" "$(p $LOG_DIR)"
  run chmod 0750 "$(p $DATA_DIR)" "$(p $LOG_DIR)"
  run_system chown $SERVICE_USER:$SERVICE_USER "$(p $DATA_DIR)" "$(p $LOG_DIR)"
}

install_units() {
  run mkdir -p "$(p $UNIT_DIR)" "$(p $LOGROTATE_DIR)" "$(p $JOURNALD_DIR)"
  run install -m 0644 "$SOURCE/systemd/$NAME.service" "$(p $UNIT_DIR)/$NAME.service"
  run install -m 0644 "$SOURCE/systemd/$NAME.logrotate" "$(p $LOGROTATE_DIR)/$NAME"
  # Raspberry Pi OS keeps the journal in RAM: this capped, persistent journal keeps the safe-state
  # reports and alarm lines of an incident across the reboot that usually follows it.
  if ! cmp -s "$SOURCE/systemd/journald-presso-gateway.conf" "$(p $JOURNALD_DIR)/90-$NAME.conf"; then
    run install -m 0644 "$SOURCE/systemd/journald-presso-gateway.conf" "$(p $JOURNALD_DIR)/90-$NAME.conf"
    if [ -z "$ROOT" ]; then run_system systemctl restart systemd-journald; fi
  fi
  if [ -n "$ROOT" ]; then
    # systemctl enables offline in a root directory (symlinks only); nothing is started there.
    run systemctl --root="$ROOT" enable $NAME.service
  else
    run_system systemctl daemon-reload
    run_system systemctl enable $NAME.service
    # --no-block: a release that never signals READY would hold `systemctl restart` for the
    # unit's TimeoutStartSec and then fail this script; the health wait below decides instead.
    if [ $START -eq 1 ]; then restart_service; fi
  fi
}

INVOCATION_BEFORE=""
restart_service() {
  # The run of the unit before the restart: until systemd reports another one active, a healthy
  # answer still comes from the old processes.
  if [ $SKIP_SYSTEM -eq 0 ] && [ $DRY_RUN -eq 0 ]; then
    INVOCATION_BEFORE=$(systemctl show -p InvocationID --value $NAME.service 2>/dev/null || true)
  fi
  run_system systemctl restart --no-block $NAME.service
}

new_run_active() { # has the restart happened, and is the new run up (READY=1 under Type=notify)?
  [ $SKIP_SYSTEM -eq 1 ] && return 0
  [ "$(systemctl show -p InvocationID --value $NAME.service 2>/dev/null)" != "$INVOCATION_BEFORE" ] &&
    [ "$(systemctl is-active $NAME.service 2>/dev/null)" = active ]
}

dashboard_url() {
  echo "https://$GATEWAY_NAME.local:$PORT/"
}

health_url() {
  if [ -n "$HEALTH_URL" ]; then
    echo "$HEALTH_URL"
  elif [ -n "$(setting PRESSO_TLS_CERT)" ]; then
    echo "https://127.0.0.1:$(setting PORT)/api/health"
  else
    echo "http://127.0.0.1:$(setting PORT)/api/health"
  fi
}

wait_healthy() { # true once the health URL says the web process runs with its controller connected
  local url deadline
  url=$(health_url)
  deadline=$((SECONDS + HEALTH_TIMEOUT))
  while :; do
    if new_run_active && curl -fsS --max-time 3 --cacert "$(p $TLS_DIR)/ca.crt" "$url" 2>/dev/null | grep -q '"status":"ok"'; then
      return 0
    fi
    [ $SECONDS -lt $deadline ] || return 1
    sleep 2
  done
}

# After the service restarted on a new release: healthy within HEALTH_TIMEOUT, or back to the
# release that ran before, restarted, and a non-zero exit that says so.
check_or_roll_back() {
  say "waiting up to $HEALTH_TIMEOUT s for $(health_url) to report healthy"
  if wait_healthy; then
    say "release ${NEW_RELEASE#releases/} is healthy"
    return 0
  fi
  if [ -z "$PREVIOUS_RELEASE" ] || [ "$PREVIOUS_RELEASE" = "$NEW_RELEASE" ]; then
    die "release ${NEW_RELEASE#releases/} did not report healthy within $HEALTH_TIMEOUT s and there is no earlier release to go back to; see journalctl -u $NAME"
  fi
  say "release ${NEW_RELEASE#releases/} did not report healthy within $HEALTH_TIMEOUT s: rolling back to ${PREVIOUS_RELEASE#releases/}"
  run ln -sfn "$PREVIOUS_RELEASE" "$(p $OPT_DIR/current)"
  restart_service
  if wait_healthy; then
    say "rolled back: ${PREVIOUS_RELEASE#releases/} runs again and is healthy; the failed release stays in $OPT_DIR/releases for a look"
  else
    say "rolled back to ${PREVIOUS_RELEASE#releases/}, but it does not report healthy either; see journalctl -u $NAME"
  fi
  exit 3
}

uninstall() {
  say "removing $NAME"
  if [ -n "$ROOT" ]; then
    run systemctl --root="$ROOT" disable $NAME.service
  else
    run_system systemctl disable --now $NAME.service
  fi
  run rm -f "$(p $UNIT_DIR)/$NAME.service" "$(p $LOGROTATE_DIR)/$NAME" "$(p $AVAHI_DIR)/$NAME.service" \
    "$(p $JOURNALD_DIR)/90-$NAME.conf"
  if [ -z "$ROOT" ]; then run_system systemctl daemon-reload; fi
  run rm -rf "$(p $OPT_DIR)"
  if [ $PURGE -eq 1 ]; then
    run rm -rf "$(p $ETC_DIR)" "$(p $DATA_DIR)" "$(p $LOG_DIR)"
    if has_user $SERVICE_USER; then run_system userdel $(root_opt) $SERVICE_USER; fi
    say "removed program, settings, data and logs"
  else
    say "kept $ETC_DIR (settings), $DATA_DIR (database, backups) and $LOG_DIR; --purge removes them"
  fi
  say "the block in $BOOT_DIR/config.txt (I2C, boot pin states, UART) was left as it is"
}

if [ $DRY_RUN -eq 1 ]; then say "dry run: printing every step, changing nothing"; fi
if [ -n "$ROOT" ]; then say "root: $ROOT"; fi

if [ $UNINSTALL -eq 1 ]; then
  uninstall
  exit 0
fi

board_source >/dev/null # an unknown --profile stops here, before anything changes
# Read the board's facts once, here in the main shell: the $(board_fact ...) calls below run in
# subshells, which inherit the cache but could not fill it.
board_fact native >/dev/null
if [ "${CHECK_NATIVE_ONLY:-0}" -eq 1 ]; then
  for module in $(board_fact native); do load_native "$CHECK_NATIVE" "$module"; done
  say "every native module $(board_file) needs loads in $CHECK_NATIVE"
  exit 0
fi
# An installed gateway keeps its name and ports unless told otherwise.
if [ -z "$NAME_GIVEN" ] && [ -n "$(setting PRESSO_HOSTNAME)" ]; then GATEWAY_NAME=$(setting PRESSO_HOSTNAME) && GATEWAY_NAME=${GATEWAY_NAME%.local}; fi
if [ -z "$PORT_GIVEN" ] && [ -n "$(setting PORT)" ]; then PORT=$(setting PORT); fi
check_os
check_node
install_packages
enable_interfaces
create_user
set_hostname
install_program
install_config
install_data_dirs
install_units
if [ $DRY_RUN -eq 0 ] && [ $START -eq 1 ] && { [ $SKIP_SYSTEM -eq 0 ] || [ -n "$HEALTH_URL" ]; }; then
  check_or_roll_back
fi
say "done. Dashboard: $(dashboard_url)"
say "the admin token is PRESSO_ADMIN_TOKEN in $ETC_DIR/gateway.env; logs: journalctl -u $NAME"
if grep -q '^dtparam=i2c_arm=on$' "$(p $BOOT_DIR/config.txt)" 2>/dev/null && [ ! -e "$(p /dev/i2c-1)" ] && [ -z "$ROOT" ]; then
  say "reboot once so that I2C (and the UART, if used) come up"
fi
