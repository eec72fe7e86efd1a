/**
 * The simulated control panel: the emergency-stop button (the `estop` fault presses it) and the
 * heartbeat output that keeps the simulated hardware watchdog from cutting pump and valve power.
 *
 * Channels: digital-in `estop` (true = pressed), digital-out `heartbeat`.
 */
import Type, { type Static } from 'typebox';
import { checkSchema } from '../config-check.js';
import { LIMITS } from '../limits.js';
import { simServices, type SimPower } from '../sim/power.js';
import type { SimWorld } from '../sim/world.js';
import { DebouncedInput, HealthTracker, StagedDigitalOutput, noSuchKind } from './channels.js';
import {
  type ChannelKind,
  type DeviceHealth,
  type DigitalOutput,
  type DriverContext,
  type DriverDefinition,
  type IoDevice,
  type PressureInput,
  type PwmOutput,
} from './io.js';

const ConfigSchema = Type.Object(
  {
    debounceMs: Type.Optional(
      Type.Number({ minimum: LIMITS.debounceMs.min, maximum: LIMITS.debounceMs.max }),
    ),
  },
  { additionalProperties: false },
);
export type SimPanelConfig = Static<typeof ConfigSchema>;

function checkChannel(kind: ChannelKind, channel: string): string | undefined {
  const c = channel.trim();
  if (kind === 'digital-in') return c === 'estop' ? undefined : 'the sim-panel input is estop';
  if (kind === 'digital-out') return c === 'heartbeat' ? undefined : 'the sim-panel output is heartbeat';
  return `a sim-panel has no ${kind} channels`;
}

class SimPanelDevice implements IoDevice {
  readonly type = 'sim-panel';
  private readonly health_: HealthTracker;
  private readonly estop: DebouncedInput;
  private readonly heartbeat: StagedDigitalOutput;

  constructor(
    readonly id: string,
    config: SimPanelConfig,
    private readonly world: SimWorld,
    private readonly power: SimPower,
    private readonly ctx: DriverContext,
  ) {
    this.health_ = new HealthTracker(ctx.clock);
    this.estop = new DebouncedInput(`${id}:estop`, config.debounceMs ?? LIMITS.debounceMs.default);
    this.heartbeat = new StagedDigitalOutput(`${id}:heartbeat`);
  }

  health(): DeviceHealth {
    return this.health_.get();
  }

  async open(): Promise<void> {
    this.health_.ok();
  }

  async sample(): Promise<void> {
    const now = this.ctx.clock.now();
    this.power.advance(now);
    this.estop.update(this.world.estopPressed, now);
  }

  async flush(): Promise<void> {
    this.power.heartbeat(this.heartbeat.value, this.ctx.clock.now());
  }

  async safe(): Promise<void> {
    // The heartbeat is left as it is: stopping it is the watchdog's business, not the safe state's.
  }

  async close(): Promise<void> {
    this.health_.offline('closed');
  }

  digitalInput(channel: string): DebouncedInput {
    if (channel.trim() !== 'estop') throw noSuchKind(this.id, this.type, 'digital-in');
    return this.estop;
  }

  digitalOutput(channel: string): DigitalOutput {
    if (channel.trim() !== 'heartbeat') throw noSuchKind(this.id, this.type, 'digital-out');
    this.power.arm(this.ctx.clock.now());
    return this.heartbeat;
  }

  pwmOutput(_channel: string): PwmOutput {
    throw noSuchKind(this.id, this.type, 'pwm-out');
  }

  pressureInput(_channel: string): PressureInput {
    throw noSuchKind(this.id, this.type, 'pressure-in');
  }
}

export const simPanel: DriverDefinition<SimPanelConfig> = {
  type: 'sim-panel',
  summary: 'the simulated emergency-stop button and hardware watchdog (heartbeat)',
  parseConfig: (raw, path) => checkSchema(ConfigSchema, raw, path),
  checkChannel: (kind, channel) => checkChannel(kind, channel),
  create: (id, config, ctx) => {
    const { world, power } = simServices(ctx.services, id);
    return new SimPanelDevice(id, config, world, power, ctx);
  },
};
