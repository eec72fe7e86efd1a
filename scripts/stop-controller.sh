#!/bin/sh
# ExecStop= of systemd/presso-gateway.service: stops the controller before the rest, so it vents
# every station and its session-ended reports reach a web process that is still running to store
# them. (pm2-runtime on SIGTERM stops all apps at once, and the web process may be gone first.)
#
# Runs only while pm2-runtime is up: systemd also runs ExecStop= after the main process has died,
# and the pm2 command would then start a new pm2 daemon just to find nothing to stop.
set -eu
[ -n "${MAINPID:-}" ] || exit 0
[ -S "${PM2_HOME:?PM2_HOME must be set}/rpc.sock" ] || exit 0
here=$(dirname "$0")
exec /usr/bin/node "$here/../node_modules/pm2/bin/pm2" stop controller --silent
