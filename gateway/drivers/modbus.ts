/**
 * Remote I/O modules over Modbus: `modbus-tcp` (Ethernet) and `modbus-rtu` (RS-485 through a
 * serial port). One device = one unit id on one link; devices on the same port or host:port share
 * the link (modbus/link.ts). The parts: modbus/config.ts (config keys), modbus/address.ts (channel
 * syntax), modbus/batching.ts (requests), modbus/device.ts (one unit), modbus/link.ts with
 * modbus/tcp.ts and modbus/rtu.ts (the wire), modbus/failure.ts (what went wrong).
 *
 * Channels (addresses are the zero-based addresses on the wire: `coil:0` is what vendor manuals
 * call coil 1 or 00001, `hr:0` is holding register 1 or 40001):
 *
 *   digital-out  `coil:N`         written with FC15 (write multiple coils)
 *   digital-in   `di:N`           read with FC02 (read discrete inputs), debounced by `debounceMs`
 *   pressure-in  `ir:N` / `hr:N`  read with FC04 / FC03, mmHg = offset + scale × count
 *   pwm-out      `hr:N`           written with FC16; duty 1.0 = `pwmFullScale` counts
 *
 * Config keys (both types): `unitId`, `timeoutMs` (answer timeout, default 200), `pollHz`
 * (optional cap on bus traffic), `debounceMs` (default 20), `pressure` ({ scale: mmHg per count,
 * offset: mmHg (default 0), signed: counts are int16 (default false) }, one scaling for every
 * pressure channel of the device; a module with differently scaled inputs is configured as two
 * devices with the same unit id), `pwmFullScale` (required for pwm-out). `modbus-tcp` adds `host`,
 * `port` (default 502); `modbus-rtu` adds `path`, `baudRate`, `parity`, `dataBits` (default 8),
 * `stopBits` (default 1).
 *
 * Batching: sample() reads each table (di, ir, hr) in ONE request spanning the lowest to the
 * highest address in use (split only past the protocol limit of 125 registers / 2000 bits).
 * flush() writes coils with FC15 and registers with FC16, one request per run of CONSECUTIVE
 * addresses in use: contiguous channels (the usual wiring) take one request each, and a coil or
 * register this device does not own is never written. Filling a gap with a remembered value would
 * overwrite whatever another master, or another device entry on the same unit, set there since we
 * last looked, and forcing gaps off could switch off somebody else's output.
 *
 * Health: `offline` while the link is down or the unit has not answered UNIT_OFFLINE_AFTER_SILENT
 * requests in a row ("no answer from 127.0.0.1:1502 unit 1 for 612 ms: …"); `degraded` for fewer
 * missed answers or a Modbus exception ("unit 1 at … refused read ir:0..ir:100 (FC04 start 0,
 * count 101): illegal data address (exception 2)"). While offline, sample() and flush() return at
 * once without touching the bus: the link reconnects with back-off in the background and a silent
 * unit is re-probed with back-off, so a dead module costs a call at most one timeout. sample()
 * stops at the first silence, so it never waits for more than one timeout either.
 *
 * open() connects and reads every channel in use once. When that fails it rejects, naming the
 * device and the register or the connect error, but keeps retrying in the background like after a
 * dropped link, so a module powered up after the gateway comes online by itself.
 *
 * Time: sockets and jsmodbus's timeouts run in real time, so these drivers need the RealClock.
 */
import { checkSchema } from '../config-check.js';
import type { DriverDefinition } from './io.js';
import { checkModbusChannel, modbusChannelKey } from './modbus/address.js';
import {
  DEFAULT_TCP_PORT,
  oneOf,
  parseCommon,
  RtuSchema,
  TcpSchema,
  type ModbusRtuConfig,
  type ModbusTcpConfig,
} from './modbus/config.js';
import { ModbusDevice } from './modbus/device.js';
import { rtuLinkSpec } from './modbus/rtu.js';
import { tcpLinkSpec } from './modbus/tcp.js';

export const modbusTcp: DriverDefinition<ModbusTcpConfig> = {
  type: 'modbus-tcp',
  summary:
    'Remote I/O module over Modbus TCP: coil:N outputs, di:N inputs, ir:N/hr:N pressure (scaled), hr:N PWM duty',
  parseConfig(raw, path) {
    const c = checkSchema(TcpSchema, raw, path);
    return { ...parseCommon(c, path), host: c.host, port: c.port ?? DEFAULT_TCP_PORT };
  },
  checkChannel: checkModbusChannel,
  channelKey: modbusChannelKey,
  create(id, config, ctx) {
    return new ModbusDevice(id, 'modbus-tcp', config, tcpLinkSpec(config.host, config.port), ctx);
  },
};

export const modbusRtu: DriverDefinition<ModbusRtuConfig> = {
  type: 'modbus-rtu',
  summary:
    'Remote I/O module over Modbus RTU (RS-485 serial port, needs the optional "serialport" package): same channels as modbus-tcp',
  parseConfig(raw, path) {
    const c = checkSchema(RtuSchema, raw, path);
    return {
      ...parseCommon(c, path),
      path: c.path,
      baudRate: c.baudRate,
      parity: oneOf(c.parity, ['none', 'even', 'odd'] as const, `${path}.parity`),
      dataBits: oneOf(c.dataBits ?? 8, [7, 8] as const, `${path}.dataBits`),
      stopBits: oneOf(c.stopBits ?? 1, [1, 2] as const, `${path}.stopBits`),
    };
  },
  checkChannel: checkModbusChannel,
  channelKey: modbusChannelKey,
  create(id, config, ctx) {
    return new ModbusDevice(id, 'modbus-rtu', config, rtuLinkSpec(config), ctx);
  },
};
