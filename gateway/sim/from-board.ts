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
import type { Clock } from '../clock.js';
import type { Board, ChannelRef, StationSpec } from '../board/load.js';
import { BoardConfigError, type I2cOpener } from '../drivers/io.js';
import { LIMITS } from '../limits.js';
import { FakeI2cBus, fakeI2cOpener } from './i2c/fake-bus.js';
import { Ads1115Model } from './i2c/ads1115-model.js';
import { AbpModel, type AbpUnit } from './i2c/abp-model.js';
import { Mcp23017Model } from './i2c/mcp23017-model.js';
import { MprlsModel } from './i2c/mprls-model.js';
import { Pca9685Model } from './i2c/pca9685-model.js';
import { Tca9548aModel } from './i2c/tca9548a-model.js';
import { P_ATM_MMHG } from './physics.js';
import type { ActiveFault, SimFault, SimFaultKind } from './faults.js';
import type { StationParamsOverride } from './params.js';
import type { StationModel } from './station-model.js';
import { SimWorld } from './world.js';

const MMHG_PER_KPA = 7.50062;

/** MPX50x0 transfer functions (datasheet): Vout = Vs·(slope·P_kPa + 0.04). */
const MPX_SLOPE_PER_KPA: Readonly<Record<string, number>> = { mpx5050: 0.018, mpx5100: 0.009 };

/**
 * The simulated pump and valve power supply behind a heartbeat-driven hardware watchdog.
 * Unarmed (always on) until something claims the heartbeat output. Not latching: power returns
 * when the heartbeat does, like a retriggerable monostable driving the supply relay.
 */
export class SimPower {
  private armed = false;
  private lastLevel = false;
  private lastToggleMs = 0;
  private isCut = false;
  private readonly appliers: (() => void)[] = [];

  constructor(
    private readonly world: SimWorld,
    readonly watchdogMs: number = LIMITS.heartbeatWatchdogMs.default,
  ) {}

  get cut(): boolean {
    return this.isCut;
  }

  arm(nowMs: number): void {
    this.armed = true;
    this.lastToggleMs = nowMs;
  }

  /** Registers an "apply your outputs again" callback, run whenever the power changes. */
  onChange(apply: () => void): void {
    this.appliers.push(apply);
  }

  /** Integrates the world to `nowMs`, cutting the power at the exact moment the watchdog expires. */
  advance(nowMs: number): void {
    const expiry = this.lastToggleMs + this.watchdogMs;
    if (this.armed && !this.isCut && nowMs > expiry) {
      this.world.advanceTo(expiry);
      this.isCut = true;
      for (const a of this.appliers) a();
    }
    this.world.advanceTo(nowMs);
  }

  heartbeat(level: boolean, nowMs: number): void {
    this.advance(nowMs);
    if (level === this.lastLevel) return;
    this.lastLevel = level;
    this.lastToggleMs = nowMs;
    if (this.isCut) {
      this.isCut = false;
      for (const a of this.appliers) a();
    }
  }
}

