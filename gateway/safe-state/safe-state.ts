/**
 * The last line of defence: drive every output a board profile names to the safe state (pumps
 * off, PWM duty 0, inlets shut, exhausts open: every output de-energised, see drivers/io.ts),
 * directly through the drivers, with no controller, no web stack and no simulation.
 *
 * systemd runs it (through scripts/safe-state.mjs) as `ExecStopPost=` after every exit of the
 * gateway, SIGKILL and watchdog aborts included, when nothing else is left to write the outputs.
 * So it must be robust more than clever:
 *
 * - one device that fails (an I2C chip that NACKs, a Modbus module that is off) never stops the
 *   others: every device is handled on its own, in parallel, and each one has its own time budget;
 * - the whole run is bounded (DEVICE_BUDGET_MS per device, all in parallel), because systemd waits
 *   for it before restarting the gateway;
 * - it reports per device, and the caller exits non-zero when any device could not be made safe.
 *
 * Only output channels are claimed: a sensor-only chip (ADS1115, MPRLS, ABP) is not opened at all,
 * and a Modbus module's input registers are never read. Simulated parts (sim-station, sim-panel,
 * chips on a simulated I2C bus) have nothing physical behind them and are skipped, unless a test
 * hands in the simulated buses to check the chip drivers' safe() against register models.
 */
import type { Clock } from '../clock.js';
import type { Board, ChannelRef } from '../board/load.js';
import { openRealI2c } from '../drivers/i2c-bus.js';
import type { DriverContext, I2cOpener, IoDevice, Logger } from '../drivers/io.js';
import { SharedLinks } from '../drivers/shared-links.js';

/**
 * Time one device gets to open, write its safe state and close. A Modbus TCP module that is
 * unreachable costs CONNECT_TIMEOUT_MS (1 s) plus one answer timeout per write (200 ms by default);
 * 4 s covers that with room for a slow DNS or mDNS name, and keeps the whole run (devices in
 * parallel) well inside the unit's TimeoutStopSec.
 */
export const DEVICE_BUDGET_MS = 4000;

/** Device types that exist only inside the simulator (they need its world to do anything). */
const SIMULATED_TYPES = new Set(['sim-station', 'sim-panel']);

/** The same rule as gateway/sim/from-board.ts: an I2C bus named "sim…" is simulated. */
function onSimulatedBus(config: unknown): boolean {
  const bus = (config as { bus?: unknown } | null)?.bus;
  return typeof bus === 'string' && bus.startsWith('sim');
}

export interface OutputChannel {
  kind: 'digital-out' | 'pwm-out';
  channel: string;
  /** Where the board file names it, e.g. `stations[0].zones[1].exhaust`. */
  path: string;
}

export type DeviceResult = 'safe' | 'failed' | 'skipped';

export interface DeviceOutcome {
  id: string;
  type: string;
  result: DeviceResult;
  /** The output channels this run drove (or would have driven), as `device:channel`. */
  outputs: string[];
  /** Why it failed or was skipped; for a safe device, what was written. */
  detail: string;
  ms: number;
}

export interface SafeStateReport {
  board: string;
  source: string;
  devices: DeviceOutcome[];
  /** True when no device failed (skipped devices do not count against it). */
  ok: boolean;
  /** True when the board has no physical output at all (the simulator profiles). */
  nothingPhysical: boolean;
}

export interface SafeStateOptions {
  clock: Clock;
  log: Logger;
  /** How to open hardware I2C buses; default the real /dev/i2c-N through the i2c-bus package. */
  openI2c?: I2cOpener;
  /**
   * Tests only: the simulated I2C buses (gateway/sim), so chips on them are driven instead of
   * skipped. sim-station and sim-panel devices are skipped whatever this says.
   */
  simulatedI2c?: I2cOpener;
  deviceBudgetMs?: number;
}

