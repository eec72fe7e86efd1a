/**
 * The simulated pump and valve power supply, and how a simulated device finds it and the world in
 * its driver context. Kept apart from the board wiring (from-board.ts) so the sim-station and
 * sim-panel drivers need nothing that reads a board profile.
 */
import { ConfigError } from '../config-error.js';
import { LIMITS } from '../limits.js';
import { SimWorld } from './world.js';

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

const WORLD = 'sim-world';
const POWER = 'sim-power';

/** The driver-context services (DriverContext.services) that carry a simulation's world and power. */
export function simServiceMap(world: SimWorld, power: SimPower): Map<string, unknown> {
  return new Map<string, unknown>([
    [WORLD, world],
    [POWER, power],
  ]);
}

/** The simulated world and power supply a sim-station or sim-panel device needs from its context. */
export function simServices(
  services: ReadonlyMap<string, unknown>,
  deviceId: string,
): { world: SimWorld; power: SimPower } {
  const world = services.get(WORLD);
  const power = services.get(POWER);
  if (!(world instanceof SimWorld) || !(power instanceof SimPower)) {
    throw new ConfigError(`devices.${deviceId}`, 'no simulated world: the board has no simulator');
  }
  return { world, power };
}
