#!/usr/bin/env node
// What scripts/install-pi.sh needs to know about a board profile, one fact per line:
//
//   node scripts/board-facts.mjs /etc/presso-gateway/board.json
//   boot-gpio 4=op,dl 12=op,dl 5=op,dl ... 17=ip,pu   config.txt pin states from power-on
//   i2c yes|no                                          an I2C chip is on the board
//   rtu /dev/ttyAMA0 ...                                serial ports of modbus-rtu devices
//   native onoff i2c-bus serialport                     native modules the drivers load
//
// Plain JSON reading with no dependencies: it runs from the checkout before `npm ci` on the Pi.
// The board itself is validated by the controller at start; this only reads the wiring.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: board-facts.mjs BOARD.json');
  process.exit(2);
}
let board;
try {
  board = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  console.error(`board-facts: ${file}: ${e.message}`);
  process.exit(1);
}

const I2C_TYPES = new Set(['ads1115', 'mcp23017', 'pca9685', 'mprls', 'abp', 'tca9548a']);
const devices = Object.entries(board.devices ?? {});
const gpioIds = new Set(devices.filter(([, d]) => d.type === 'gpio').map(([id]) => id));
const activeLow = new Set(devices.filter(([, d]) => d.type === 'gpio').flatMap(([, d]) => d.activeLow ?? []));

/** BCM pin of a `gpio:N` channel reference, else undefined. */
function gpioPin(ref) {
  const at = typeof ref === 'string' ? ref.indexOf(':') : -1;
  if (at < 0 || !gpioIds.has(ref.slice(0, at))) return undefined;
  const pin = Number(ref.slice(at + 1));
  return Number.isInteger(pin) ? pin : undefined;
}

// Outputs: pump enables, valves, the heartbeat. Off is the safe state (pumps stopped, inlets shut,
// normally-open exhausts venting), so each is an output driven to its inactive level from
// power-on: low, or high for a pin wired active-low.
const outputs = [];
const addOut = (ref) => {
  const pin = gpioPin(ref);
  if (pin !== undefined && !outputs.includes(pin)) outputs.push(pin);
};
addOut(board.heartbeat);
for (const s of board.stations ?? []) {
  addOut(s.pump?.enable);
  addOut(s.pump?.pwm);
  for (const z of s.zones ?? []) {
    addOut(z.inlet);
    addOut(z.exhaust);
  }
}
const boot = outputs.map((p) => `${p}=op,${activeLow.has(p) ? 'dh' : 'dl'}`);
// Inputs with the pull their wiring needs (a normally-closed e-stop to ground reads "pressed"
// through the pull-up when its wire breaks).
const PULL = { up: 'pu', down: 'pd', none: 'pn' };
for (const [, d] of devices) {
  if (d.type !== 'gpio') continue;
  for (const input of d.inputs ?? []) boot.push(`${input.pin}=ip,${PULL[input.pull ?? 'none']}`);
}

const i2c = devices.some(([, d]) => I2C_TYPES.has(d.type));
const rtu = [...new Set(devices.filter(([, d]) => d.type === 'modbus-rtu').map(([, d]) => d.path))];
const native = [];
if (gpioIds.size > 0) native.push('onoff');
if (i2c) native.push('i2c-bus');
if (rtu.length > 0) native.push('serialport');

console.log(`boot-gpio ${boot.join(' ')}`.trimEnd());
console.log(`i2c ${i2c ? 'yes' : 'no'}`);
console.log(`rtu ${rtu.join(' ')}`.trimEnd());
console.log(`native ${native.join(' ')}`.trimEnd());
