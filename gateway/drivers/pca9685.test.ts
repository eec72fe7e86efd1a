import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../clock.js';
import { FakeI2cBus } from '../sim/i2c/fake-bus.js';
import { Pca9685Model } from '../sim/i2c/pca9685-model.js';
import { pca9685, pca9685Prescale } from './pca9685.js';
import { simBusContext } from './test-support/context.js';

async function rig(raw: Record<string, unknown> = {}) {
  const clock = new VirtualClock();
  const wire = new FakeI2cBus();
  const model = new Pca9685Model();
  wire.addDevice(0x40, model);
  const warnings: string[] = [];
  const ctx = simBusContext(clock, wire, { warn: (m) => warnings.push(m) });
  const dev = pca9685.create('pwm0', pca9685.parseConfig({ bus: 'sim', ...raw }, 'devices.pwm0'), ctx);
  const opened = dev.open();
  await clock.advance(1); // the 500 µs oscillator start-up
  await opened;
  return { clock, wire, model, dev, warnings };
}

describe('pca9685 driver', () => {
  test('turns every output off, sets the 1000 Hz prescale while asleep, then wakes with auto-increment', async () => {
    const { wire, model } = await rig({ frequencyHz: 1000 });
    assert.equal(pca9685Prescale(1000), 5); // round(25 MHz / (4096 · 1000 Hz)) − 1
    assert.deepEqual(wire.log, ['W 40 fd10', 'W 40 0030', 'W 40 fe05', 'W 40 0104', 'W 40 0020']);
    assert.equal(model.prescale, 5);
    assert.ok(Math.abs(model.frequencyHz() - 1017.25) < 0.01);
    assert.equal(model.mode1, 0x20, 'awake, auto-increment on, ALLCALL off');
  });

  test('flush is one block write over the used channel range, with full-on and full-off bits', async () => {
    const { wire, model, dev } = await rig();
    wire.log.length = 0;
    dev.pwmOutput('2').set(0.5);
    dev.pwmOutput('3').set(0);
    dev.digitalOutput('4').set(true);
    dev.pwmOutput('6').set(1);
    await dev.flush();
    // LED2_ON_L = 0x0e; per channel ON_L ON_H OFF_L OFF_H; channel 5 is unused, so full-off
    const want = '0e' + '00000008' + '00000010' + '00100000' + '00000010' + '00100000';
    assert.deepEqual(wire.log, [`W 40 ${want}`]);
    assert.deepEqual(
      [2, 3, 4, 5, 6].map((ch) => model.duty(ch)),
      [0.5, 0, 1, 0, 1],
    );
  });

  test('all 16 channels go out in one 65-byte write (more than SMBus blocks allow)', async () => {
    const { wire, model, dev } = await rig();
    wire.log.length = 0;
    for (let ch = 0; ch < 16; ch++) dev.pwmOutput(String(ch)).set(ch / 16);
    await dev.flush();
    assert.equal(wire.log.length, 1);
    assert.equal((wire.log[0] ?? '').length, 'W 40 '.length + 2 * 65);
    assert.equal(model.duty(5), 5 / 16);
    await dev.flush();
    assert.equal(wire.log.length, 1, 'unchanged outputs are not rewritten');
  });

  test('safe() sets every channel full-off in one byte', async () => {
    const { wire, model, dev } = await rig();
    dev.pwmOutput('1').set(0.7);
    dev.digitalOutput('9').set(true);
    await dev.flush();
    wire.log.length = 0;
    await dev.safe();
    assert.deepEqual(wire.log, ['W 40 fd10']);
    assert.equal(model.duty(1) + model.duty(9), 0);
    assert.equal(dev.pwmOutput('1').duty, 0);
  });

  test('a chip that reset (asleep, no auto-increment) is configured again within a second', async () => {
    const { clock, model, dev, warnings } = await rig();
    dev.pwmOutput('0').set(0.25);
    await dev.flush();
    model.reset();
    assert.equal(model.duty(0), 0);
    await clock.advance(1000);
    const p = dev.flush();
    await clock.advance(1);
    await p;
    assert.equal(model.duty(0), 0.25);
    assert.match(warnings[0] ?? '', /chip reset/);
  });

  test('a pin is either pwm-out or digital-out, not both', async () => {
    const { dev } = await rig();
    dev.pwmOutput('3');
    assert.throws(() => dev.digitalOutput('3'), /pin 3 is a pwm-out/);
    assert.throws(() => dev.pwmOutput('16'), /0\.\.15/);
    assert.throws(() => pca9685.parseConfig({ bus: 1, frequencyHz: 2000 }, 'd'), /frequencyHz/);
  });
});

describe('pca9685 model', () => {
  test('takes the prescale only while asleep and auto-increments only with MODE1.AI', async () => {
    const model = new Pca9685Model();
    const bus = new FakeI2cBus([[0x40, model]]);
    await bus.writeByte(0x40, 0x00, 0x00); // wake, AI off
    await bus.writeByte(0x40, 0xfe, 0x05);
    assert.equal(model.prescale, 0x1e, 'ignored while awake');
    await bus.writeI2cBlock(0x40, 0x06, 4, Buffer.from([0, 0, 0x00, 0x08]));
    assert.equal(model.duty(0), 0, 'without AI all four bytes landed in LED0_ON_L');
    await bus.writeByte(0x40, 0x00, 0x20);
    await bus.writeI2cBlock(0x40, 0x06, 4, Buffer.from([0, 0, 0x00, 0x08]));
    assert.equal(model.duty(0), 0.5);
  });
});
