import { ConfigError } from '../config-error.js';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listProfiles, loadBoard, parseBoard, validateBoard, PROFILE_DIR } from './load.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test fixtures are free-form JSON

const piDirect = (): Json => JSON.parse(readFileSync(join(PROFILE_DIR, 'pi-direct.json'), 'utf8')) as Json;

function errorOf(mutate: (b: Json) => void): string {
  const b = piDirect();
  mutate(b);
  try {
    validateBoard(b, 'test.json');
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('the board was accepted');
}

describe('shipped board profiles', () => {
  it('includes the five profiles the README names', () => {
    assert.deepEqual(listProfiles(), ['modbus', 'pi-direct', 'pi-hat', 'simulator', 'simulator-i2c']);
  });

  for (const name of ['modbus', 'pi-direct', 'pi-hat', 'simulator', 'simulator-i2c']) {
    it(`${name} validates`, () => {
      const b = loadBoard(name);
      assert.equal(b.name, name);
      assert.ok(b.stations.length >= 1);
      for (const s of b.stations) assert.ok(s.zones.every((z) => z.sensor && z.inlet && z.exhaust));
    });
  }

  it('the simulator has two 5-zone leg stations, a 4-zone arm and an 8-zone leg-and-abdomen garment', () => {
    const b = loadBoard('simulator');
    assert.deepEqual(
      b.stations.map((s) => [s.garment, s.zones.length]),
      [
        ['leg', 5],
        ['leg', 5],
        ['arm', 4],
        ['leg', 8],
      ],
    );
    const mixed = b.stations[3];
    assert.ok(mixed?.zones.some((z) => z.class === 'abdomen'));
    // The abdomen zones cap that station at the abdomen ceiling, whatever the leg zones allow.
    assert.equal(mixed?.ceilingMmHg, 80);
  });

  it('an unknown profile name lists the shipped ones', () => {
    assert.throws(
      () => loadBoard('simulater'),
      /no board profile named "simulater" \(shipped profiles: modbus, pi-direct/,
    );
  });
});

describe('board config errors name the field and what to do', () => {
  const cases: [string, (b: Json) => void, string][] = [
    [
      'unknown top-level key',
      (b) => (b.stationz = []),
      'stationz: unknown key (check the spelling; unknown keys are not ignored)',
    ],
    [
      'unknown key in a zone',
      (b) => (b.stations[0].zones[1].sensr = 'adc0:1'),
      'stations[0].zones[1].sensr: unknown key (check the spelling; unknown keys are not ignored)',
    ],
    [
      'unknown key in a device',
      (b) => (b.devices.adc0.gian = 4),
      'devices.adc0.gian: unknown key (check the spelling; unknown keys are not ignored)',
    ],
    [
      'a zone without a sensor',
      (b) => delete b.stations[0].zones[2].sensor,
      'stations[0].zones[2].sensor: is required: every zone needs a pressure sensor of its own; the safety supervisor cannot protect a chamber it cannot measure',
    ],
    [
      'a channel used twice',
      (b) => (b.stations[0].zones[1].inlet = 'gpio:26'),
      'stations[0].zones[1].inlet: channel gpio:26 is already used by stations[0].zones[0].exhaust (every valve, pump and sensor needs a channel of its own)',
    ],
    [
      'one sensor for two zones',
      (b) => (b.stations[0].zones[3].sensor = 'adc0:0'),
      'stations[0].zones[3].sensor: channel adc0:0 is already used by stations[0].zones[0].sensor (every valve, pump and sensor needs a channel of its own)',
    ],
    ['a value out of range', (b) => (b.loopRateHz = 500), 'loopRateHz: must be <= 200'],
    [
      'an unknown garment class',
      (b) => (b.stations[0].garment = 'legg'),
      'stations[0].garment: must be one of "leg", "arm", "thigh", "abdomen"',
    ],
    [
      'a ceiling above the hard range',
      (b) => (b.stations[0].ceilingMmHg = 200),
      'stations[0].ceilingMmHg: must be <= 150',
    ],
    [
      'a station ceiling above its garment class',
      (b) => {
        b.stations[0].garment = 'abdomen';
        b.stations[0].ceilingMmHg = 100;
      },
      'stations[0].ceilingMmHg: 100 mmHg is above the garment-class ceiling of 80 mmHg (a station ceiling can only lower the garment ceiling; remove it or lower it)',
    ],
    [
      'an unknown device type',
      (b) => (b.devices.adc0.type = 'ads1015'),
      'devices.adc0.type: unknown device type "ads1015" (known types: abp, ads1115, gpio, mcp23017, modbus-rtu, modbus-tcp, mprls, pca9685, sim-panel, sim-station)',
    ],
    [
      'a device that does not exist',
      (b) => (b.stations[0].zones[0].sensor = 'adc1:0'),
      'stations[0].zones[0].sensor: no device named "adc1" (devices in this board: gpio, adc0)',
    ],
    [
      'a channel the device does not have',
      (b) => (b.stations[0].zones[0].sensor = 'adc0:4'),
      'stations[0].zones[0].sensor: adc0:4: must be 0..3 (AIN0..AIN3 against GND)',
    ],
    [
      'a physical pin number instead of a BCM number',
      (b) => (b.stations[0].zones[0].inlet = 'gpio:40'),
      'stations[0].zones[0].inlet: gpio:40: "40" is not a header GPIO: use a BCM number 0..27 (not the physical pin number)',
    ],
    [
      'a channel of the wrong kind',
      (b) => (b.stations[0].zones[0].sensor = 'gpio:22'),
      'stations[0].zones[0].sensor: gpio:22: a gpio device has no pressure-in channels',
    ],
    [
      'a reference without a device',
      (b) => (b.heartbeat = 'gpio4'),
      'heartbeat: must be written device:channel, e.g. valves0:3',
    ],
    [
      'a duplicate station id',
      (b) => {
        b.devices.adc1 = { type: 'ads1115', bus: 1, address: 73, sensor: 'mpx5050' };
        b.stations.push({
          id: 'bay-1',
          name: 'Bay 2',
          garment: 'arm',
          pump: { enable: 'gpio:25' },
          zones: [{ inlet: 'gpio:23', exhaust: 'gpio:24', sensor: 'adc1:0' }],
        });
      },
      'stations[1].id: station id "bay-1" is used twice',
    ],
    [
      'a simulator section for a station that does not exist',
      (b) => (b.simulator = { stations: { 'bay-9': {} } }),
      'simulator.stations.bay-9: no station with id "bay-9" (stations in this board: bay-1)',
    ],
  ];
  for (const [what, mutate, message] of cases) {
    it(what, () => assert.equal(errorOf(mutate), message));
  }

  it('invalid JSON says where', () => {
    assert.throws(
      () => parseBoard('{\n  "name": "x",\n  "devices": {,}\n}', 'broken.json'),
      /^ConfigError: broken.json: is not valid JSON at line 3, column \d+/,
    );
  });

  it('loads a board from a path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'presso-board-'));
    const file = join(dir, 'mine.json');
    const b = piDirect();
    b.name = 'mine';
    writeFileSync(file, JSON.stringify(b));
    assert.equal(loadBoard(file).name, 'mine');
  });
});
