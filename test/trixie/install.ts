/**
 * The real install in Debian 13 (trixie): test/trixie/install-in-trixie.sh debootstraps a minimal
 * Trixie root, boots it under systemd-nspawn and runs scripts/install-pi.sh in it (driver.sh), then
 * this checks what the container reported: the unit active and healthy over HTTPS with the local CA,
 * the dashboard served, plain HTTP redirected, the journal persistent, and an update to a release
 * whose web process dies at start rolled back to the release before it, healthy again.
 *
 * Not part of `npm test` (a debootstrap and an npm ci from the registry take minutes): .ci/run runs
 * it after the suite, `node --import tsx --test test/trixie/install.ts`. Needs root, debootstrap and
 * systemd-nspawn (scripts/install-test-deps.sh installs both); skipped with the reason otherwise.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureBuilt, ensureDashboardBuilt } from '../support/ensure-built.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (debootstrap, systemd-nspawn)';
  for (const [tool, pkg] of [
    ['debootstrap', 'debootstrap'],
    ['systemd-nspawn', 'systemd-container'],
  ]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is missing (apt-get install ${pkg})`;
  }
  return false;
}

test(
  'install-pi.sh in a real Trixie under systemd: healthy over HTTPS, dashboard served, a bad update rolled back',
  { skip: skipReason() },
  (t) => {
    ensureBuilt();
    ensureDashboardBuilt();
    const out = mkdtempSync(join(tmpdir(), 'presso-trixie-out-'));
    t.after(() => rmSync(out, { recursive: true, force: true }));
    const run = spawnSync('sh', [join(REPO_ROOT, 'test/trixie/install-in-trixie.sh'), out], {
      encoding: 'utf8',
      timeout: 1_100_000,
    });
    const read = (f: string) => (existsSync(join(out, f)) ? readFileSync(join(out, f), 'utf8') : '');
    const report = read('report.txt');
    const where = `\n--- report ---\n${report}\n--- install.log (end) ---\n${read('install.log').slice(-3000)}\n--- update.log (end) ---\n${read('update.log').slice(-2000)}\n--- script ---\n${run.stdout.slice(-1500)}${run.stderr.slice(-1500)}`;
    assert.match(report, /^base: /m, where);
    const installS = /^install: exit 0 after (\d+) s$/m.exec(report)?.[1];
    assert.ok(installS, `the install did not finish with exit 0${where}`);
    assert.match(report, /^unit: .*\bactive running\b/m, where);
    assert.match(report, /^health: \{"status":"ok","controller":"connected"/m, where);
    assert.match(report, /^dashboard: <title>Presso Gateway<\/title>$/m, where);
    assert.match(report, /^redirect: 308 https:\/\/presso\.local:8443\/station\/bay-1$/m, where);
    assert.match(report, /^journal: [1-9]\d* persistent file\(s\)$/m, where);
    const first = /^release: (releases\/\S+)$/m.exec(report)?.[1];
    assert.ok(first, where);
    assert.match(report, /^broken update: exit 3 after \d+ s$/m, where);
    assert.match(
      report,
      new RegExp(`did not report healthy within 40 s: rolling back to ${first.replace('releases/', '')}`),
      where,
    );
    assert.match(report, /rolled back: \S+ runs again and is healthy/, where);
    assert.equal(/^release after rollback: (\S+)$/m.exec(report)?.[1], first, where);
    assert.match(report, /^health after rollback: \{"status":"ok","controller":"connected"/m, where);
    t.diagnostic(
      `${/^base: .*$/m.exec(report)?.[0] ?? ''}; install ${installS} s; ${/^total: .*$/m.exec(report)?.[0] ?? ''}`,
    );
  },
);