/** The simulated world and power supply a sim-station or sim-panel device needs from its context. */
export function simServices(
  services: ReadonlyMap<string, unknown>,
  deviceId: string,
): { world: SimWorld; power: SimPower } {
  const world = services.get('sim-world');
  const power = services.get('sim-power');
  if (!(world instanceof SimWorld) || !(power instanceof SimPower)) {
    throw new BoardConfigError(`devices.${deviceId}`, 'no simulated world: the board has no simulator');
  }
  return { world, power };
}

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
        throw new BoardConfigError(
          r.path,
          `${r.device} is the simulated I/O of station "${owner}", not of "${s.id}"`,
          `give station "${s.id}" its own sim-station device`,
        );
      }
    }
  }
  for (const [dev, station] of deviceStation) {
    if (!simulated.some((s) => s.id === station)) {
      throw new BoardConfigError(`devices.${dev}.station`, `no station "${station}" uses this simulated I/O`);
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
    services: new Map<string, unknown>([
      ['sim-world', world],
      ['sim-power', power],
    ]),
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
  const sense = (devChannel: string, atMs: number): { mmHg: number; connected: boolean } => {
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
    const bus = (buses[cfg.bus] ??= new FakeI2cBus());
    const address = Number(cfg.address ?? defaultAddress(d.type));
    const chip: ChipAt = { bus: cfg.bus, address };
    for (const s of stations) {
      const refs = [s.pump.enable, s.pump.pwm, ...s.zones.flatMap((z) => [z.inlet, z.exhaust, z.sensor])];
      if (refs.some((r) => r?.device === d.id)) chips.set(s.id, [...(chips.get(s.id) ?? []), chip]);
      s.zones.forEach((z, i) => {
        if (z.sensor.device === d.id) chips.set(`${s.id}/${i}`, [...(chips.get(`${s.id}/${i}`) ?? []), chip]);
      });
    }
    switch (d.type) {
      case 'ads1115': {
        const slope = MPX_SLOPE_PER_KPA[String(cfg.sensor)] ?? 0.018;
        const vs = Number(cfg.supplyV ?? 5);
        const divider = Number(cfg.dividerRatio ?? 1);
        bus.addDevice(
          address,
          new Ads1115Model({
            clock,
            input: (ch, atMs) => {
              const r = sense(`${d.id}:${ch}`, atMs);
              // An unplugged sensor leaves the input pulled to ground through the divider.
              if (!r.connected) return 0;
              return vs * (slope * (r.mmHg / MMHG_PER_KPA) + 0.04) * divider;
            },
          }),
        );
        break;
      }
      case 'mprls':
      case 'abp': {
        const model =
          d.type === 'mprls'
            ? new MprlsModel({ clock, pressure: (t) => sensedOrNaN(sense(`${d.id}:0`, t)) + P_ATM_MMHG })
            : abpModel(cfg, clock, (t) => sensedOrNaN(sense(`${d.id}:0`, t)));
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
        break;
      }
      case 'mcp23017': {
        const model = new Mcp23017Model();
        const activeLow = new Set((cfg.activeLow as number[] | undefined) ?? []);
        model.onOutputs((pins) => {
          pins.forEach((level, pin) => {
            const t = targets.get(`${d.id}:${pin}`);
            if (!t || level === 'hi-z') return;
            drive(t, (level === 'high') !== activeLow.has(pin), 0);
          });
        });
        bus.addDevice(address, model);
        break;
      }
      case 'pca9685': {
        const model = new Pca9685Model();
        model.onChannel((ch, duty) => {
          const t = targets.get(`${d.id}:${ch}`);
          if (t) drive(t, duty >= 0.5, duty);
        });
        bus.addDevice(address, model);
        break;
      }
      default:
        throw new BoardConfigError(
          `devices.${d.id}.bus`,
          `the simulator has no chip model for a ${d.type}`,
          'use a numbered bus for real hardware',
        );
    }
  }
  if (touched) for (const s of stations) power.onChange(() => apply(s.id));
  return buses;
}

function sensedOrNaN(r: { mmHg: number; connected: boolean }): number {
  return r.connected ? r.mmHg : Number.NaN;
}

function abpModel(cfg: Record<string, unknown>, clock: Clock, gauge: (t: number) => number): AbpModel {
  return new AbpModel({
    clock,
    unit: (cfg.unit as AbpUnit | undefined) ?? 'psi',
    pMin: Number(cfg.pMin ?? 0),
    pMax: Number(cfg.pMax),
    pressure: gauge,
  });
}

function defaultAddress(type: string): number {
  const defaults: Record<string, number> = {
    ads1115: 0x48,
    mcp23017: 0x20,
    pca9685: 0x40,
    mprls: 0x18,
    abp: 0x28,
  };
  return defaults[type] ?? 0;
}
