/**
 * Reads a board profile, validates it completely and returns it typed. Every mistake stops the
 * start with a ConfigError that names the field path and says what to do (Klipper's rule:
 * a typo is an error, not a silent default).
 */
import { ConfigError } from '../config-error.js';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkSchema } from '../config-check.js';
import { type ChannelKind, type DriverDefinition } from '../drivers/io.js';
import { DRIVERS } from '../drivers/registry.js';
import { PACKAGE_ROOT } from '../paths.js';
import { GARMENT_CEILING_MMHG, LIMITS, type GarmentClass } from '../limits.js';
import { BOARD_HINTS, BoardSchema, type BoardFile } from './schema.js';

export const PROFILE_DIR = join(PACKAGE_ROOT, 'config');

export interface ChannelRef {
  device: string;
  channel: string;
  /** Where the reference stands in the file, for error messages. */
  path: string;
}

export interface DeviceSpec {
  id: string;
  type: string;
  definition: DriverDefinition;
  config: unknown;
}

export interface ZoneSpec {
  /** 1-based, distal → proximal, as staff count them. */
  zone: number;
  name: string;
  class: GarmentClass;
  inlet: ChannelRef;
  exhaust: ChannelRef;
  sensor: ChannelRef;
}

export interface StationSpec {
  id: string;
  name: string;
  garment: GarmentClass;
  garmentName: string;
  /** The lowest of the station's own ceiling and every zone's garment-class ceiling. */
  ceilingMmHg: number;
  pump: { enable: ChannelRef; pwm?: ChannelRef };
  zones: ZoneSpec[];
  /** Devices this station's channels go through: a link fault on any of them faults the station. */
  devices: string[];
}

export interface Board {
  name: string;
  description: string;
  /** The file it came from. */
  source: string;
  loopRateHz: number;
  devices: DeviceSpec[];
  heartbeat?: ChannelRef;
  estop?: ChannelRef;
  simulator?: { seed: number; stations: Record<string, Record<string, unknown>> };
  stations: StationSpec[];
}

/** Profile names shipped in config/. */
export function listProfiles(dir = PROFILE_DIR): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

/** `simulator` → config/simulator.json; anything with a slash or a .json ending is a path. */
export function resolveProfile(nameOrPath: string, dir = PROFILE_DIR): string {
  if (nameOrPath.includes('/') || nameOrPath.endsWith('.json')) return resolve(nameOrPath);
  const known = listProfiles(dir);
  if (!known.includes(nameOrPath)) {
    throw new ConfigError(
      'PRESSO_BOARD',
      `no board profile named "${nameOrPath}"`,
      `shipped profiles: ${known.join(', ') || 'none'}; or give a path to a .json file`,
    );
  }
  return join(dir, `${nameOrPath}.json`);
}

export function loadBoard(nameOrPath: string, dir = PROFILE_DIR): Board {
  const file = resolveProfile(nameOrPath, dir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, `cannot read the board file (${(e as Error).message})`);
  }
  return parseBoard(text, file);
}

/** Where in `text` a JSON.parse position falls, as line:column. */
function lineColumn(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return `line ${line}, column ${pos - before.lastIndexOf('\n')}`;
}

export function parseBoard(text: string, source: string): Board {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const where = pos?.[1] ? ` at ${lineColumn(text, Number(pos[1]))}` : '';
    throw new ConfigError(source, `is not valid JSON${where}: ${msg}`);
  }
  return validateBoard(raw, source);
}

function parseRef(text: string, path: string): ChannelRef {
  const i = text.indexOf(':');
  return { device: text.slice(0, i), channel: text.slice(i + 1), path };
}

