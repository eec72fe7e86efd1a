#!/usr/bin/env bash
# Installs Presso Gateway on a Raspberry Pi (Raspberry Pi OS Bookworm, Node 22), or removes it.
# Run it from a built checkout (npm ci && npm run build) as root:
#
#   sudo bash scripts/install-pi.sh [--profile pi-hat] [--port 8080]   install or update
#   sudo bash scripts/install-pi.sh --uninstall [--purge]             remove (--purge: data too)
#   bash scripts/install-pi.sh --dry-run --root /tmp/pi               print every step, change nothing
#
# Where things go (see docs/deploy.md):
#   /opt/presso-gateway/releases/<version>/   the program; /opt/presso-gateway/current links to one
#   /etc/presso-gateway/                      board.json (the board profile), gateway.env (settings)
#   /var/lib/presso-gateway/                  database, backups, pm2's home
#   /var/log/presso-gateway/                  pm2 log files, rotated by /etc/logrotate.d/presso-gateway
#   /etc/systemd/system/presso-gateway.service
#
# Idempotent: running it again changes only what differs. The board profile and the settings in
# /etc are never overwritten once they exist; an update installs a new release next to the old
# ones and moves the `current` link, so a rollback is moving it back (docs/deploy.md).
#
# Every action that changes the system goes through run(), which prints it first; --dry-run
# prints without doing. --root DIR puts every path under DIR (for tests); with --root, only
# --dry-run or --skip-system are accepted, so a test can never touch the host.
set -euo pipefail

NAME=presso-gateway
SERVICE_USER=presso
DEVICE_GROUPS=(gpio i2c dialout)
NODE_BIN=/usr/bin/node
NODE_MAJOR_MIN=22
OPT_DIR=/opt/$NAME
ETC_DIR=/etc/$NAME
DATA_DIR=/var/lib/$NAME
LOG_DIR=/var/log/$NAME
UNIT_DIR=/etc/systemd/system
LOGROTATE_DIR=/etc/logrotate.d
MODULES_LOAD_DIR=/etc/modules-load.d
# Bookworm moved the firmware files from /boot to /boot/firmware.
BOOT_DIR=/boot/firmware
APT_PACKAGES=(build-essential python3 i2c-tools logrotate)

SOURCE=$(cd "$(dirname "$0")/.." && pwd)
ROOT=""
DRY_RUN=0
SKIP_SYSTEM=0
UNINSTALL=0
PURGE=0
PROFILE=""
PORT=8080
START=1

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF
Options:
  --profile NAME   board profile from config/ for a new install (default: pi-direct); an existing
                   /etc/$NAME/board.json is kept
  --port N         dashboard port for a new install (default 8080)
  --dry-run        print every step, change nothing
  --root DIR       prefix every path with DIR (testing); needs --dry-run or --skip-system
  --skip-system    lay out files only: no apt, users, groups, npm, systemctl
  --no-start       install and enable, but do not (re)start the service now
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

