/**
 * The bench runs end to end in its quick form (shortened further by flags; the same code path as
 * `npm run bench`) and writes JSON with every figure the issue asks for. The figures themselves
 * are not asserted: on a shared CI machine they say what the machine was doing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from '../gateway/paths.js';

test('npm run bench -- --quick --json writes every figure', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'presso-bench-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bench.json');
  const args = ['--quick', '--seconds', '5', '--trips', '30', '--virtual-min', '2', '--json', file];
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
    cwd: PACKAGE_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, out);
  assert.match(out, /Targets/);

  assert.ok(existsSync(file), `no figures written:\n${out}`);
  const r = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
  const num = (path: string) => {
    const v = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], r);
    assert.equal(typeof v, 'number', `${path} is a number (got ${JSON.stringify(v)})`);
    assert.ok(Number.isFinite(v as number) && (v as number) >= 0, `${path} = ${String(v)}`);
    return v as number;
  };
  assert.equal(typeof r.machine?.cpuModel, 'string');
  for (const k of ['p50', 'p99', 'max']) {
    num(`tickLatenessMs.${k}`);
    num(`tripToVentMs.${k}`);
    num(`baseline.tickLatenessMs.${k}`);
  }
  num('telemetryLatencyMs.p50');
  num('telemetryLatencyMs.p99');
  assert.ok(num('bytesPerClientPerS.overview') > 0, 'overview clients received telemetry');
  assert.ok(num('bytesPerClientPerS.station') > 0, 'station clients received telemetry');
  assert.ok(num('rssMb.controller') > 0 && num('rssMb.web') > 0);
  num('cpuPercent.controller');
  num('cpuPercent.web');
  num('webCpuPercent');
  num('regulation.holdErrorMmHg');
  num('regulation.overshootMmHg');
  assert.ok(num('virtualSpeedup') > 1, 'virtual time runs faster than real time');
  assert.ok(num('tripToVentMs.count') >= 30, 'the over-pressures were traced');
  assert.ok(num('tickLatenessMs.ticks') > 300, 'the lateness covers the load window');
});
