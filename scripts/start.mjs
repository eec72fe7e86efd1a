#!/usr/bin/env node
// `npm start`: compiles the TypeScript when dist/ is missing or older than the sources, then runs
// the controller on the board named by PRESSO_BOARD (default: the simulator). Signals are passed
// on so Ctrl-C vents every station before the process exits.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const entry = join(root, 'dist/gateway/control-loop/main.js');

function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    if (s.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (name.endsWith('.ts')) newest = Math.max(newest, s.mtimeMs);
  }
  return newest;
}

if (!existsSync(entry) || statSync(entry).mtimeMs < newestMtime(join(root, 'gateway'))) {
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

const child = spawn(process.execPath, [entry], { cwd: root, stdio: 'inherit', env: process.env });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