while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) DRY_RUN=1 ;;
    --root)
      [ $# -ge 2 ] || die "--root needs a directory"
      ROOT=${2%/}
      shift
      ;;
    --skip-system) SKIP_SYSTEM=1 ;;
    --uninstall) UNINSTALL=1 ;;
    --purge) PURGE=1 ;;
    --no-start) START=0 ;;
    --profile)
      [ $# -ge 2 ] || die "--profile needs a name (one of: $(list_profiles))"
      PROFILE=$2
      shift
      ;;
    --port)
      [ $# -ge 2 ] || die "--port needs a number"
      PORT=$2
      shift
      ;;
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
if [ $DRY_RUN -eq 0 ] && [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
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
PORT=$PORT
HOST=0.0.0.0
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
  [ "$codename" = bookworm ] ||
    die "$release says VERSION_CODENAME=$codename: this script is for Raspberry Pi OS Bookworm (12)"
  say "OS: $id $codename"
}

check_node() {
  local node version major
  node=$(p $NODE_BIN)
  [ -x "$node" ] || die "$node not found: install Node.js $NODE_MAJOR_MIN LTS first (docs/deploy.md, step 2)"
  version=$("$node" --version)
  major=${version#v}
  major=${major%%.*}
  [ "$major" -ge $NODE_MAJOR_MIN ] 2>/dev/null ||
    die "$node is $version; Presso Gateway on the Pi needs Node.js $NODE_MAJOR_MIN LTS or newer (docs/deploy.md, step 2)"
  say "Node: $version"
}

board_source() { # the profile file this install will use for a new board.json
  local f=$SOURCE/config/${PROFILE:-pi-direct}.json
  [ -f "$f" ] || die "--profile ${PROFILE}: no $f (profiles: $(list_profiles))"
  echo "$f"
}

uses_modbus_rtu() { # does the board that will be in use talk Modbus RTU (RS-485 on the UART)?
  local board
  board=$(p $ETC_DIR/board.json)
  [ -f "$board" ] || board=$(board_source)
  grep -q '"modbus-rtu"' "$board"
}

enable_interfaces() {
  local config cmdline
  config=$(p $BOOT_DIR/config.txt)
  cmdline=$(p $BOOT_DIR/cmdline.txt)
  run mkdir -p "$(p $BOOT_DIR)" "$(p $MODULES_LOAD_DIR)"
  # What `raspi-config nonint do_i2c 0` does, written out so it works the same under --root.
  run append_line "$config" "dtparam=i2c_arm=on"
  run append_line "$(p $MODULES_LOAD_DIR)/i2c-dev.conf" "i2c-dev"
  if uses_modbus_rtu; then
    # RS-485 adapter on the Pi's UART: the UART on, and no login console fighting over it.
    run append_line "$config" "enable_uart=1"
    if [ -f "$cmdline" ] && grep -qE 'console=(serial0|ttyAMA0|ttyS0),[0-9]+' "$cmdline"; then
      run remove_word "$cmdline" 'console=\(serial0\|ttyAMA0\|ttyS0\),[0-9]*'
    fi
    say "the board uses Modbus RTU: UART enabled, serial console off (reboot needed)"
  fi
}

install_packages() {
  run_system apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}"
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

install_program() {
  local release dir item
  [ -f "$SOURCE/dist/gateway/control-loop/main.js" ] && [ -f "$SOURCE/dist/gateway/safe-state/main.js" ] ||
    die "$SOURCE/dist is missing or incomplete: run npm ci && npm run build in $SOURCE first"
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
    run touch "$dir/.complete"
  fi
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
  run_system chown -R root:$SERVICE_USER "$etc"
  run chmod 0750 "$etc"
}

install_data_dirs() {
  run mkdir -p "$(p $DATA_DIR)" "$(p $LOG_DIR)"
  run chmod 0750 "$(p $DATA_DIR)" "$(p $LOG_DIR)"
  run_system chown $SERVICE_USER:$SERVICE_USER "$(p $DATA_DIR)" "$(p $LOG_DIR)"
}

install_units() {
  run mkdir -p "$(p $UNIT_DIR)" "$(p $LOGROTATE_DIR)"
  run install -m 0644 "$SOURCE/systemd/$NAME.service" "$(p $UNIT_DIR)/$NAME.service"
  run install -m 0644 "$SOURCE/systemd/$NAME.logrotate" "$(p $LOGROTATE_DIR)/$NAME"
  if [ -n "$ROOT" ]; then
    # systemctl enables offline in a root directory (symlinks only); nothing is started there.
    run systemctl --root="$ROOT" enable $NAME.service
  else
    run_system systemctl daemon-reload
    run_system systemctl enable $NAME.service
    if [ $START -eq 1 ]; then run_system systemctl restart $NAME.service; fi
  fi
}

dashboard_url() {
  local ip
  ip=$(hostname -I 2>/dev/null | awk '{print $1}')
  echo "http://${ip:-$(hostname)}:$PORT/"
}

uninstall() {
  say "removing $NAME"
  if [ -n "$ROOT" ]; then
    run systemctl --root="$ROOT" disable $NAME.service
  else
    run_system systemctl disable --now $NAME.service
  fi
  run rm -f "$(p $UNIT_DIR)/$NAME.service" "$(p $LOGROTATE_DIR)/$NAME"
  if [ -z "$ROOT" ]; then run_system systemctl daemon-reload; fi
  run rm -rf "$(p $OPT_DIR)"
  if [ $PURGE -eq 1 ]; then
    run rm -rf "$(p $ETC_DIR)" "$(p $DATA_DIR)" "$(p $LOG_DIR)"
    if has_user $SERVICE_USER; then run_system userdel $(root_opt) $SERVICE_USER; fi
    say "removed program, settings, data and logs"
  else
    say "kept $ETC_DIR (settings), $DATA_DIR (database, backups) and $LOG_DIR; --purge removes them"
  fi
  say "the I2C/UART settings in $BOOT_DIR/config.txt were left as they are"
}

if [ $DRY_RUN -eq 1 ]; then say "dry run: printing every step, changing nothing"; fi
if [ -n "$ROOT" ]; then say "root: $ROOT"; fi

if [ $UNINSTALL -eq 1 ]; then
  uninstall
  exit 0
fi

board_source >/dev/null # an unknown --profile stops here, before anything changes
check_os
check_node
install_packages
enable_interfaces
create_user
install_program
install_config
install_data_dirs
install_units
say "done. Dashboard: $(dashboard_url)"
say "the admin token is PRESSO_ADMIN_TOKEN in $ETC_DIR/gateway.env; logs: journalctl -u $NAME"
if grep -q '^dtparam=i2c_arm=on$' "$(p $BOOT_DIR/config.txt)" 2>/dev/null && [ ! -e "$(p /dev/i2c-1)" ] && [ -z "$ROOT" ]; then
  say "reboot once so that I2C (and the UART, if used) come up"
fi
