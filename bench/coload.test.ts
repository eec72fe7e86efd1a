/**
 * The co-load bench runs end to end in a short form (the same code path as `npm run bench --
 * --coload`: the compiled gateway, four sessions, CPU hogs, an fsync writer and Chromium) and
 * writes every figure the JSON promises. The figures themselves are not asserted: on a shared
 * machine they say what the machine was doing (docs/benchmarks.md records them).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { browserMissing } from '../dashboard/e2e/gateway.js';
import { PACKAGE_ROOT } from '../gateway/paths.js';

const skip = browserMissing();

test(
  'npm run bench -- --coload --seconds 15 --json writes every figure',
  { skip: skip ?? false, timeout: 300_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'presso-coload-test-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'coload.json');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--coload', '--seconds', '15', '--json', file],
      { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, out);
    assert.match(out, /Target/);
    assert.ok(existsSync(file), `no figures written:\n${out}`);
    const { coload: c } = JSON.parse(readFileSync(file, 'utf8')) as { coload: Record<string, unknown> };
    const num = (v: unknown, what: string) => {
      assert.ok(typeof v === 'number' && Number.isFinite(v) && v >= 0, `${what} = ${JSON.stringify(v)}`);
      return v as number;
    };
    assert.ok(num(c.seconds, 'coload.seconds') >= 15);
    assert.equal(typeof c.alarms, 'object');
    for (const n of Object.values(c.alarms as Record<string, unknown>)) num(n, 'an alarm count');
    assert.equal(c.sessionsStarted, 4, `four sessions started:\n${out}`);
    assert.ok(num(c.sessionsRunningAtEnd, 'coload.sessionsRunningAtEnd') <= 4);
    const l = c.tickLatenessMs as Record<string, unknown>;
    const p50 = num(l.p50, 'p50');
    const p99 = num(l.p99, 'p99');
    const max = num(l.max, 'max');
    assert.ok(p50 <= p99 && p99 <= max, `ordered percentiles ${p50} ${p99} ${max}`);
    assert.ok(num(l.ticks, 'ticks') > 15 * 50, 'the lateness covers the window');
    num(c.lateTicks, 'coload.lateTicks');
    assert.ok(num(c.browserCycles, 'coload.browserCycles') >= 1, 'Chromium opened the pages');
    assert.equal(typeof c.controllerScheduling, 'string');
  },
);
