/**
 * The centre bench runs end to end in a short form (the same code path as `npm run bench --
 * --centre`: a real Mosquitto, the gateway's two processes, 10 simulated gateways, 20 boards) and
 * writes every figure the JSON promises. The figures are not asserted against the target: on a
 * shared machine they say what the machine was doing (docs/benchmarks.md records them).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runBenchCli } from './lib/run-cli.js';

test('npm run bench -- --centre --seconds 4 --json writes every figure', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'presso-centre-bench-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'centre.json');
  const { code, out } = await runBenchCli(['--centre', '--seconds', '4', '--tsx', '--json', file]);
  assert.equal(code, 0, out);
  assert.match(out, /Target/);
  assert.ok(existsSync(file), `no figures written:\n${out}`);
  const { centre: c } = JSON.parse(readFileSync(file, 'utf8')) as {
    centre: {
      remoteStations: number;
      stateToBoardMs: { p50: number; p99: number; max: number; n: number };
      brokerMessagesPerS: number;
      statesPublished: number;
      stationsOnBoard: { min: number };
      web: { cpuPercent: number; rssMb: number };
    };
  };
  assert.equal(c.remoteStations, 80);
  const l = c.stateToBoardMs;
  assert.ok(l.n > 0 && l.p50 <= l.p99 && l.p99 <= l.max, JSON.stringify(l));
  // 80 stations at 2 a second for 4 s, give or take the edges of the window.
  assert.ok(c.statesPublished > 80 * 2 * 3, `states published: ${c.statesPublished}`);
  assert.ok(c.brokerMessagesPerS > 80, `broker messages/s: ${c.brokerMessagesPerS}`);
  assert.equal(c.stationsOnBoard.min, 80, 'every board got every remote station');
  assert.ok(c.web.cpuPercent > 0 && c.web.rssMb > 0, JSON.stringify(c.web));
});
