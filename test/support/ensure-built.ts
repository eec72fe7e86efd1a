/**
 * Tests that run the compiled gateway (pm2, systemd in nspawn, the installer) compile it first when
 * dist/ is missing or older than the sources, as `npm start` does: a fresh clone has no dist/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

function newestTs(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    if (s.isDirectory()) newest = Math.max(newest, newestTs(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) newest = Math.max(newest, s.mtimeMs);
  }
  return newest;
}

export function ensureBuilt(): void {
  const entries = ['control-loop/main.js', 'server/main.js', 'watchdog/notify.js', 'safe-state/main.js'].map(
    (f) => join(REPO_ROOT, 'dist/gateway', f),
  );
  const oldest = Math.min(...entries.map((e) => (existsSync(e) ? statSync(e).mtimeMs : 0)));
  if (oldest >= newestTs(join(REPO_ROOT, 'gateway'))) return;
  const r = spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `npm run build failed:\n${r.stdout}${r.stderr}`);
}

/** The installer refuses a release without the dashboard: build it when a fresh clone has none. */
export function ensureDashboardBuilt(): void {
  if (existsSync(join(REPO_ROOT, 'dashboard/dist/index.html'))) return;
  const r = spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'dashboard/vite.config.ts'],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `npm run build:dashboard failed:\n${r.stdout}${r.stderr}`);
}