/** Every output channel the board wires (pumps, PWM, valves, heartbeat), grouped by device id. */
export function outputsByDevice(board: Board): Map<string, OutputChannel[]> {
  const byDevice = new Map<string, OutputChannel[]>();
  const add = (ref: ChannelRef | undefined, kind: OutputChannel['kind']) => {
    if (!ref) return;
    const list = byDevice.get(ref.device) ?? [];
    if (!list.some((o) => o.channel.trim() === ref.channel.trim())) {
      list.push({ kind, channel: ref.channel, path: ref.path });
    }
    byDevice.set(ref.device, list);
  };
  for (const s of board.stations) {
    add(s.pump.enable, 'digital-out');
    add(s.pump.pwm, 'pwm-out');
    for (const z of s.zones) {
      add(z.inlet, 'digital-out');
      add(z.exhaust, 'digital-out');
    }
  }
  add(board.heartbeat, 'digital-out');
  return byDevice;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Resolves with `work`'s value, or rejects after `ms` with a message naming what timed out. */
async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens one device with only its output channels claimed, writes the safe state, and closes it.
 * GPIO lines are left exported and driven at their safe level rather than released: releasing a
 * line on the Pi's pin controller turns it back into an input, and a floating driver input is a
 * weaker safe state than a pin held at its de-energised level (the controller adopts the exported
 * lines when it starts again).
 */
async function driveDevice(
  device: IoDevice,
  outputs: OutputChannel[],
  budgetMs: number,
): Promise<{ result: DeviceResult; detail: string }> {
  for (const o of outputs) {
    if (o.kind === 'pwm-out') device.pwmOutput(o.channel);
    else device.digitalOutput(o.channel);
  }
  let openError: string | undefined;
  try {
    await within(budgetMs, 'opening', device.open());
  } catch (e) {
    openError = message(e);
  }
  // safe() is tried even when open() failed: a Modbus link may have come up meanwhile, and a
  // driver whose open() half-worked still writes what it can. Health says whether it got through.
  try {
    await within(budgetMs, 'writing the safe state', device.safe());
  } catch (e) {
    return { result: 'failed', detail: openError ?? message(e) };
  }
  const health = device.health();
  if (device.type !== 'gpio') {
    await within(Math.min(1000, budgetMs), 'closing', device.close()).catch(() => undefined);
  }
  if (openError === undefined && health.state === 'ok') {
    return { result: 'safe', detail: `${outputs.length} output(s) de-energised` };
  }
  // open()'s error names the device and the cause; health has the words for a failed write.
  return { result: 'failed', detail: openError ?? health.message ?? `device ${health.state}` };
}

/** Drives every output of `board` to the safe state. Never rejects; see the report. */
export async function driveSafeState(board: Board, options: SafeStateOptions): Promise<SafeStateReport> {
  const budgetMs = options.deviceBudgetMs ?? DEVICE_BUDGET_MS;
  const realI2c = options.openI2c ?? openRealI2c;
  const simI2c = options.simulatedI2c;
  const openI2c: I2cOpener = (bus) =>
    typeof bus === 'string' && bus.startsWith('sim') && simI2c ? simI2c(bus) : realI2c(bus);
  const ctx: DriverContext = {
    clock: options.clock,
    log: options.log,
    openI2c,
    services: new Map(),
    links: new SharedLinks(),
  };
  const outputs = outputsByDevice(board);

  const outcomes = await Promise.all(
    board.devices.map(async (spec): Promise<DeviceOutcome> => {
      const mine = outputs.get(spec.id) ?? [];
      const base = { id: spec.id, type: spec.type, outputs: mine.map((o) => `${spec.id}:${o.channel}`) };
      const started = performance.now();
      const done = (result: DeviceResult, detail: string): DeviceOutcome => ({
        ...base,
        result,
        detail,
        ms: Math.round(performance.now() - started),
      });
      if (SIMULATED_TYPES.has(spec.type) || (onSimulatedBus(spec.config) && !simI2c)) {
        return done('skipped', 'simulated: nothing physical to drive');
      }
      if (mine.length === 0) return done('skipped', 'no outputs in this profile (inputs only)');
      try {
        const device = spec.definition.create(spec.id, spec.config, ctx);
        const r = await driveDevice(device, mine, budgetMs);
        return done(r.result, r.detail);
      } catch (e) {
        return done('failed', message(e));
      }
    }),
  );
  return {
    board: board.name,
    source: board.source,
    devices: outcomes,
    ok: outcomes.every((o) => o.result !== 'failed'),
    nothingPhysical: outcomes.every((o) => o.result === 'skipped' && o.detail.startsWith('simulated')),
  };
}

/** One line per device, for the journal: what was made safe, what failed and why. */
export function formatReport(r: SafeStateReport): string[] {
  const lines = r.devices.map((d) => {
    const label = { safe: 'safe   ', failed: 'FAILED ', skipped: 'skipped' }[d.result];
    const outs = d.outputs.length > 0 ? ` [${d.outputs.join(' ')}]` : '';
    return `${label} ${d.id} (${d.type}, ${d.ms} ms): ${d.detail}${d.result === 'skipped' ? '' : outs}`;
  });
  const failed = r.devices.filter((d) => d.result === 'failed').map((d) => d.id);
  if (r.nothingPhysical) {
    lines.push(`board "${r.board}" is simulated: nothing physical to drive`);
  } else if (failed.length > 0) {
    lines.push(
      `NOT SAFE: ${failed.join(', ')} could not be driven to the safe state; check power and wiring ` +
        `of those devices (the hardware relief valves and normally-open exhausts still apply)`,
    );
  } else {
    lines.push(`every output of board "${r.board}" is in the safe state`);
  }
  return lines;
}
