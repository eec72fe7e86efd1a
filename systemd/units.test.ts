/**
 * The systemd unit and the log rotation rules, checked by the real tools:
 *
 * - `systemd-analyze verify` must print nothing at all: it reports parse errors (an unknown key, a
 *   bad value) on stderr and still exits 0, so the exit code alone proves nothing. It also needs
 *   every ExecStart=/ExecStop=/ExecStopPost= program to exist, so the unit is checked with
 *   /opt/presso-gateway/current replaced by this checkout (which has the same files).
 * - `systemd-analyze security --offline=true` must rate the hardened unit at most MAX_EXPOSURE.
 * - The stop timings agree: systemd waits longer than pm2, which waits longer than the apps.
 * - logrotate rotates a pm2-style log file with copytruncate (the writer's file stays the same).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const UNIT_DIR = join(REPO_ROOT, 'systemd');
const INSTALLED_AT = '/opt/presso-gateway/current';
/** The exposure the hardened unit measured 2.0 ("OK") with systemd 252; fail if it gets worse than this. */
const MAX_EXPOSURE = 2.5;

const temps: string[] = [];
after(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'presso-units-'));
  temps.push(d);
  return d;
}

function tool(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) {
    throw new Error(`${cmd} is needed for this test (bash scripts/install-test-deps.sh): ${r.error.message}`);
  }
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const units = readdirSync(UNIT_DIR).filter((f) => f.endsWith('.service'));

/** The unit as it would be installed, pointing at this checkout instead of /opt. */
function localCopy(name: string, edit: (text: string) => string = (t) => t): string {
  const dir = tempDir();
  const text = readFileSync(join(UNIT_DIR, name), 'utf8').replaceAll(INSTALLED_AT, REPO_ROOT);
  const file = join(dir, name);
  writeFileSync(file, edit(text));
  return file;
}

function verify(file: string): string {
  const r = tool('systemd-analyze', ['verify', '--man=no', file]);
  return `${r.out}${r.err}`.trim() + (r.code === 0 ? '' : `\n(exit ${r.code})`);
}

describe('systemd units', () => {
  it('there is a unit, and the programs it runs are in this checkout', () => {
    assert.deepEqual(units, ['presso-gateway.service']);
    const unit = readFileSync(join(UNIT_DIR, units[0]!), 'utf8');
    for (const m of unit.matchAll(new RegExp(`${INSTALLED_AT}/(\\S+)`, 'g'))) {
      const rel = m[1]!;
      if (rel.startsWith('node_modules/') || rel.startsWith('docs/')) continue;
      assert.ok(existsSync(join(REPO_ROOT, rel)), `${rel} named in the unit exists`);
    }
    assert.ok(existsSync(join(REPO_ROOT, 'node_modules/pm2/bin/pm2-runtime')), 'pm2-runtime installed');
    assert.ok(
      statSync(join(REPO_ROOT, 'scripts/stop-controller.sh')).mode & 0o111,
      'ExecStop= script is executable',
    );
  });

  for (const name of units) {
    it(`${name}: systemd-analyze verify prints nothing`, () => {
      const out = verify(localCopy(name));
      assert.equal(out, '', `systemd-analyze verify ${name} said:\n${out}`);
    });

    it(`${name}: the verify check catches a typo (the exit code alone would not)`, () => {
      const out = verify(localCopy(name, (t) => t.replace('Restart=always', 'Restat=always')));
      assert.match(out, /Unknown key 'Restat' in section \[Service\]/);
    });

    it(`${name}: systemd-analyze security rates it at most ${MAX_EXPOSURE}`, (t: TestContext) => {
      const r = tool('systemd-analyze', [
        'security',
        '--offline=true',
        `--threshold=${Math.round(MAX_EXPOSURE * 10)}`,
        '--no-pager',
        localCopy(name),
      ]);
      const score = /Overall exposure level for \S+: (\d+\.\d+)/.exec(r.out)?.[1];
      assert.ok(score !== undefined, `no score in:\n${r.out}${r.err}`);
      t.diagnostic(`${name}: exposure ${score} (threshold ${MAX_EXPOSURE})`);
      assert.ok(Number(score) <= MAX_EXPOSURE, `exposure ${score} > ${MAX_EXPOSURE}:\n${r.out}`);
      assert.equal(r.code, 0, r.err);
    });
  }

  it('stop timings nest: TimeoutStopSec > pm2 kill_timeout > the apps’ own shutdown limits', async () => {
    const unit = readFileSync(join(UNIT_DIR, 'presso-gateway.service'), 'utf8');
    const stopS = Number(/^TimeoutStopSec=(\d+)s$/m.exec(unit)?.[1]);
    const watchdogS = Number(/^WatchdogSec=(\d+)s$/m.exec(unit)?.[1]);
    // Imported by URL: the process file is plain JavaScript (pm2 reads it), with no types to check.
    const ecosystem = new URL('../ecosystem.config.js', import.meta.url).href;
    const { apps } = (await import(ecosystem)) as {
      apps: { name: string; kill_timeout: number }[];
    };
    for (const app of apps) {
      assert.ok(
        app.kill_timeout < stopS * 1000,
        `${app.name}: kill_timeout ${app.kill_timeout} ms < ${stopS} s`,
      );
    }
    const server = readFileSync(join(REPO_ROOT, 'gateway/server/main.ts'), 'utf8');
    const webLimit = Number(/SHUTDOWN_LIMIT_MS = ([\d_]+)/.exec(server)?.[1]?.replaceAll('_', ''));
    assert.ok(webLimit > 0, 'SHUTDOWN_LIMIT_MS found in gateway/server/main.ts');
    const web = apps.find((a) => a.name === 'web');
    assert.ok(web && web.kill_timeout > webLimit, `web kill_timeout ${web?.kill_timeout} > ${webLimit}`);
    assert.ok(watchdogS >= 10, 'a watchdog period that a busy Pi can keep');
  });

  it('logrotate rotates a pm2 log with copytruncate and keeps the writer’s file', () => {
    const dir = tempDir();
    const logs = join(dir, 'log');
    mkdirSync(logs);
    const log = join(logs, 'controller.out.log');
    writeFileSync(log, 'line 1\nline 2\n');
    const inode = statSync(log).ino;
    // The installed rules, pointed at the temp directory; `su` names the service user, which
    // this machine does not have, and is not needed for a directory the test owns.
    const rules = readFileSync(join(UNIT_DIR, 'presso-gateway.logrotate'), 'utf8')
      .replace('/var/log/presso-gateway/', `${logs}/`)
      .replace(/^\s*su .*$/m, '');
    const conf = join(dir, 'rules');
    writeFileSync(conf, rules);
    const r = tool('logrotate', ['--force', '--state', join(dir, 'state'), conf]);
    assert.equal(r.code, 0, `${r.out}${r.err}`);
    assert.equal(readFileSync(log, 'utf8'), '', 'the live file is truncated');
    assert.equal(statSync(log).ino, inode, 'and is still the same file pm2 has open');
    assert.equal(readFileSync(`${log}.1`, 'utf8'), 'line 1\nline 2\n', 'the old lines are in .1');
  });
});
