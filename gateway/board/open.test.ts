/**
 * The board's batched I/O does not let a silent remote device (a Modbus module that stopped
 * answering) stall the tick for every other station.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RealClock } from '../clock.js';
import { CalibratedPressureInput, StagedDigitalOutput } from '../drivers/channels.js';
import type { DeviceHealth, DriverDefinition, IoDevice } from '../drivers/io.js';
import type { Board } from './load.js';
import { openBoard } from './open.js';
import { SharedLinks } from '../drivers/shared-links.js';

class FakeDevice implements IoDevice {
  samples = 0;
  hang = false;
  constructor(
    readonly id: string,
    readonly remote: boolean,
  ) {}
  readonly type = 'fake';
  health(): DeviceHealth {
    return { state: 'ok', sinceMs: 0, errors: 0 };
  }
  async open() {}
  async sample() {
    this.samples++;
    if (this.hang) await new Promise(() => {}); // a module that never answers
  }
  async flush() {}
  async safe() {}
  async close() {}
  digitalOutput(c: string) {
    return new StagedDigitalOutput(c);
  }
  digitalInput(): never {
    throw new Error('none');
  }
  pwmOutput(): never {
    throw new Error('none');
  }
  pressureInput(c: string) {
    return new CalibratedPressureInput(c);
  }
}

function boardWith(devices: FakeDevice[]): Board {
  const def = (d: FakeDevice): DriverDefinition => ({
    type: 'fake',
    summary: 'test',
    parseConfig: () => ({}),
    checkChannel: () => undefined,
    create: () => d,
  });
  const ref = (device: string, channel: string) => ({ device, channel, path: 'x' });
  return {
    name: 't',
    description: '',
    source: 'test',
    loopRateHz: 100,
    devices: devices.map((d) => ({ id: d.id, type: 'fake', definition: def(d), config: {} })),
    stations: devices.map((d) => ({
      id: `st-${d.id}`,
      name: d.id,
      garment: 'leg',
      garmentName: 'leg',
      ceilingMmHg: 100,
      pump: { enable: ref(d.id, 'pump') },
      zones: [
        {
          zone: 1,
          name: 'z1',
          class: 'leg',
          inlet: ref(d.id, 'i'),
          exhaust: ref(d.id, 'e'),
          sensor: ref(d.id, 's'),
        },
      ],
      devices: [d.id],
    })),
  };
}

describe('board I/O batching', () => {
  it('waits for a silent remote device only part of a tick, and does not pile up calls to it', async () => {
    const local = new FakeDevice('local', false);
    const remote = new FakeDevice('remote', true);
    const io = await openBoard(boardWith([local, remote]), {
      clock: new RealClock(),
      log: { info() {}, warn() {}, error() {} },
      openI2c: async () => {
        throw new Error('no i2c');
      },
      services: new Map(),
      links: new SharedLinks(),
    });
    remote.hang = true;
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await io.sampleAll();
    const elapsed = performance.now() - t0;
    // 5 ticks at 100 Hz with a 5 ms budget each (25 ms, plus timer slack on a busy machine),
    // where waiting for the module would take 5 × its 200 ms timeout.
    assert.ok(elapsed < 500, `five samples took ${elapsed.toFixed(1)} ms`);
    assert.equal(local.samples, 5, 'the local device is sampled every tick');
    assert.equal(remote.samples, 1, 'the hung remote device is not asked again while busy');
  });
});
