/**
 * The fault campaigns in their short form (`npm run campaign -- --quick`: 5 SIGKILLs, 10 damaged
 * database files, 300 fuzzed requests, 10 simulated minutes of 4 stations, the hostile-LAN
 * attacks with 1,000 long-URL requests and 60 sockets), through the same command as the full
 * form, and their verdicts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from '../gateway/paths.js';

interface Counts {
  failures: string[];
  [k: string]: unknown;
}

test('the short fault campaigns pass their verdicts', { timeout: 400_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'presso-campaign-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'campaign.json');
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'bench/campaign.ts', '--quick', '--json', file],
    { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.ok(existsSync(file), `no figures written (exit ${code}):\n${out}`);
  const r = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Counts>;
  for (const name of ['kills', 'corrupt', 'fuzz', 'soak', 'hostile']) {
    assert.deepEqual(r[name]?.failures, [], `${name}: ${out}`);
  }
  assert.equal(code, 0, out);
  const kills = r.kills as Counts & { kills: number; lostSessions: number; unsafeAfterRestart: number };
  assert.equal(kills.kills, 5);
  assert.equal(kills.lostSessions, 0, 'no acknowledged session lost');
  assert.equal(kills.unsafeAfterRestart, 0, 'every output safe after each restart');
  const corrupt = r.corrupt as Counts & { starts: number; failedToStart: number };
  assert.equal(corrupt.starts, 10);
  assert.equal(corrupt.failedToStart, 0);
  const fuzz = r.fuzz as Counts & { requests: number; serverErrors: number; stateChangedWhenRefused: number };
  assert.equal(fuzz.requests, 300);
  assert.equal(fuzz.serverErrors, 0, 'no 5xx');
  assert.equal(fuzz.stateChangedWhenRefused, 0, 'nothing changes on a refused request');
  const soak = r.soak as Counts & { alarms: number; inconsistentReports: number; sessions: number };
  assert.equal(soak.alarms, 0, 'no false alarm');
  assert.equal(soak.inconsistentReports, 0);
  assert.ok(soak.sessions >= 4, `${soak.sessions} sessions checked`);
  const hostile = r.hostile as Counts & {
    floodRequests: number;
    floodStoreGrowthBytes: number;
    floodStoreBoundBytes: number;
    crossSiteAccepted: number;
    rightPinAcceptedWhileLocked: number;
    socketsAccepted: number;
    socketsRefusedClearly: number;
    sockets: number;
  };
  assert.equal(hostile.floodRequests, 1000);
  assert.ok(hostile.floodStoreGrowthBytes < hostile.floodStoreBoundBytes, 'the store stays bounded');
  assert.equal(hostile.crossSiteAccepted, 0, 'no cross-site command accepted');
  assert.equal(hostile.rightPinAcceptedWhileLocked, 0, 'guessing locks the user');
  assert.equal(hostile.socketsAccepted + hostile.socketsRefusedClearly, hostile.sockets);
  assert.ok(hostile.socketsAccepted <= 8, 'the per-address socket cap holds');
});
