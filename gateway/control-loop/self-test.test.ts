import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SelfTestResult } from '../protocol.js';
import { harness, type Harness } from './test-support/harness.js';

/** Runs a self-test command to its end in virtual time. */
async function selfTest(
  h: Harness,
  stationId: string,
  kind: SelfTestResult['kind'],
): Promise<SelfTestResult> {
  let result: SelfTestResult | undefined;
  const p = h.ctrl.command('self-test', { stationId, kind }).then((r) => (result = r));
  await h.run(120_000, () => result !== undefined);
  await p;
  return result as SelfTestResult;
}

describe('self-tests', () => {
  it('valve click switches every inlet and exhaust once and returns to idle', async () => {
    const h = await harness();
    const r = await selfTest(h, 'bay-3', 'valve-click');
    assert.equal(r.ok, true);
    assert.equal(r.details.length, 4);
    const c = h.ctrl.counterReport().find((x) => x.stationId === 'bay-3')!;
    assert.deepEqual(c.inletCycles, [1, 1, 1, 1]);
    assert.deepEqual(c.exhaustCycles, [1, 1, 1, 1]);
    assert.equal(c.pumpStarts, 0, 'the pump never ran');
    const published = h
      .of('counters')
      .at(-1)
      ?.find((x) => x.stationId === 'bay-3');
    assert.ok(published, 'counters are published as events');
    await h.run(2000);
    assert.equal(h.ctrl.stations[2]!.state, 'idle');
  });

  it('sensor zero stores each sensor offset, after which vented zones read about zero', async () => {
    const h = await harness();
    const model = h.sim!.world.station('bay-1');
    const r = await selfTest(h, 'bay-1', 'sensor-zero');
    assert.equal(r.ok, true, r.details.join('; '));
    r.values.forEach((v, z) => {
      const truth = model.sensorCalibration(z).offsetMmHg;
      assert.ok(Math.abs(v - truth) < 0.3, `zone ${z + 1}: stored ${v}, sensor offset ${truth}`);
    });
    await h.run(2000);
    const readings = h.ctrl.frames()[0]!.zones.map((z) => z.pressureMmHg ?? Number.NaN);
    assert.ok(
      readings.every((p) => Math.abs(p) < 1.2),
      `after zeroing: ${readings.join(', ')}`,
    );
  });

  it('leak test passes a healthy garment and finds an injected leak in its zone', async () => {
    const h = await harness();
    await h.ctrl.command('sim-inject', { stationId: 'bay-2', kind: 'leak', zone: 3 });
    let healthy: SelfTestResult | undefined;
    let leaky: SelfTestResult | undefined;
    void h.ctrl.command('self-test', { stationId: 'bay-1', kind: 'leak' }).then((r) => (healthy = r));
    void h.ctrl.command('self-test', { stationId: 'bay-2', kind: 'leak' }).then((r) => (leaky = r));
    await h.run(180_000, () => healthy !== undefined && leaky !== undefined);
    assert.ok(healthy && leaky, 'both tests finished');
    assert.equal(healthy.ok, true, healthy.details.join('; '));
    assert.ok(
      healthy.values.every((v) => v >= 0 && v <= 15),
      `healthy decay ${healthy.values.join(', ')}`,
    );
    assert.equal(leaky.ok, false);
    assert.ok((leaky.values[2] ?? 0) > 30, `zone 3 decay ${leaky.values[2]} mmHg/min`);
    assert.match(leaky.details[2] ?? '', /above 15 mmHg\/min/);
    assert.deepEqual(h.of('alarm-raised'), [], 'a self-test raises no alarm on a healthy or leaky garment');
  });

  it('stop aborts a running self-test and vents', async () => {
    const h = await harness();
    let result: SelfTestResult | undefined;
    void h.ctrl.command('self-test', { stationId: 'bay-1', kind: 'leak' }).then((r) => (result = r));
    await h.run(3000);
    assert.equal(h.ctrl.frames()[0]!.selfTest, 'leak');
    await h.ctrl.command('stop', { stationId: 'bay-1' });
    await h.run(100);
    assert.equal(result?.ok, false);
    assert.match(result?.details[0] ?? '', /aborted/);
    assert.equal(h.sim!.world.station('bay-1').pumpDuty, 0);
  });

  it('refuses a self-test on a busy station or of an unknown kind', async () => {
    const h = await harness();
    await assert.rejects(
      h.ctrl.command('self-test', { stationId: 'bay-1', kind: 'x' as never }),
      /kind must be one of/,
    );
    await h.ctrl.command('start', {
      stationId: 'bay-1',
      sessionId: 's',
      program: (await import('./programs/presets.js')).presetById('leg-circulation')!,
    });
    await assert.rejects(
      h.ctrl.command('self-test', { stationId: 'bay-1', kind: 'leak' }),
      /is running, not idle/,
    );
  });
});
