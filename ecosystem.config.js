// pm2 process file: the gateway's two processes, run from the compiled output (`npm run build`).
//
//   pm2 start ecosystem.config.js           on a workstation (a pm2 daemon in $PM2_HOME)
//   pm2-runtime start ecosystem.config.js   in the foreground, as systemd/presso-gateway.service does
//
// Why this is an ES module with a named `apps` export: package.json says "type": "module", so a
// CommonJS file named .js cannot load here (pm2 would fail with "module is not defined in ES
// module scope"), and pm2 7 loads the process file with require(). Node 20.19+ and 22.12+ can
// require() an ES module without top-level await and return its namespace object; pm2 reads
// `.apps` from it, which a named export provides (an `export default {apps}` would hide them
// under `.default`, and pm2 then aborts with "No script path"). The pm2 smoke test
// (test/pm2.test.ts) starts the real pm2 7.0.4 with this file.
//
// Environment passes through from whoever runs pm2 (the unit's Environment=/EnvironmentFile=, or
// your shell): PRESSO_BOARD, PRESSO_DATA_DIR, PRESSO_CONTROLLER_SOCKET, PORT, HOST,
// PRESSO_ADMIN_TOKEN, PRESSO_SERVER_CONFIG. pm2 gives each app the environment of the command that
// started it, so nothing needs listing here except what this file adds.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

// pm2 sends SIGINT, waits kill_timeout, then SIGKILLs. Each process must finish its safe stop
// inside it:
// - the controller stops its tick, writes the safe state twice (ventAll, then closeAll) and waits
//   50 ms for clients to get the session-ended events. On GPIO/I2C that is a few ms; on Modbus each
//   write can take one answer timeout plus 100 ms guard, two writes (coils, registers) per module,
//   so about 1.3 s at the default 200 ms timeout;
// - the web process gives itself SHUTDOWN_LIMIT_MS = 5000 (gateway/server/main.ts) to close the
//   HTTP server and the controller link and flush the database, then exits anyway.
// 8 s covers the larger of the two with 3 s to spare on a busy Pi. The systemd unit's
// TimeoutStopSec (20 s) is longer again, so pm2, not systemd, decides when to SIGKILL an app.
const KILL_TIMEOUT_MS = 8000;

// Restart with back-off: 500 ms, growing 1.5 times per restart up to 15 s, back to 500 ms after
// 30 s up (pm2's rule), so a crash loop does not hammer the SD card or the I2C bus. A process that dies within
// min_uptime counts as unstable; after max_restarts such starts in a row pm2 gives up and the
// systemd watchdog (no healthy controller: no ping) restarts the whole unit instead.
const restart = {
  autorestart: true,
  exp_backoff_restart_delay: 500,
  min_uptime: 5000,
  max_restarts: 20,
  kill_timeout: KILL_TIMEOUT_MS,
  // Exit code 2 is a configuration error (bad board file or settings): restarting cannot fix it.
  stop_exit_codes: [2],
};

// Logs: one file per app and stream under $PRESSO_LOG_DIR (default $PM2_HOME/logs), rotated by
// logrotate with copytruncate (systemd/presso-gateway.logrotate, installed by
// scripts/install-pi.sh); pm2 keeps writing to the same open file. Under systemd they also go to
// the journal, because pm2-runtime echoes the apps' output to its own stdout.
const logDir = process.env.PRESSO_LOG_DIR;
const logs = (name) =>
  logDir ? { out_file: join(logDir, `${name}.out.log`), error_file: join(logDir, `${name}.err.log`) } : {};

// The controller schedules itself (SCHED_FIFO at priority 1 where permitted, else nice -10:
// gateway/control-loop/scheduling.ts, measured in docs/benchmarks.md "Co-load"); nothing here
// needs to. The web process and the watchdog app run through `nice -n 10`, 10 steps below the
// controller's fallback (under systemd: the unit's Nice=-5 for the controller, 5 for them). No V8
// heap flags and no CPU pinning: neither helped in the co-load bench on its own, and with the
// real-time policy there was nothing left for them to do. Lowering one's own priority needs no privilege, and `nice` execs node
// in place, so pm2 still sees and signals the node process itself.
const niced = existsSync('/usr/bin/nice')
  ? { interpreter: '/usr/bin/nice', interpreter_args: ['-n', '10', process.execPath] }
  : {};

// The controller's heap. V8's young generation defaults to 16 MB semi-spaces (up to 48 MB of
// RSS reserved for short-lived objects); the controller's garbage per tick is small, so 1 MB
// semi-spaces cost only more frequent, shorter scavenges, and its RSS on the 8×8 bench board
// drops from about 97 MB to 71 MB (docs/benchmarks.md). The old generation is capped so a leak
// ends in a restart (pm2, then the systemd watchdog) with the outputs vented, not in a Pi that
// swaps. npm start and the bench start the controller with the same flags.
export const CONTROLLER_NODE_ARGS = ['--max-semi-space-size=1', '--max-old-space-size=96'];

const controller = {
  name: 'controller',
  script: join(root, 'dist/gateway/control-loop/main.js'),
  cwd: root,
  node_args: CONTROLLER_NODE_ARGS,
  // Fork mode, one instance: the controller owns the hardware, two of them would fight over it.
  exec_mode: 'fork',
  instances: 1,
  time: true,
  merge_logs: true,
  ...restart,
  ...logs('controller'),
};

const web = {
  name: 'web',
  script: join(root, 'dist/gateway/server/main.js'),
  cwd: root,
  // Fork mode, one instance: the database has exactly one writer (lowdb breaks with two).
  exec_mode: 'fork',
  instances: 1,
  ...niced,
  time: true,
  merge_logs: true,
  ...restart,
  ...logs('web'),
};

// Under systemd (NOTIFY_SOCKET set) a third, tiny process tells systemd the gateway is ready and
// feeds its watchdog, but only while the controller answers and the web process says it is
// connected to it (gateway/watchdog/notify.ts). Outside systemd it would have nobody to talk to.
const watchdog = {
  name: 'watchdog',
  script: join(root, 'dist/gateway/watchdog/notify.js'),
  cwd: root,
  exec_mode: 'fork',
  instances: 1,
  ...niced,
  time: true,
  ...restart,
  kill_timeout: 2000,
  ...logs('watchdog'),
};

export const apps = process.env.NOTIFY_SOCKET ? [controller, web, watchdog] : [controller, web];
