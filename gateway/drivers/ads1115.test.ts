import { ConfigError } from '../config-error.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../clock.js';
import { Ads1115Model } from '../sim/i2c/ads1115-model.js';
import { FakeI2cBus } from '../sim/i2c/fake-bus.js';
import { ads1115, type MpxSensor } from './ads1115.js';
import { ReopeningBus, isAddressError, openRealI2c } from './i2c-bus.js';
import { simBusContext } from './test-support/context.js';

const MMHG_PER_KPA = 7.50062;

function rig() {
  const clock = new VirtualClock();
  const wire = new FakeI2cBus();
  const ctx = simBusContext(clock, wire);
  const model = new Ads1115Model({ clock });
  wire.addDevice(0x48, model);
  return { clock, wire, ctx, model };
}

/** Advances virtual time by `ms` and checks that `p` finished within it. */
async function finish<T>(clock: VirtualClock, p: Promise<T>, ms = 50): Promise<T> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await clock.advance(ms);
  assert.ok(done, `still waiting after ${ms} ms of virtual time`);
  return p;
}

/** Volts on the ADC pin for a gauge pressure, through the MPX transfer function and a divider. */
function mpxVolts(sensor: MpxSensor, mmHg: number, divider: number, supplyV = 5): number {
  const k = sensor === 'mpx5050' ? 0.018 : 0.009;
  return divider * supplyV * (k * (mmHg / MMHG_PER_KPA) + 0.04);
}

async function openAdc(r: ReturnType<typeof rig>, raw: Record<string, unknown>) {
  const dev = ads1115.create('adc0', ads1115.parseConfig({ bus: 'sim', ...raw }, 'devices.adc0'), r.ctx);
  await dev.open();
  return dev;
}

