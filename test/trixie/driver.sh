#!/bin/sh
# Runs inside the Trixie container booted by install-in-trixie.sh, as a oneshot unit: installs
# Presso Gateway from /src (a built checkout, read-only) with scripts/install-pi.sh, checks what a
# technician would, updates to a release that never becomes healthy, and writes what it saw to
# /results/report.txt, then powers off.
r=/results/report.txt
say() { echo "$*" >>"$r"; }
ca=/etc/presso-gateway/tls/ca.crt
eol=""
case $(node --version) in v20.*) eol=--accept-eol-node ;; esac
say "node: $(node --version) (the host's binary${eol:+; $eol}), npm $(npm --version)"

t0=$(date +%s)
bash /src/scripts/install-pi.sh --profile simulator $eol --health-timeout 240 >/results/install.log 2>&1
say "install: exit $? after $(($(date +%s) - t0)) s"
say "unit: $(systemctl show presso-gateway -p ActiveState -p SubState -p NRestarts --value | tr '\n' ' ')"
say "health: $(curl -s --max-time 5 --cacert $ca https://127.0.0.1:8443/api/health)"
say "dashboard: $(curl -s --max-time 5 --cacert $ca --resolve presso.local:8443:127.0.0.1 https://presso.local:8443/ | grep -o '<title>[^<]*</title>')"
say "redirect: $(curl -s -o /dev/null --max-time 5 -w '%{http_code} %{redirect_url}' -H 'Host: presso.local:8080' http://127.0.0.1:8080/station/bay-1)"
say "journal: $(journalctl --header 2>/dev/null | sed -n 's/^File path: *//p' | grep -c '^/var/log/journal/') persistent file(s)"
say "release: $(readlink /opt/presso-gateway/current)"
say "dashboard files: $(ls /opt/presso-gateway/current/dashboard/dist/index.html 2>&1)"

# An update whose web process dies at start: the installer must put the running release back.
rm -rf /tmp/broken && mkdir -p /tmp/broken
for item in package.json package-lock.json ecosystem.config.js dist config scripts systemd docs README.md; do
  cp -R "/src/$item" "/tmp/broken/$item"
done
mkdir -p /tmp/broken/dashboard && cp -R /src/dashboard/dist /tmp/broken/dashboard/dist
printf 'throw new Error("a broken build");\n' >/tmp/broken/dist/gateway/server/main.js
t0=$(date +%s)
bash /tmp/broken/scripts/install-pi.sh $eol --health-timeout 40 >/results/update.log 2>&1
say "broken update: exit $? after $(($(date +%s) - t0)) s"
grep -E 'did not report healthy|rolled back' /results/update.log | sed 's/^/  /' >>"$r"
say "release after rollback: $(readlink /opt/presso-gateway/current)"
i=0
until curl -s --max-time 3 --cacert $ca https://127.0.0.1:8443/api/health | grep -q '"status":"ok"' || [ $i -ge 30 ]; do
  sleep 2
  i=$((i + 1))
done
say "health after rollback: $(curl -s --max-time 5 --cacert $ca https://127.0.0.1:8443/api/health)"
say "--- journal ---"
journalctl -u presso-gateway --no-pager -o cat 2>&1 | tail -n 60 >>"$r"
say "--- end ---"
systemctl poweroff