export function validateBoard(raw: unknown, source: string): Board {
  const file: BoardFile = checkSchema(BoardSchema, raw, '', BOARD_HINTS);

  // Devices: each driver validates its own section.
  const devices: DeviceSpec[] = [];
  for (const [id, section] of Object.entries(file.devices)) {
    const definition = DRIVERS.get(section.type);
    if (!definition) {
      throw new ConfigError(
        `devices.${id}.type`,
        `unknown device type "${section.type}"`,
        `known types: ${[...DRIVERS.keys()].sort().join(', ')}`,
      );
    }
    const { type: _type, ...rest } = section;
    devices.push({
      id,
      type: section.type,
      definition,
      config: definition.parseConfig(rest, `devices.${id}`),
    });
  }
  const byId = new Map(devices.map((d) => [d.id, d]));

  // Every channel reference: the device exists, offers that channel, and nobody else uses it.
  const used = new Map<string, string>();
  const ref = (text: string, kind: ChannelKind, path: string): ChannelRef => {
    const r = parseRef(text, path);
    const dev = byId.get(r.device);
    if (!dev) {
      throw new ConfigError(
        path,
        `no device named "${r.device}"`,
        `devices in this board: ${[...byId.keys()].join(', ') || 'none'}`,
      );
    }
    const problem = dev.definition.checkChannel(kind, r.channel, dev.config);
    if (problem) throw new ConfigError(path, `${text}: ${problem}`);
    const key = `${r.device}:${dev.definition.channelKey?.(kind, r.channel, dev.config) ?? r.channel.trim()}`;
    const other = used.get(key);
    if (other) {
      throw new ConfigError(
        path,
        `channel ${text} is already used by ${other}`,
        'every valve, pump and sensor needs a channel of its own',
      );
    }
    used.set(key, path);
    return r;
  };

  const ids = new Set<string>();
  const stations: StationSpec[] = file.stations.map((s, si) => {
    const sp = `stations[${si}]`;
    if (ids.has(s.id)) throw new ConfigError(`${sp}.id`, `station id "${s.id}" is used twice`);
    ids.add(s.id);
    const zones: ZoneSpec[] = s.zones.map((z, zi) => {
      const zp = `${sp}.zones[${zi}]`;
      return {
        zone: zi + 1,
        name: z.name ?? `zone ${zi + 1}`,
        class: z.class ?? s.garment,
        inlet: ref(z.inlet, 'digital-out', `${zp}.inlet`),
        exhaust: ref(z.exhaust, 'digital-out', `${zp}.exhaust`),
        sensor: ref(z.sensor, 'pressure-in', `${zp}.sensor`),
      };
    });
    const classCeiling = Math.min(...zones.map((z) => GARMENT_CEILING_MMHG[z.class]));
    if (s.ceilingMmHg !== undefined && s.ceilingMmHg > classCeiling) {
      throw new ConfigError(
        `${sp}.ceilingMmHg`,
        `${s.ceilingMmHg} mmHg is above the garment-class ceiling of ${classCeiling} mmHg`,
        'a station ceiling can only lower the garment ceiling; remove it or lower it',
      );
    }
    const pump = {
      enable: ref(s.pump.enable, 'digital-out', `${sp}.pump.enable`),
      ...(s.pump.pwm ? { pwm: ref(s.pump.pwm, 'pwm-out', `${sp}.pump.pwm`) } : {}),
    };
    const refs = [pump.enable, pump.pwm, ...zones.flatMap((z) => [z.inlet, z.exhaust, z.sensor])];
    return {
      id: s.id,
      name: s.name,
      garment: s.garment,
      garmentName: s.garmentName ?? `${s.garment} garment`,
      ceilingMmHg: Math.min(s.ceilingMmHg ?? LIMITS.stationCeilingMmHg.default, classCeiling),
      pump,
      zones,
      devices: [...new Set(refs.filter((r) => r !== undefined).map((r) => r.device))],
    };
  });

  const heartbeat = file.heartbeat ? ref(file.heartbeat, 'digital-out', 'heartbeat') : undefined;
  const estop = file.estop ? ref(file.estop, 'digital-in', 'estop') : undefined;

  let simulator: Board['simulator'];
  if (file.simulator) {
    for (const key of Object.keys(file.simulator.stations ?? {})) {
      if (!ids.has(key)) {
        throw new ConfigError(
          `simulator.stations.${key}`,
          `no station with id "${key}"`,
          `stations in this board: ${[...ids].join(', ')}`,
        );
      }
    }
    simulator = {
      seed: file.simulator.seed ?? 1,
      stations: (file.simulator.stations ?? {}) as Record<string, Record<string, unknown>>,
    };
  }

  return {
    name: file.name,
    description: file.description ?? '',
    source,
    loopRateHz: file.loopRateHz ?? LIMITS.loopRateHz.default,
    devices,
    ...(heartbeat ? { heartbeat } : {}),
    ...(estop ? { estop } : {}),
    ...(simulator ? { simulator } : {}),
    stations,
  };
}
