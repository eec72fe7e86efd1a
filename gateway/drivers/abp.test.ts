import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../clock.js';
import { AbpModel } from '../sim/i2c/abp-model.js';
import { FakeI2cBus } from '../sim/i2c/fake-bus.js';
import { abp } from './abp.js';
import { simBusContext } from './test-support/context.js';

async function rig(gaugeMmHg: number, raw: Record<string, unknown> = { pMax: 5, unit: 'psi' }) {
  const clock = new VirtualClock();
  const wire = new FakeI2cBus();
  let pressure = gaugeMmHg;
  const model = new AbpModel({ clock, pMax: 5, unit: 'psi', pressure: () => pressure });
  wire.addDevice(0x28, model);
  const ctx = simBusContext(clock, wire);
  const dev = abp.create('p0', abp.parseConfig({ bus: 'sim', ...raw }, 'devices.p0'), ctx);
  await dev.open();
  const sample = async (afterMs = 10) => {
    await clock.advance(afterMs);
    await dev.sample();
    return dev.pressureInput('0').read();
  };
  return { clock, wire, model, dev, sample, setPressure: (mmHg: number) => (pressure = mmHg) };
}

describe('abp driver', () => {
  test('reads status and 14-bit counts in one 2-byte read and converts to mmHg', async () => {
    for (const mmHg of [0, 40, 150, 250]) {
      const r = await rig(mmHg);
      r.wire.log.length = 0;
      const s = await r.sample();
      assert.equal(s.health, 'ok');
      assert.ok(Math.abs(s.mmHg - mmHg) <= 0.5, `${mmHg} mmHg read ${s.mmHg}`);
      assert.equal(r.wire.log.length, 1);
      assert.match(r.wire.log[0] ?? '', /^R 28 [0-3][0-9a-f]{3}$/, 'status bits 00');
    }
  });

  test('works in mbar and mmHg ranges too', async () => {
    const r = await rig(100, { pMin: 0, pMax: 258.57, unit: 'mmHg' });
    assert.ok(Math.abs((await r.sample()).mmHg - 100) <= 0.5);
    const m = await rig(100, { pMax: 344.74, unit: 'mbar' });
    assert.ok(Math.abs((await m.sample()).mmHg - 100) <= 0.5);
  });

  test('stale status keeps the last value and flags it stale; fresh data clears it', async () => {
    const r = await rig(60);
    await r.sample();
    r.setPressure(90);
    r.model.forcedStatus = 'stale';
    const s = await r.sample();
    assert.equal(s.health, 'stale');
    assert.match(s.detail ?? '', /stale data/);
    assert.ok(Math.abs(s.mmHg - 60) <= 0.5);
    r.model.forcedStatus = undefined;
    await r.sample();
    const again = await r.sample(0); // same instant: no new measurement inside the part
    assert.equal(again.health, 'stale');
    assert.equal((await r.sample()).health, 'ok');
  });

  test('command mode and diagnostic status are errors', async () => {
    const r = await rig(60);
    for (const [status, words] of [
      ['command', /command mode/],
      ['diagnostic', /diagnostic fault/],
    ] as const) {
      r.model.forcedStatus = status;
      const s = await r.sample();
      assert.equal(s.health, 'error');
      assert.match(s.detail ?? '', words);
      assert.ok(Number.isNaN(s.mmHg));
    }
  });

  test('config: pMax must be above pMin and the unit known', () => {
    assert.throws(() => abp.parseConfig({ bus: 1, pMin: 5, pMax: 5, unit: 'psi' }, 'd'), /d\.pMax/);
    assert.throws(() => abp.parseConfig({ bus: 1, pMax: 5, unit: 'bar' }, 'd'), /d\.unit/);
    assert.equal(abp.parseConfig({ bus: 1, pMax: 5, unit: 'psi' }, 'd').address, 0x28);
  });
});
