#!/bin/sh
# Runs inside the container booted by boot-unit.sh, as a oneshot unit: exercises
# presso-gateway.service and writes what it saw to /results/report.txt, then powers off.
r=/results/report.txt
say() { echo "$*" >>"$r"; }
show() { systemctl show presso-gateway -p ActiveState -p SubState -p NRestarts -p Result --value | tr '\n' ' '; }
ms() { date +%s%3N; }

t0=$(ms)
systemctl start presso-gateway
say "start: exit $? after $(($(ms) - t0)) ms; state: $(show)"
say "health: $(curl -s --max-time 3 http://127.0.0.1:18123/api/health)"
say "status line: $(systemctl show presso-gateway -p StatusText --value)"

# A controller that is alive but stuck: pm2 sees nothing wrong; the systemd watchdog must.
ctl=$(pgrep -u presso -f dist/gateway/control-loop/main.js | head -n 1)
say "freezing controller pid $ctl"
kill -STOP "$ctl"
t0=$(ms)
i=0
while [ $i -lt 60 ]; do
  [ "$(systemctl show presso-gateway -p NRestarts --value)" -ge 1 ] && break
  sleep 0.5
  i=$((i + 1))
done
say "restarted by the watchdog after $(($(ms) - t0)) ms; state: $(show)"
i=0
while [ $i -lt 60 ]; do
  [ "$(systemctl show presso-gateway -p ActiveState --value)" = active ] && break
  sleep 0.5
  i=$((i + 1))
done
say "after restart: $(show)"

t0=$(ms)
systemctl stop presso-gateway
say "stop: $(($(ms) - t0)) ms; state: $(show)"
say "--- journal ---"
journalctl -u presso-gateway --no-pager -o cat >>"$r" 2>&1
say "--- end ---"
systemctl poweroff
