/**
 * The I/O module of one simulated station: the pump, every zone's inlet and exhaust valve and
 * pressure sensor of one station of the pneumatic simulator (gateway/sim), behind the same
 * interfaces as the hardware drivers. Think of it as one remote I/O module per station, so a
 * simulated link fault (`modbus-link-drop`, station-wide `i2c-nack`) takes exactly one station
 * down, as it would with one Modbus module per station.
 *
 * Channels (zone numbers 1-based, distal first):
 *   digital-out  pump | z<k>.inlet | z<k>.exhaust
 *   pwm-out      pump-speed
 *   pressure-in  z<k>.pressure
 */
import { ConfigError } from '../config-error.js';
import Type, { type Static } from 'typebox';
import { checkSchema } from '../config-check.js';
import { simServices, type SimPower } from '../sim/power.js';
import type { StationModel } from '../sim/station-model.js';
import type { SimWorld } from '../sim/world.js';
import {
  CalibratedPressureInput,
  HealthTracker,
  StagedDigitalOutput,
  StagedPwmOutput,
  noSuchKind,
} from './channels.js';
import {
  type ChannelKind,
  type DeviceHealth,
  type DigitalInput,
  type DriverContext,
  type DriverDefinition,
  type IoDevice,
  type PressureInput,
} from './io.js';

/**
 * How long a remote I/O module keeps its outputs after its link drops before its own
 * communication watchdog de-energises them. Industrial Modbus modules default to 0.5-1 s.
 */
export const MODULE_WATCHDOG_MS = 500;

const ConfigSchema = Type.Object(
  { station: Type.String({ minLength: 1, description: 'the simulated station this module belongs to' }) },
  { additionalProperties: false },
);
export type SimStationConfig = Static<typeof ConfigSchema>;

const ZONE_CHANNEL = /^z([1-9]\d?)\.(inlet|exhaust|pressure)$/;

function checkChannel(kind: ChannelKind, channel: string): string | undefined {
  const c = channel.trim();
  const zone = ZONE_CHANNEL.exec(c);
  switch (kind) {
    case 'digital-out':
      if (c === 'pump' || (zone && zone[2] !== 'pressure')) return undefined;
      return 'simulator outputs are pump, z<k>.inlet and z<k>.exhaust';
    case 'pwm-out':
      return c === 'pump-speed' ? undefined : 'the simulator PWM output is pump-speed';
    case 'pressure-in':
      return zone && zone[2] === 'pressure' ? undefined : 'simulator sensors are z<k>.pressure';
    case 'digital-in':
      return 'a sim-station has no digital inputs (the emergency stop is on the sim-panel)';
  }
}

type Valve = { zone: number; out: StagedDigitalOutput };

class SimStationDevice implements IoDevice {
  readonly type = 'sim-station';
  private readonly health_: HealthTracker;
  private readonly model: StationModel;
  private readonly pump = new StagedDigitalOutput('pump');
  private readonly pumpSpeed = new StagedPwmOutput('pump-speed');
  private hasSpeed = false;
  private readonly inlets: Valve[] = [];
  private readonly exhausts: Valve[] = [];
  private readonly sensors: { zone: number; input: CalibratedPressureInput }[] = [];
  private linkLostAt: number | undefined;
  private opened = false;

  constructor(
    readonly id: string,
    private readonly config: SimStationConfig,
    private readonly world: SimWorld,
    private readonly power: SimPower,
    private readonly ctx: DriverContext,
  ) {
    this.health_ = new HealthTracker(ctx.clock);
    try {
      this.model = world.station(config.station);
    } catch (e) {
      throw new ConfigError(`devices.${id}.station`, (e as Error).message);
    }
    // When the simulated watchdog cuts or restores power, the valves follow at once.
    power.onChange(() => {
      if (this.opened && !this.linkFault()) this.applyOutputs(power.cut);
    });
  }

  health(): DeviceHealth {
    return this.health_.get();
  }

  async open(): Promise<void> {
    this.opened = true;
    this.health_.ok();
    await this.safe();
  }

  private zoneOf(channel: string): number {
    const m = ZONE_CHANNEL.exec(channel.trim());
    const zone = Number(m?.[1]) - 1;
    if (!(zone >= 0 && zone < this.model.zones)) {
      throw new ConfigError(
        `devices.${this.id}`,
        `channel ${channel}: station ${this.config.station} has zones 1..${this.model.zones}`,
      );
    }
    return zone;
  }

