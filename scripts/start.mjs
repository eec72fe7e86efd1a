#!/usr/bin/env node
// `npm start`: compiles the TypeScript when dist/ is missing or older than the sources (and builds
// the dashboard likewise), then runs the two processes of the gateway on the board named by
// PRESSO_BOARD (default: the simulator):
// the controller, and the web process (REST API and live telemetry on http://HOST:PORT, default
// 127.0.0.1:8080). A process that dies is restarted with back-off, the controller first of all
// (the web process reconnects to it by itself). Ctrl-C or SIGTERM stops both; the controller
// vents every station before it exits. On the Pi, pm2 and systemd do this job instead.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CONTROLLER_NODE_ARGS } from '../ecosystem.config.js';

const root = new URL('..', import.meta.url).pathname;
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 10_000;
/** A process that stayed up this long is healthy again: its back-off starts over. */
const HEALTHY_AFTER_MS = 30_000;

function newestMtime(dir, extensions = ['.ts']) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    if (s.isDirectory()) newest = Math.max(newest, newestMtime(p, extensions));
    else if (extensions.some((x) => name.endsWith(x))) newest = Math.max(newest, s.mtimeMs);
  }
  return newest;
}

const apps = [
  {
    name: 'controller',
    entry: join(root, 'dist/gateway/control-loop/main.js'),
    nodeArgs: CONTROLLER_NODE_ARGS,
  },
  { name: 'web', entry: join(root, 'dist/gateway/server/main.js'), nodeArgs: [] },
];

const stale = apps.some(
  (a) => !existsSync(a.entry) || statSync(a.entry).mtimeMs < newestMtime(join(root, 'gateway')),
);
if (stale) {
  console.log('[start] compiling TypeScript (npm run build)…');
  const r = spawnSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// The dashboard (dashboard/dist) is built by Vite when missing or older than its sources; the web
// process serves it. A failed build is reported and the gateway still starts: the API and every
// STOP work without it, and / says how to build it.
const dashboardIndex = join(root, 'dashboard/dist/index.html');
const dashboardStale =
  !existsSync(dashboardIndex) ||
  statSync(dashboardIndex).mtimeMs <
    Math.max(
      newestMtime(join(root, 'dashboard/src'), ['.ts', '.tsx', '.css']),
      statSync(join(root, 'dashboard/index.html')).mtimeMs,
      statSync(join(root, 'dashboard/vite.config.ts')).mtimeMs,
    );
if (dashboardStale) {
  console.log('[start] building the dashboard (npm run build:dashboard)…');
  const r = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      'dashboard/vite.config.ts',
      '--logLevel',
      'warn',
    ],
    { cwd: root, stdio: 'inherit' },
  );
  if (r.status !== 0) console.error('[start] the dashboard build failed; starting without it');
}

let stopping = false;
const running = new Map();

function launch(app, delayMs = RESTART_MIN_MS) {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [...app.nodeArgs, app.entry], {
    cwd: root,
    stdio: 'inherit',
    env: process.env,
  });
  running.set(app.name, child);
  child.on('exit', (code, signal) => {
    running.delete(app.name);
    if (stopping) {
      if (running.size === 0) process.exit(0);
      return;
    }
    if (code === 2) {
      // Exit code 2 is a configuration error (a bad board file, bad settings): restarting will
      // not fix it, and the message above says what to change.
      console.error(`[start] ${app.name} stopped on a configuration error; fix it and run npm start again`);
      shutdown();
      return;
    }
    const next =
      Date.now() - startedAt > HEALTHY_AFTER_MS ? RESTART_MIN_MS : Math.min(RESTART_MAX_MS, delayMs * 2);
    console.error(`[start] ${app.name} exited (${signal ?? `code ${code}`}); restarting in ${next} ms`);
    setTimeout(() => !stopping && launch(app, next), next);
  });
}

function shutdown() {
  if (stopping) return;
  stopping = true;
  if (running.size === 0) process.exit(0);
  for (const child of running.values()) child.kill('SIGTERM');
}

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, shutdown);
for (const app of apps) launch(app);
