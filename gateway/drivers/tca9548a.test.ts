import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../clock.js';
import { AbpModel } from '../sim/i2c/abp-model.js';
import { FakeI2cBus } from '../sim/i2c/fake-bus.js';
import { MprlsModel } from '../sim/i2c/mprls-model.js';
import { Tca9548aModel } from '../sim/i2c/tca9548a-model.js';
import { abp } from './abp.js';
import type { IoDevice } from './io.js';
import { mprls } from './mprls.js';
import { simBusContext } from './test-support/context.js';

function rig() {
  const clock = new VirtualClock();
  const wire = new FakeI2cBus();
  const mux = new Tca9548aModel();
  wire.addDevice(0x70, mux);
  const ctx = simBusContext(clock, wire);
  const sensor = (id: string, channel: number) =>
    mprls.create(
      id,
      mprls.parseConfig({ bus: 'sim', mux: { address: 0x70, channel } }, `devices.${id}`),
      ctx,
    );
  return { clock, wire, mux, ctx, sensor };
}

async function sampleAll(clock: VirtualClock, devices: IoDevice[]): Promise<void> {
  const p = Promise.all(devices.map((d) => d.sample()));
  await clock.advance(30);
  await p;
}

describe('tca9548a mux', () => {
  test('routes two same-address MPRLS sensors through their own channels, sampled concurrently', async () => {
    const { clock, wire, mux, sensor } = rig();
    mux.attach(1, 0x18, new MprlsModel({ clock, pressure: () => 760 + 30 }));
    mux.attach(5, 0x18, new MprlsModel({ clock, pressure: () => 760 + 200 }));
    const [a, b] = [sensor('pa', 1), sensor('pb', 5)];
    await a.open();
    await b.open();
    await sampleAll(clock, [a, b]);
    assert.ok(Math.abs(a.pressureInput('0').read().mmHg - 30) <= 0.5);
    assert.ok(Math.abs(b.pressureInput('0').read().mmHg - 200) <= 0.5);
    // Every transaction to 0x18 is preceded by the selection of the right channel.
    let selected = '';
    for (const line of wire.log) {
      if (line.startsWith('W 70 ')) selected = line.slice(5);
      else assert.ok(selected === '02' || selected === '20', `${line} with no channel selected`);
    }
    assert.ok(wire.log.includes('W 70 02') && wire.log.includes('W 70 20'));
  });

  test('does not select again while the channel is still selected', async () => {
    const { clock, wire, mux, sensor } = rig();
    mux.attach(3, 0x18, new MprlsModel({ clock }));
    const a = sensor('pa', 3);
    await a.open();
    await sampleAll(clock, [a]);
    await sampleAll(clock, [a]);
    assert.equal(wire.log.filter((l) => l.startsWith('W 70')).length, 1);
    assert.equal(mux.enabled, 0x08);
  });

  test('selects again after a NACK (the switch may have reset)', async () => {
    const { clock, wire, mux, sensor } = rig();
    mux.attach(0, 0x18, new MprlsModel({ clock }));
    const a = sensor('pa', 0);
    await a.open();
    mux.reset(); // power glitch: no channel enabled, the sensor vanishes
    await sampleAll(clock, [a]);
    assert.equal(a.pressureInput('0').read().health, 'error');
    await sampleAll(clock, [a]);
    assert.equal(a.pressureInput('0').read().health, 'ok');
    assert.equal(wire.log.filter((l) => l === 'W 70 01').length, 2);
  });

  test('a missing mux is named in the error, not the sensor behind it', async () => {
    const { wire, ctx } = rig();
    wire.removeDevice(0x70);
    const dev = abp.create(
      'p',
      abp.parseConfig({ bus: 'sim', pMax: 5, unit: 'psi', mux: { address: 0x70, channel: 2 } }, 'd'),
      ctx,
    );
    await assert.rejects(dev.open(), /no answer from 0x70/);
  });

  test('two enabled channels with the same address collide (model)', async () => {
    const clock = new VirtualClock();
    const mux = new Tca9548aModel()
      .attach(0, 0x28, new AbpModel({ clock, pMax: 5, unit: 'psi' }))
      .attach(1, 0x28, new AbpModel({ clock, pMax: 5, unit: 'psi' }));
    const bus = new FakeI2cBus([[0x70, mux]]);
    await assert.rejects(bus.receiveByte(0x28), { code: 'EREMOTEIO' });
    await bus.sendByte(0x70, 0x03);
    await assert.rejects(bus.receiveByte(0x28), { code: 'EIO' });
    await bus.sendByte(0x70, 0x02);
    assert.equal(await bus.receiveByte(0x70), 0x02);
    await bus.receiveByte(0x28);
  });
});