  /** Link state of this module as the simulated faults make it. */
  private linkFault(): string | undefined {
    const s = this.config.station;
    if (this.world.flagActive(s, 'modbus-link-drop'))
      return `link to the I/O module of ${s} lost (simulated)`;
    if (this.world.flagActive(s, 'i2c-nack')) return `no answer from the I/O of ${s} (EREMOTEIO, simulated)`;
    return undefined;
  }

  async sample(): Promise<void> {
    const now = this.ctx.clock.now();
    this.power.advance(now);
    const fault = this.linkFault();
    if (fault) {
      this.linkLostAt ??= now;
      this.health_.fail(fault, 'offline');
      for (const s of this.sensors) s.input.failed(fault, now);
      // The module's own watchdog drops its outputs once the link has been gone long enough.
      if (now - this.linkLostAt >= MODULE_WATCHDOG_MS) this.applyOutputs(true);
      return;
    }
    if (this.linkLostAt !== undefined) {
      this.linkLostAt = undefined;
      this.health_.ok();
    }
    for (const s of this.sensors) {
      if (this.world.flagActive(this.config.station, 'i2c-nack', s.zone)) {
        s.input.failed(`no answer from the zone ${s.zone + 1} sensor (EREMOTEIO, simulated)`, now);
        continue;
      }
      const r = this.model.sense(s.zone);
      if (r.connected && Number.isFinite(r.mmHg)) s.input.measured(r.mmHg, now);
      else s.input.failed(`zone ${s.zone + 1} sensor reads nothing (open wire?)`, now);
    }
  }

  async flush(): Promise<void> {
    if (!this.opened || this.linkFault()) return;
    this.power.advance(this.ctx.clock.now());
    this.applyOutputs(this.power.cut);
  }

  async safe(): Promise<void> {
    this.pump.set(false);
    this.pumpSpeed.set(0);
    for (const v of [...this.inlets, ...this.exhausts]) v.out.set(false);
    this.power.advance(this.ctx.clock.now());
    if (!this.linkFault()) this.applyOutputs(false);
  }

  async close(): Promise<void> {
    await this.safe();
    this.opened = false;
    this.health_.offline('closed');
  }

  /** Hands the staged outputs to the physics; `off` forces de-energised (power cut, watchdog). */
  private applyOutputs(off: boolean): void {
    const duty = off || !this.pump.value ? 0 : this.hasSpeed ? this.pumpSpeed.duty : 1;
    this.model.setPump(duty);
    for (const v of this.inlets) this.model.setInlet(v.zone, !off && v.out.value);
    for (const v of this.exhausts) this.model.setExhaust(v.zone, !off && v.out.value);
  }

  digitalOutput(channel: string): StagedDigitalOutput {
    const c = channel.trim();
    if (c === 'pump') return this.pump;
    const zone = this.zoneOf(c);
    const list = c.endsWith('.inlet') ? this.inlets : this.exhausts;
    const found = list.find((v) => v.zone === zone);
    if (found) return found.out;
    const out = new StagedDigitalOutput(`${this.id}:${c}`);
    list.push({ zone, out });
    return out;
  }

  pwmOutput(channel: string): StagedPwmOutput {
    if (channel.trim() !== 'pump-speed') throw noSuchKind(this.id, this.type, 'pwm-out');
    this.hasSpeed = true;
    return this.pumpSpeed;
  }

  pressureInput(channel: string): PressureInput {
    const zone = this.zoneOf(channel);
    const found = this.sensors.find((s) => s.zone === zone);
    if (found) return found.input;
    const input = new CalibratedPressureInput(`${this.id}:${channel.trim()}`);
    this.sensors.push({ zone, input });
    return input;
  }

  digitalInput(_channel: string): DigitalInput {
    throw noSuchKind(this.id, this.type, 'digital-in');
  }
}

export const simStation: DriverDefinition<SimStationConfig> = {
  type: 'sim-station',
  summary: 'the I/O of one station of the pneumatic simulator (pump, valves, sensors)',
  parseConfig: (raw, path) => checkSchema(ConfigSchema, raw, path),
  checkChannel: (kind, channel) => checkChannel(kind, channel),
  create: (id, config, ctx) => {
    const { world, power } = simServices(ctx.services, id);
    return new SimStationDevice(id, config, world, power, ctx);
  },
};
