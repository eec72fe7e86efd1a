/**
 * The channel syntax of Modbus devices: `coil:N`, `di:N`, `ir:N`, `hr:N`, N the zero-based address
 * on the wire, and which table each channel kind may use.
 */
import type { ChannelKind } from '../io.js';
import type { ModbusCommonConfig } from './config.js';

const MAX_ADDRESS = 0xffff;

export type Table = 'coil' | 'di' | 'ir' | 'hr';

export interface Address {
  table: Table;
  address: number;
}

const TABLES_FOR: Readonly<Record<ChannelKind, readonly Table[]>> = {
  'digital-out': ['coil'],
  'digital-in': ['di'],
  'pressure-in': ['ir', 'hr'],
  'pwm-out': ['hr'],
};

const SYNTAX: Readonly<Record<ChannelKind, string>> = {
  'digital-out': '"coil:N"',
  'digital-in': '"di:N"',
  'pressure-in': '"ir:N" (input register) or "hr:N" (holding register)',
  'pwm-out': '"hr:N"',
};

export function parseAddress(channel: string): Address | undefined {
  const m = /^(coil|di|ir|hr):(\d{1,5})$/.exec(channel.trim().toLowerCase());
  if (!m?.[1] || !m[2]) return undefined;
  const address = Number(m[2]);
  if (address > MAX_ADDRESS) return undefined;
  return { table: m[1] as Table, address };
}

export function checkModbusChannel(
  kind: ChannelKind,
  channel: string,
  config: ModbusCommonConfig,
): string | undefined {
  const a = parseAddress(channel);
  const syntax = `${kind} channels are ${SYNTAX[kind]}, N the zero-based address 0..${MAX_ADDRESS} (coil 00001 in a manual is "coil:0")`;
  if (!a) return `"${channel}" is not a Modbus channel: ${syntax}`;
  if (!TABLES_FOR[kind].includes(a.table)) return `"${channel}" is the wrong table: ${syntax}`;
  if (kind === 'pressure-in' && !config.pressure) {
    return `pressure-in needs the device's "pressure" scaling, e.g. { "scale": 0.1, "offset": 0, "signed": false } (mmHg = offset + scale × count)`;
  }
  if (kind === 'pwm-out' && config.pwmFullScale === undefined) {
    return `pwm-out needs the device's "pwmFullScale" (the register value for 100 % duty, e.g. 1000)`;
  }
  return undefined;
}

export function modbusChannelKey(_kind: ChannelKind, channel: string): string {
  const a = parseAddress(channel);
  return a ? `${a.table}:${a.address}` : channel.trim();
}

/** A request in words for health messages: "read ir:0..ir:100 (FC04 start 0, count 101)". */
export function spanLabel(
  verb: string,
  table: Table,
  fc: string,
  s: { start: number; count: number },
): string {
  const range =
    s.count === 1 ? `${table}:${s.start}` : `${table}:${s.start}..${table}:${s.start + s.count - 1}`;
  return `${verb} ${range} (${fc} start ${s.start}, count ${s.count})`;
}