describe('ads1115 driver', () => {
  test('writes the config word big-endian and reads registers with block reads', async () => {
    const r = rig();
    r.model.setInput(() => 1.0);
    const dev = await openAdc(r, { sensor: 'mpx5050', gainV: 4.096, dataRate: 860, dividerRatio: 0.667 });
    const input = dev.pressureInput('0');
    r.wire.log.length = 0;
    await finish(r.clock, dev.sample());
    // OS | MUX=100 (AIN0-GND) | PGA=001 (4.096 V) | single-shot | DR=111 (860) | comparator off
    // 1.0 V / 4.096 V · 32768 = 8000 = 0x1f40
    assert.deepEqual(r.wire.log, ['W 48 01c3e3', 'W 48 01', 'R 48 c3e3', 'W 48 00', 'R 48 1f40']);
    assert.equal(input.read().health, 'ok');
    // The trap the block reads avoid: SMBus readWord is little-endian and swaps the register.
    assert.equal(await r.wire.readWord(0x48, 0x01), 0xe3c3);
  });

  test('puts gain, data rate and channel bits into the config word', async () => {
    const cases: [number, number, string, string][] = [
      [6.144, 8, '3', 'f103'], // MUX 111, PGA 000, DR 000
      [0.256, 475, '1', 'dbc3'], // MUX 101, PGA 101, DR 110
      [2.048, 128, '2', 'e583'], // MUX 110, PGA 010, DR 100
    ];
    for (const [gainV, dataRate, ch, word] of cases) {
      const r = rig();
      // A strong divider lets the small ranges hold the sensor's full output (else the config is refused).
      const dev = await openAdc(r, {
        sensor: 'mpx5050',
        gainV,
        dataRate,
        dividerRatio: gainV < 4 ? 0.05 : 1,
      });
      dev.pressureInput(ch);
      r.wire.log.length = 0;
      await finish(r.clock, dev.sample(), 300);
      assert.equal(r.wire.log[0], `W 48 01${word}`, `gain ${gainV} V, ${dataRate} SPS, AIN${ch}`);
    }
  });

  test('converts MPX5050 and MPX5100 outputs to mmHg within ±0.5 mmHg', async () => {
    for (const [sensor, gainV, divider] of [
      ['mpx5050', 4.096, 0.667],
      ['mpx5100', 6.144, 1],
    ] as const) {
      for (const mmHg of [0, 25, 80, 150, 240, 370]) {
        const r = rig();
        r.model.setInput(() => mpxVolts(sensor, mmHg, divider));
        const dev = await openAdc(r, { sensor, gainV, dividerRatio: divider });
        const input = dev.pressureInput('0');
        await finish(r.clock, dev.sample());
        const s = input.read();
        assert.equal(s.health, 'ok');
        assert.ok(Math.abs(s.mmHg - mmHg) <= 0.5, `${sensor} at ${mmHg} mmHg read ${s.mmHg}`);
      }
    }
  });

  test('subtracts the zero offset from each channel', async () => {
    const r = rig();
    r.model.setInput((ch) => mpxVolts('mpx5050', ch === 1 ? 104 : 50, 0.667));
    const dev = await openAdc(r, { sensor: 'mpx5050', dividerRatio: 0.667 });
    dev.pressureInput('1').setZeroOffset(4);
    await finish(r.clock, dev.sample());
    assert.ok(Math.abs(dev.pressureInput('1').read().mmHg - 100) <= 0.5);
  });

  test('waits 1/DR on the clock before reading the conversion', async () => {
    const r = rig();
    r.model.setInput(() => mpxVolts('mpx5050', 120, 0.667));
    const dev = await openAdc(r, { sensor: 'mpx5050', dividerRatio: 0.667, dataRate: 8 });
    const input = dev.pressureInput('0');
    r.wire.log.length = 0;
    const p = dev.sample();
    await r.clock.advance(100); // a conversion at 8 SPS takes 125 ms
    assert.ok(!r.wire.log.includes('W 48 00'), 'read the conversion register before it was ready');
    await finish(r.clock, p, 60);
    assert.equal(input.read().health, 'ok');
    assert.ok(Math.abs(input.read().mmHg - 120) <= 0.5);
    assert.ok(input.read().sampledAtMs >= 125);
  });

  test('reports stale, not a value, when the conversion is not ready after the bounded polls', async () => {
    const r = rig();
    r.model.setInput(() => mpxVolts('mpx5050', 60, 0.667));
    const dev = await openAdc(r, { sensor: 'mpx5050', dividerRatio: 0.667 });
    const [a, b] = [dev.pressureInput('0'), dev.pressureInput('1')];
    await finish(r.clock, dev.sample());
    r.model.oscillatorFactor = 3; // a broken oscillator, far outside the ±10 % spec
    await finish(r.clock, dev.sample());
    assert.equal(a.read().health, 'stale');
    assert.match(a.read().detail ?? '', /not ready/);
    assert.ok(Math.abs(a.read().mmHg - 60) <= 0.5, 'stale keeps the last value');
    assert.equal(
      b.read().health,
      'stale',
      'the scan stops: a late conversion would land on the next channel',
    );
    r.model.oscillatorFactor = 1;
    await r.clock.advance(20);
    await finish(r.clock, dev.sample());
    assert.equal(a.read().health, 'ok');
    assert.equal(b.read().health, 'ok');
  });

  test('an open wire or a short to supply is an error in words, not a pressure', async () => {
    const r = rig();
    r.model.setInput((ch) => (ch === 0 ? 0.002 : 5 * 0.667));
    const dev = await openAdc(r, { sensor: 'mpx5050', dividerRatio: 0.667 });
    const [open, short] = [dev.pressureInput('0'), dev.pressureInput('1')];
    await finish(r.clock, dev.sample());
    assert.equal(open.read().health, 'error');
    assert.match(open.read().detail ?? '', /open wire/);
    assert.ok(Number.isNaN(open.read().mmHg));
    assert.equal(short.read().health, 'error');
    assert.match(short.read().detail ?? '', /short to supply/);
    assert.equal(dev.health().state, 'ok', 'the chip itself answered');
  });

  test('a NACK fails the samples, takes health down and reopens the bus; it recovers after', async () => {
    const r = rig();
    r.model.setInput(() => mpxVolts('mpx5050', 80, 0.667));
    const dev = await openAdc(r, { sensor: 'mpx5050', dividerRatio: 0.667 });
    const [a, b] = [dev.pressureInput('0'), dev.pressureInput('2')];
    assert.equal(r.wire.opens, 1);
    r.wire.setNack(0x48, true);
    await finish(r.clock, dev.sample());
    assert.equal(a.read().health, 'error');
    assert.match(a.read().detail ?? '', /no answer from 0x48 on bus "sim" \(EREMOTEIO\)/);
    assert.equal(b.read().health, 'error');
    assert.equal(dev.health().state, 'offline');
    assert.equal(r.wire.closes, 1, 'the bus object that saw the NACK is closed');
    r.wire.setNack(0x48, false);
    await finish(r.clock, dev.sample());
    assert.equal(r.wire.opens, 2, 'a fresh bus object was opened');
    assert.equal(a.read().health, 'ok');
    assert.equal(b.read().health, 'ok');
    assert.equal(dev.health().state, 'ok');
    assert.equal(dev.health().errors, 1);
  });

  test('open() rejects naming the device when the chip is missing', async () => {
    const r = rig();
    r.wire.removeDevice(0x48);
    const dev = ads1115.create('adc0', ads1115.parseConfig({ bus: 'sim', sensor: 'mpx5050' }, 'x'), r.ctx);
    await assert.rejects(dev.open(), /ads1115 "adc0": no answer from 0x48/);
    assert.equal(dev.health().state, 'offline');
  });

  test('config: picks the finest range that fits, rejects a range that clips and unknown keys', () => {
    const p = (raw: Record<string, unknown>) =>
      ads1115.parseConfig({ bus: 1, sensor: 'mpx5050', ...raw }, 'd.adc');
    assert.equal(p({ dividerRatio: 0.667 }).gainV, 4.096);
    assert.equal(p({}).gainV, 6.144);
    assert.throws(() => p({ gainV: 2.048, dividerRatio: 0.667 }), /d\.adc\.gainV: ±2\.048 V clips/);
    assert.throws(() => p({ gainV: 3 }), /gainV: must be one of 6\.144/);
    assert.throws(() => p({ dataRate: 100 }), /dataRate: must be one of 8, 16/);
    assert.throws(() => p({ adress: 0x48 }), ConfigError);
    assert.throws(() => p({ address: 0x50 }), /address/);
    assert.equal(ads1115.checkChannel('pressure-in', '4', p({})), 'must be 0..3 (AIN0..AIN3 against GND)');
    assert.match(ads1115.checkChannel('digital-out', '0', p({})) ?? '', /only pressure-in/);
  });
});

