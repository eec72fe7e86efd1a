import { ConfigError } from '../config-error.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../clock.js';
import { FakeI2cBus } from '../sim/i2c/fake-bus.js';
import { Mcp23017Model, type PinState } from '../sim/i2c/mcp23017-model.js';
import { mcp23017 } from './mcp23017.js';
import { simBusContext } from './test-support/context.js';

async function rig(raw: Record<string, unknown> = {}, before?: (wire: FakeI2cBus) => Promise<void>) {
  const clock = new VirtualClock();
  const wire = new FakeI2cBus();
  const model = new Mcp23017Model();
  wire.addDevice(0x20, model);
  await before?.(wire);
  const warnings: string[] = [];
  const ctx = simBusContext(clock, wire, { warn: (m) => warnings.push(m) });
  const dev = mcp23017.create('io0', mcp23017.parseConfig({ bus: 'sim', ...raw }, 'devices.io0'), ctx);
  await dev.open();
  return { clock, wire, model, dev, warnings };
}

const levels = (pins: readonly PinState[], want: PinState) =>
  pins.flatMap((p, i) => (p === want ? [i] : [])).join(',');

describe('mcp23017 driver', () => {
  test('open writes the off latches before it turns the pins into outputs', async () => {
    const { wire, model } = await rig({ activeLow: [3, 12] });
    // IOCON checked (0x05 in the BANK=1 map, 0x0a in BANK=0), then OLATA/B = 0x08, 0x10
    // (active-low pins idle high), then IODIRA/B = 0x00 0x00.
    assert.deepEqual(wire.log, ['W 20 05', 'R 20 00', 'W 20 0a', 'R 20 00', 'W 20 140810', 'W 20 000000']);
    assert.equal(levels(model.outputs(), 'high'), '3,12');
    assert.equal(levels(model.outputs(), 'hi-z'), '');
  });

  test('writes all 16 outputs in one 2-byte OLAT transaction per flush', async () => {
    const { wire, model, dev } = await rig();
    wire.log.length = 0;
    for (let ch = 0; ch < 16; ch++) dev.digitalOutput(String(ch)).set(ch % 3 === 0);
    await dev.flush();
    // pins 0,3,6 → 0x49 on port A; 9,12,15 → 0x92 on port B
    assert.deepEqual(wire.log, ['W 20 144992']);
    assert.equal(levels(model.outputs(), 'high'), '0,3,6,9,12,15');
    await dev.flush();
    assert.equal(wire.log.length, 1, 'an unchanged flush within the refresh period writes nothing');
  });

  test('inverts active-low pins on the wire, and safe() turns every output off', async () => {
    const { model, dev } = await rig({ activeLow: [0, 8] });
    dev.digitalOutput('0').set(true);
    dev.digitalOutput('1').set(true);
    dev.digitalOutput('8').set(false);
    await dev.flush();
    assert.equal(model.outputs()[0], 'low', 'active-low pin switched on is driven low');
    assert.equal(levels(model.outputs(), 'high'), '1,8');
    await dev.safe();
    assert.equal(levels(model.outputs(), 'high'), '0,8', 'off = high on active-low pins, low elsewhere');
    assert.equal(dev.digitalOutput('1').value, false);
  });

  test('rewrites its configuration every second so a chip that reset comes back', async () => {
    const { clock, model, dev } = await rig();
    dev.digitalOutput('5').set(true);
    await dev.flush();
    model.reset(); // brown-out: all pins inputs, latches 0
    assert.equal(model.outputs()[5], 'hi-z');
    await dev.flush();
    assert.equal(model.outputs()[5], 'hi-z', 'nothing changed, so nothing written yet');
    await clock.advance(1000);
    await dev.flush();
    assert.equal(model.outputs()[5], 'high');
    assert.equal(model.outputs()[4], 'low');
  });

  test('reads configured input pins from GPIO with pull-ups and debounces them', async () => {
    const { clock, wire, model, dev } = await rig({ inputs: [6, 14], activeLow: [14] });
    assert.ok(wire.log.includes('W 20 0c4040'), 'pull-ups on the input pins');
    assert.equal(model.outputs()[14], 'hi-z');
    const estop = dev.digitalInput('14');
    const edges: boolean[] = [];
    estop.onEdge((v) => edges.push(v));
    await dev.sample(); // contact open: the pull-up holds the pin high → not active
    assert.equal(estop.value, false);
    model.setInput(14, false); // contact closes to GND
    await dev.sample();
    await clock.advance(10);
    await dev.sample();
    assert.equal(estop.value, false, 'not yet: 20 ms debounce');
    await clock.advance(15);
    await dev.sample();
    assert.equal(estop.value, true);
    assert.deepEqual(edges, [true]);
    assert.equal(dev.digitalInput('6').value, true, 'floating input with pull-up reads high');
  });

  test('GPA7 and GPB7 are refused as inputs, with the reason and the field', () => {
    for (const [inputs, field, name] of [
      [[2, 7], 'devices.io0.inputs[1]', 'GPA7'],
      [[15], 'devices.io0.inputs[0]', 'GPB7'],
    ] as const) {
      assert.throws(
        () => mcp23017.parseConfig({ bus: 1, inputs }, 'devices.io0'),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.message.startsWith(
            `${field}: pin ${inputs.at(-1)} (${name}) is output-only on current MCP23017 silicon`,
          ) &&
          /DS20001952 rev D.*corrupt the I2C bus's SDA line; wire the contact to another pin/.test(e.message),
      );
    }
    // As outputs they are fine.
    assert.doesNotThrow(() => mcp23017.parseConfig({ bus: 1, inputs: [6, 14] }, 'devices.io0'));
  });

  test('a chip switched to IOCON.BANK=1 is put back on the next refresh, and its outputs are right again', async () => {
    const { clock, wire, model, dev, warnings } = await rig();
    dev.digitalOutput('9').set(true);
    await dev.flush();
    // Someone else on the bus writes IOCON.BANK=1: every register moves.
    await wire.open().writeByte(0x20, 0x0a, 0x80);
    assert.equal(model.iocon() & 0x80, 0x80);
    dev.digitalOutput('2').set(true);
    await clock.advance(1000);
    await dev.flush();
    assert.equal(model.iocon(), 0x00, 'BANK=0, SEQOP=0 again');
    assert.equal(levels(model.outputs(), 'high'), '2,9');
    assert.equal(levels(model.outputs(), 'hi-z'), '');
    assert.deepEqual(warnings, [
      'io0: IOCON was 0x80 (BANK=1: every register at another address); set back to BANK=0, SEQOP=0',
    ]);
  });

  test('SEQOP=1 found at open is cleared before the configuration is written', async () => {
    const { model, warnings } = await rig({ activeLow: [0] }, (wire) =>
      wire.open().writeByte(0x20, 0x0a, 0x20 | 0x04),
    );
    assert.equal(model.iocon(), 0x04, 'SEQOP cleared, the other IOCON bits (ODR) kept');
    assert.equal(levels(model.outputs(), 'high'), '0');
    assert.equal(levels(model.outputs(), 'low').split(',').length, 15);
    assert.deepEqual(warnings, [
      'io0: IOCON was 0x24 (SEQOP=1: no sequential addressing); set back to SEQOP=0',
    ]);
  });

  test('channels: outputs and inputs are separate, and unknown pins are refused', async () => {
    const { dev } = await rig({ inputs: [2] });
    assert.throws(() => dev.digitalOutput('2'), /listed in "inputs"/);
    assert.throws(() => dev.digitalInput('3'), /not listed in "inputs"/);
    assert.throws(() => dev.digitalOutput('16'), /0\.\.15/);
    assert.throws(() => dev.pwmOutput('0'), /no pwm-out/);
    const c = mcp23017.parseConfig({ bus: 1 }, 'd');
    assert.equal(mcp23017.channelKey?.('digital-out', '03', c), mcp23017.channelKey?.('digital-out', '3', c));
  });

  test('a NACK on flush takes health down; the next flush reopens the bus and writes again', async () => {
    const { wire, model, dev } = await rig();
    wire.setNack(0x20, true);
    dev.digitalOutput('9').set(true);
    await dev.flush();
    assert.equal(dev.health().state, 'offline');
    assert.match(dev.health().message ?? '', /no answer from 0x20/);
    assert.equal(wire.closes, 1);
    wire.setNack(0x20, false);
    await dev.flush();
    assert.equal(wire.opens, 2);
    assert.equal(dev.health().state, 'ok');
    assert.equal(model.outputs()[9], 'high');
  });
});

