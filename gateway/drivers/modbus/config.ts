/** The config sections of `modbus-tcp` and `modbus-rtu` devices (keys: ../modbus.ts). */
import Type from 'typebox';
import { ConfigError } from '../../config-error.js';
import { LIMITS } from '../../limits.js';
import type { SerialSettings } from './rtu.js';

/** Default answer timeout. A module on a LAN answers in a few ms; 200 ms rides out a busy switch. */
export const DEFAULT_TIMEOUT_MS = 200;
export const DEFAULT_TCP_PORT = 502;

export interface PressureScaling {
  /** mmHg per count. */
  scale: number;
  /** mmHg at count 0. */
  offset: number;
  /** Whether counts are two's-complement int16 (else uint16). */
  signed: boolean;
}

export interface ModbusCommonConfig {
  unitId: number;
  /** How long the unit may take to answer, ms (RTU adds the time frames spend on the wire). */
  timeoutMs: number;
  /** At most this many polls per second; undefined = every sample()/flush(). */
  pollHz: number | undefined;
  debounceMs: number;
  pressure: PressureScaling | undefined;
  /** Register value for duty 1.0 on pwm-out channels. */
  pwmFullScale: number | undefined;
}

export interface ModbusTcpConfig extends ModbusCommonConfig {
  host: string;
  port: number;
}

export interface ModbusRtuConfig extends ModbusCommonConfig, SerialSettings {}

/* ------------------------------------------------------------------------------------------------ */
/* Config                                                                                            */

const commonKeys = {
  timeoutMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 10_000 })),
  pollHz: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1000 })),
  debounceMs: Type.Optional(Type.Integer({ minimum: LIMITS.debounceMs.min, maximum: LIMITS.debounceMs.max })),
  pressure: Type.Optional(
    Type.Object(
      {
        scale: Type.Number(),
        offset: Type.Optional(Type.Number()),
        signed: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
  ),
  pwmFullScale: Type.Optional(Type.Integer({ minimum: 1, maximum: 0xffff })),
};

export const TcpSchema = Type.Object(
  {
    host: Type.String({ minLength: 1 }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    // Modbus TCP allows 0..255 (0 and 255 are what many single-unit TCP modules expect).
    unitId: Type.Integer({ minimum: 0, maximum: 255 }),
    ...commonKeys,
  },
  { additionalProperties: false },
);

export const RtuSchema = Type.Object(
  {
    path: Type.String({ minLength: 1 }),
    baudRate: Type.Integer({ minimum: 300, maximum: 4_000_000 }),
    parity: Type.String(),
    dataBits: Type.Optional(Type.Integer()),
    stopBits: Type.Optional(Type.Integer()),
    // 0 is broadcast (nobody answers) and 248..255 are reserved on a serial line.
    unitId: Type.Integer({ minimum: 1, maximum: 247 }),
    ...commonKeys,
  },
  { additionalProperties: false },
);

export function oneOf<T extends string | number>(value: unknown, allowed: readonly T[], path: string): T {
  const hit = allowed.find((a) => a === value);
  if (hit === undefined) throw new ConfigError(path, `must be one of ${allowed.join(', ')}`);
  return hit;
}

export function parseCommon(
  raw: {
    unitId: number;
    timeoutMs?: number;
    pollHz?: number;
    debounceMs?: number;
    pressure?: { scale: number; offset?: number; signed?: boolean };
    pwmFullScale?: number;
  },
  path: string,
): ModbusCommonConfig {
  const p = raw.pressure;
  if (p && (!Number.isFinite(p.scale) || p.scale === 0)) {
    throw new ConfigError(`${path}.pressure.scale`, 'must be a non-zero number (mmHg per count)');
  }
  if (p?.offset !== undefined && !Number.isFinite(p.offset)) {
    throw new ConfigError(`${path}.pressure.offset`, 'must be a finite number (mmHg at count 0)');
  }
  return {
    unitId: raw.unitId,
    timeoutMs: raw.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    pollHz: raw.pollHz,
    debounceMs: raw.debounceMs ?? LIMITS.debounceMs.default,
    pressure: p ? { scale: p.scale, offset: p.offset ?? 0, signed: p.signed ?? false } : undefined,
    pwmFullScale: raw.pwmFullScale,
  };
}
