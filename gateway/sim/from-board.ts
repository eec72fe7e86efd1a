/**
 * Builds the simulated world a board profile asks for, and wires it to the I/O layer:
 *
 * - `sim-station` / `sim-panel` devices read and drive the physics directly;
 * - chips on a simulated I2C bus (a `bus` name starting with "sim", e.g. "sim-i2c-1") get
 *   register-level models on a FakeI2cBus whose analog inputs come from the physics and whose
 *   output pins drive it, so the production ADS1115/MCP23017/PCA9685/MPRLS/ABP drivers run end
 *   to end off the Pi.
 *
 * The simulated hardware watchdog (SimPower) sits between both and the physics: when the
 * heartbeat stops toggling, pump and valve power is cut, as the relay on a real build would.
 */
import { ConfigError } from '../config-error.js';
import type { Clock } from '../clock.js';
import type { Board, ChannelRef, StationSpec } from '../board/load.js';
import type { I2cOpener } from '../drivers/io.js';
import { FakeI2cBus, fakeI2cOpener } from './i2c/fake-bus.js';
import { Tca9548aModel } from './i2c/tca9548a-model.js';
import { CHIP_MODELS, type SensedPressure } from './chip-models.js';
import { SimPower, simServiceMap } from './power.js';
import type { ActiveFault, SimFault, SimFaultKind } from './faults.js';
import type { StationParamsOverride } from './params.js';
import type { StationModel } from './station-model.js';
import { SimWorld } from './world.js';

export interface Simulation {
  world: SimWorld;
  /**
   * Injects a simulator fault by name on a station (zone 0-based), the way the API and the
   * dashboard do: physical faults go to the model; `i2c-nack` also makes the simulated chips of
   * that zone (or of the whole station) stop acknowledging on their bus.
   */
  inject(stationId: string, fault: SimFault): ActiveFault;
  /** Clears faults of `kind` (all when omitted) on a station; returns how many were cleared. */
  clear(stationId: string, kind?: SimFaultKind): number;
  power: SimPower;
  /** The simulated I2C buses by name, for tests that read their transaction logs or inject NACKs. */
  buses: Record<string, FakeI2cBus>;
  openI2c: I2cOpener;
  services: Map<string, unknown>;
}

const isSimBus = (bus: unknown): bus is string => typeof bus === 'string' && bus.startsWith('sim');

/** Returns the board's simulation, or undefined when the board has no simulated part. */
export function createSimulation(board: Board, clock: Clock): Simulation | undefined {
  const deviceStation = new Map<string, string>(); // sim-station device id → station id
  const simDevices = new Set<string>();
  for (const d of board.devices) {
    const cfg = d.config as { station?: string; bus?: unknown };
    if (d.type === 'sim-station') {
      deviceStation.set(d.id, cfg.station ?? '');
      simDevices.add(d.id);
    } else if (d.type === 'sim-panel' || isSimBus(cfg.bus)) {
      simDevices.add(d.id);
    }
  }
  if (simDevices.size === 0) return undefined;

  const refsOf = (s: StationSpec): ChannelRef[] =>
    [s.pump.enable, s.pump.pwm, ...s.zones.flatMap((z) => [z.inlet, z.exhaust, z.sensor])].filter(
      (r): r is ChannelRef => r !== undefined,
    );
  const simulated = board.stations.filter((s) => refsOf(s).some((r) => simDevices.has(r.device)));
  for (const s of board.stations) {
    for (const r of refsOf(s)) {
      const owner = deviceStation.get(r.device);
      if (owner !== undefined && owner !== s.id) {
        throw new ConfigError(
          r.path,
          `${r.device} is the simulated I/O of station "${owner}", not of "${s.id}"`,
          `give station "${s.id}" its own sim-station device`,
        );
      }
    }
  }
  for (const [dev, station] of deviceStation) {
    if (!simulated.some((s) => s.id === station)) {
      throw new ConfigError(`devices.${dev}.station`, `no station "${station}" uses this simulated I/O`);
    }
  }

  const world = new SimWorld({
    seed: board.simulator?.seed ?? 1,
    startMs: clock.now(),
    stations: simulated.map((s) => ({
      id: s.id,
      garment: s.garment,
      zones: s.zones.length,
      zoneGarments: s.zones.map((z) => z.class),
      params: (board.simulator?.stations[s.id] ?? {}) as StationParamsOverride,
    })),
  });
  const power = new SimPower(world);
  const chips = new Map<string, ChipAt[]>(); // "station/zone" and "station" → chips to NACK
  const buses = wireChips(board, simulated, world, power, clock, chips);
  const syncNacks = () => {
    const nack = new Set<ChipAt>();
    for (const s of simulated) {
      if (world.flagActive(s.id, 'i2c-nack')) for (const c of chips.get(s.id) ?? []) nack.add(c);
      s.zones.forEach((_z, i) => {
        if (world.flagActive(s.id, 'i2c-nack', i))
          for (const c of chips.get(`${s.id}/${i}`) ?? []) nack.add(c);
      });
    }
    for (const list of chips.values()) for (const c of list) buses[c.bus]?.setNack(c.address, nack.has(c));
  };
  return {
    world,
    inject: (stationId, fault) => {
      const f = world.injectFault(stationId, fault);
      syncNacks();
      return f;
    },
    clear: (stationId, kind) => {
      const n = world.clearFault(stationId, kind);
      syncNacks();
      return n;
    },
    power,
    buses,
    openI2c: fakeI2cOpener(buses),
    services: simServiceMap(world, power),
  };
}