describe('mcp23017 model', () => {
  test('auto-increments through the A/B pairs and a GPIO write goes to OLAT', async () => {
    const model = new Mcp23017Model();
    const bus = new FakeI2cBus([[0x20, model]]);
    await bus.writeI2cBlock(0x20, 0x00, 2, Buffer.from([0x0f, 0x00])); // GPA0..3 inputs, rest outputs
    await bus.writeByte(0x20, 0x13, 0xaa); // GPIOB → OLATB
    const buf = Buffer.alloc(2);
    await bus.readI2cBlock(0x20, 0x14, 2, buf);
    assert.deepEqual([...buf], [0x00, 0xaa]);
    model.setInput(1, true);
    await bus.readI2cBlock(0x20, 0x12, 2, buf);
    assert.deepEqual([...buf], [0x02, 0xaa], 'GPIO shows inputs for input pins and latches for outputs');
  });

  test('IOCON.BANK=1 moves every register: a BANK=0 OLAT write lands in INTCONB and IOCON', async () => {
    const model = new Mcp23017Model();
    const bus = new FakeI2cBus([[0x20, model]]);
    await bus.writeI2cBlock(0x20, 0x00, 2, Buffer.from([0x00, 0x00])); // all outputs, latches low
    await bus.writeByte(0x20, 0x0a, 0x80); // BANK=1
    assert.equal(await bus.readByte(0x20, 0x05), 0x80, 'IOCON now answers at 0x05');
    await bus.writeI2cBlock(0x20, 0x14, 2, Buffer.from([0x04, 0x02])); // "OLATA/B" in BANK=0 terms
    assert.ok(!model.outputs().includes('high'), 'no output switched on');
    assert.equal(model.iocon(), 0x02, 'the second byte rewrote IOCON (back to BANK=0, INTPOL=1)');
    await bus.writeByte(0x20, 0x0a, 0x80); // BANK=1 again: OLATA is 0x0a, OLATB 0x1a
    await bus.writeByte(0x20, 0x1a, 0x01);
    assert.equal(model.outputs()[8], 'high', 'GPB0 through the BANK=1 address of OLATB');
  });
});