describe('ads1115 model', () => {
  test('a conversion takes 1/DR: OS reads 0 and the old result stays until it is done', async () => {
    const clock = new VirtualClock();
    const model = new Ads1115Model({ clock, input: () => 1.024 });
    const bus = new FakeI2cBus([[0x48, model]]);
    const buf = Buffer.alloc(2);
    await bus.writeI2cBlock(0x48, 0x01, 2, Buffer.from([0xc3, 0xe3])); // 860 SPS: 1.163 ms
    await bus.readI2cBlock(0x48, 0x01, 2, buf);
    assert.equal(buf.readUInt16BE(0) & 0x8000, 0, 'OS bit shows a conversion in progress');
    await bus.readI2cBlock(0x48, 0x00, 2, buf);
    assert.equal(buf.readInt16BE(0), 0, 'early read returns the previous result');
    await clock.advance(1.2);
    await bus.readI2cBlock(0x48, 0x00, 2, buf);
    assert.equal(buf.readInt16BE(0), 8192);
  });

  test('clips to the full-scale range', async () => {
    const clock = new VirtualClock();
    const model = new Ads1115Model({ clock, input: (ch) => (ch === 0 ? 9 : -9) });
    const bus = new FakeI2cBus([[0x48, model]]);
    const buf = Buffer.alloc(2);
    for (const [word, code] of [
      [0xc3e3, 32767], // AIN0 at +9 V
      [0xd3e3, -32768], // AIN1 at -9 V
    ] as const) {
      await bus.writeI2cBlock(0x48, 0x01, 2, Buffer.from([word >> 8, word & 0xff]));
      await clock.advance(2);
      await bus.readI2cBlock(0x48, 0x00, 2, buf);
      assert.equal(buf.readInt16BE(0), code);
    }
  });
});

describe('i2c bus layer', () => {
  test('treats NACK, timeout and busy codes as address errors, and nothing else', () => {
    for (const code of ['EREMOTEIO', 'ENXIO', 'EIO', 'ETIMEDOUT', 'EBUSY'])
      assert.ok(isAddressError({ code }));
    for (const e of [{ code: 'ENOENT' }, new Error('x'), undefined, 'EIO']) assert.ok(!isAddressError(e));
  });

  test('ReopeningBus closes the bus object after an address error and opens a new one', async () => {
    const wire = new FakeI2cBus([[0x20, { write: () => {}, read: (n) => Buffer.alloc(n) }]]);
    const handles: FakeI2cBus[] = [];
    const bus = new ReopeningBus(async () => {
      const h = wire.open();
      handles.push(h);
      return h;
    }, 'sim');
    await bus.open();
    await bus.sendByte(0x20, 1);
    await assert.rejects(bus.sendByte(0x21, 1), { code: 'EREMOTEIO' });
    assert.equal(handles[0]?.closed, true);
    await bus.sendByte(0x20, 2);
    assert.equal(handles.length, 2);
    assert.equal(handles[1]?.closed, false);
    await bus.close();
    await assert.rejects(bus.sendByte(0x20, 3), /closed/);
  });

  test('the real opener refuses a simulated bus name and opens /dev/i2c-N lazily', async () => {
    await assert.rejects(openRealI2c('left'), /not a hardware bus/);
    // i2c-bus opens the device file per address on the first transfer, so this fails only then.
    let bus;
    try {
      bus = await openRealI2c('i2c-99');
    } catch (err) {
      // Where the optional native package is not built, the message says how to fix it.
      assert.match(String(err), /npm rebuild i2c-bus/);
      return;
    }
    await assert.rejects(bus.readByte(0x48, 0), { code: 'ENOENT' });
    await bus.close();
  });
});