/** A chip on a simulated bus (for a mux'd sensor: the sensor's own address on that bus). */
interface ChipAt {
  bus: string;
  address: number;
}

type PinTarget =
  | { kind: 'inlet' | 'exhaust'; station: string; zone: number }
  | { kind: 'pump-enable' | 'pump-pwm'; station: string };

/** Puts a chip model on the simulated bus for every device on one, connected to the physics. */
function wireChips(
  board: Board,
  stations: StationSpec[],
  world: SimWorld,
  power: SimPower,
  clock: Clock,
  chips: Map<string, ChipAt[]>,
): Record<string, FakeI2cBus> {
  const buses: Record<string, FakeI2cBus> = {};
  const targets = new Map<string, PinTarget>(); // "device:channel" → what it drives
  const sensors = new Map<string, { station: string; zone: number }>();
  const key = (r: ChannelRef) => `${r.device}:${r.channel.trim()}`;
  for (const s of stations) {
    targets.set(key(s.pump.enable), { kind: 'pump-enable', station: s.id });
    if (s.pump.pwm) targets.set(key(s.pump.pwm), { kind: 'pump-pwm', station: s.id });
    s.zones.forEach((z, i) => {
      targets.set(key(z.inlet), { kind: 'inlet', station: s.id, zone: i });
      targets.set(key(z.exhaust), { kind: 'exhaust', station: s.id, zone: i });
      sensors.set(key(z.sensor), { station: s.id, zone: i });
    });
  }

  // Desired actuator state per station as the chip pins say; applied through the power supply.
  const pumps = new Map<string, { enable: boolean; duty: number; hasPwm: boolean }>();
  for (const s of stations) pumps.set(s.id, { enable: false, duty: 0, hasPwm: s.pump.pwm !== undefined });
  const valves = new Map<string, boolean>(); // "station/inlet/0" → energised
  const apply = (station: string) => {
    const m: StationModel = world.station(station);
    const p = pumps.get(station);
    const on = !power.cut;
    if (p) m.setPump(on && p.enable ? (p.hasPwm ? p.duty : 1) : 0);
    for (let z = 0; z < m.zones; z++) {
      m.setInlet(z, on && valves.get(`${station}/inlet/${z}`) === true);
      m.setExhaust(z, on && valves.get(`${station}/exhaust/${z}`) === true);
    }
  };
  const drive = (t: PinTarget, energised: boolean, duty: number) => {
    power.advance(clock.now());
    const pump = pumps.get(t.station);
    if ('zone' in t) valves.set(`${t.station}/${t.kind}/${t.zone}`, energised);
    else if (pump && t.kind === 'pump-enable') pump.enable = energised;
    else if (pump) pump.duty = duty;
    apply(t.station);
  };
  const sense = (devChannel: string, atMs: number): SensedPressure => {
    const s = sensors.get(devChannel);
    if (!s) return { mmHg: 0, connected: true }; // an unused input sits at atmosphere
    power.advance(Math.max(atMs, world.timeMs));
    return world.station(s.station).sense(s.zone);
  };
  let touched = false;
  const muxes = new Map<string, Tca9548aModel>();

  for (const d of board.devices) {
    const cfg = d.config as Record<string, unknown>;
    if (!isSimBus(cfg.bus)) continue;
    touched = true;
    const factory = CHIP_MODELS.get(d.type);
    if (!factory) {
      throw new ConfigError(
        `devices.${d.id}.bus`,
        `the simulator has no chip model for a ${d.type} (it has: ${[...CHIP_MODELS.keys()].join(', ')})`,
        'use a numbered bus for real hardware',
      );
    }
    const bus = (buses[cfg.bus] ??= new FakeI2cBus());
    const address = Number(cfg.address ?? factory.defaultAddress);
    const chip: ChipAt = { bus: cfg.bus, address };
    for (const s of stations) {
      const refs = [s.pump.enable, s.pump.pwm, ...s.zones.flatMap((z) => [z.inlet, z.exhaust, z.sensor])];
      if (refs.some((r) => r?.device === d.id)) chips.set(s.id, [...(chips.get(s.id) ?? []), chip]);
      s.zones.forEach((z, i) => {
        if (z.sensor.device === d.id) chips.set(`${s.id}/${i}`, [...(chips.get(`${s.id}/${i}`) ?? []), chip]);
      });
    }
    const model = factory.create({
      config: cfg,
      clock,
      sense: (channel, atMs) => sense(`${d.id}:${channel}`, atMs),
      drive: (channel, energised, duty) => {
        const t = targets.get(`${d.id}:${channel}`);
        if (t) drive(t, energised, duty);
      },
    });
    const mux = cfg.mux as { address: number; channel: number } | undefined;
    if (mux) {
      let m = muxes.get(`${cfg.bus}/${mux.address}`);
      if (!m) {
        m = new Tca9548aModel();
        muxes.set(`${cfg.bus}/${mux.address}`, m);
        bus.addDevice(mux.address, m);
      }
      m.attach(mux.channel, address, model);
    } else {
      bus.addDevice(address, model);
    }
  }
  if (touched) for (const s of stations) power.onChange(() => apply(s.id));
  return buses;
}
