import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../clock.js';
import { FakeI2cBus } from '../sim/i2c/fake-bus.js';
import { MprlsModel } from '../sim/i2c/mprls-model.js';
import { mprls } from './mprls.js';
import { simBusContext } from './test-support/context.js';

async function rig(raw: Record<string, unknown> = {}, absoluteMmHg = 760) {
  const clock = new VirtualClock();
  const wire = new FakeI2cBus();
  let pressure = absoluteMmHg;
  const model = new MprlsModel({ clock, pressure: () => pressure });
  wire.addDevice(0x18, model);
  const ctx = simBusContext(clock, wire);
  const dev = mprls.create('p0', mprls.parseConfig({ bus: 'sim', ...raw }, 'devices.p0'), ctx);
  await dev.open();
  const sample = async () => {
    const p = dev.sample();
    await clock.advance(30);
    await p;
    return dev.pressureInput('0').read();
  };
  return { clock, wire, model, dev, sample, setPressure: (mmHg: number) => (pressure = mmHg) };
}

describe('mprls driver', () => {
  test('commands a measurement, waits 5 ms, and reports gauge = absolute − ambient', async () => {
    const r = await rig({ ambientMmHg: 750 }, 750 + 120);
    r.wire.log.length = 0;
    const s = await r.sample();
    assert.equal(s.health, 'ok');
    assert.ok(Math.abs(s.mmHg - 120) <= 0.5, `read ${s.mmHg}`);
    assert.equal(s.sampledAtMs, 5);
    assert.equal(r.wire.log[0], 'W 18 aa0000');
    assert.equal(r.wire.log[1], 'R 18 40', 'status read after the conversion time: powered, not busy');
    assert.match(r.wire.log[2] ?? '', /^R 18 40[0-9a-f]{6}$/);
  });

  test('zero calibration at ambient captures the real barometric pressure', async () => {
    const r = await rig({}, 700); // 1500 m up: far from the 760 mmHg default
    const atAmbient = await r.sample();
    assert.ok(Math.abs(atAmbient.mmHg + 60) <= 0.5);
    r.dev.pressureInput('0').setZeroOffset(atAmbient.mmHg);
    r.setPressure(700 + 45);
    assert.ok(Math.abs((await r.sample()).mmHg - 45) <= 0.5);
  });

  test('a sensor that stays busy gives stale (keeping the last value), then ok once it is fast again', async () => {
    const r = await rig({ ambientMmHg: 760 }, 800);
    await r.sample();
    r.model.conversionMs = 40;
    const busy = await r.sample();
    assert.equal(busy.health, 'stale');
    assert.match(busy.detail ?? '', /busy/);
    assert.ok(Math.abs(busy.mmHg - 40) <= 0.5);
    r.model.conversionMs = 5;
    await r.clock.advance(40);
    assert.equal((await r.sample()).health, 'ok');
    assert.equal(r.dev.health().state, 'ok');
  });

  test('the integrity and saturation bits are errors', async () => {
    const r = await rig();
    r.model.integrityFault = true;
    const s = await r.sample();
    assert.equal(s.health, 'error');
    assert.match(s.detail ?? '', /integrity/);
    r.model.integrityFault = false;
    r.setPressure(3000); // far over 25 psi absolute
    const sat = await r.sample();
    assert.equal(sat.health, 'error');
    assert.match(sat.detail ?? '', /saturation/);
  });

  test('a NACK is an error, takes health down and reopens the bus; the next sample recovers', async () => {
    const r = await rig({}, 760);
    r.wire.setNack(0x18, true);
    const s = await r.sample();
    assert.equal(s.health, 'error');
    assert.match(s.detail ?? '', /no answer from 0x18/);
    assert.notEqual(r.dev.health().state, 'ok');
    assert.equal(r.wire.closes, 1);
    r.wire.setNack(0x18, false);
    assert.equal((await r.sample()).health, 'ok');
    assert.equal(r.wire.opens, 2);
  });

  test('config: range defaults to 0..25 psi and must be increasing', () => {
    const c = mprls.parseConfig({ bus: 1 }, 'd');
    assert.deepEqual([c.address, c.pMinPsi, c.pMaxPsi, c.ambientMmHg], [0x18, 0, 25, 760]);
    assert.throws(() => mprls.parseConfig({ bus: 1, pMinPsi: 10, pMaxPsi: 5 }, 'd'), /d\.pMaxPsi/);
    assert.throws(
      () => mprls.parseConfig({ bus: 1, mux: { address: 0x70, channel: 8 } }, 'd'),
      /d\.mux\.channel/,
    );
  });
});
