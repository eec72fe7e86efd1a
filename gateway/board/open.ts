/**
 * Turns a validated Board into live devices and resolved channels, with the safe state written
 * before anything else happens. A device that fails to open (a Modbus module switched off, a chip
 * missing from the bus) does not stop the others: it stays offline, its health says why, and the
 * stations wired to it cannot start (Moonraker's rule: an optional part degrades, it does not
 * crash everything).
 */
import type { Board, ChannelRef, StationSpec } from './load.js';
import type {
  DeviceHealth,
  DigitalInput,
  DigitalOutput,
  DriverContext,
  IoDevice,
  PressureInput,
  PwmOutput,
} from '../drivers/io.js';

/**
 * Share of a tick period the tick waits for remote (Modbus) devices. Remote devices run in real
 * time with their own timeouts, so this wait is on the wall clock, not the injected one.
 */
export const REMOTE_WAIT_FRACTION = 0.5;

export interface ZoneIo {
  inlet: DigitalOutput;
  exhaust: DigitalOutput;
  sensor: PressureInput;
}

export interface StationIo {
  spec: StationSpec;
  pumpEnable: DigitalOutput;
  pumpPwm?: PwmOutput;
  zones: ZoneIo[];
  /** The devices this station depends on; any of them offline means the station cannot run. */
  devices: IoDevice[];
}

export interface BoardIo {
  board: Board;
  devices: IoDevice[];
  stations: StationIo[];
  heartbeat?: DigitalOutput;
  estop?: DigitalInput;
  /** One batched read of every device, in parallel (they sit on different chips or links). */
  sampleAll(): Promise<void>;
  flushAll(): Promise<void>;
  /** Every output off and written, on every device. */
  safeAll(): Promise<void>;
  closeAll(): Promise<void>;
  health(): Record<string, DeviceHealth>;
}

export async function openBoard(board: Board, ctx: DriverContext): Promise<BoardIo> {
  const devices = new Map<string, IoDevice>();
  for (const d of board.devices) devices.set(d.id, d.definition.create(d.id, d.config, ctx));
  const dev = (r: ChannelRef): IoDevice => {
    const d = devices.get(r.device);
    if (!d) throw new Error(`${r.path}: device ${r.device} missing after validation`);
    return d;
  };

  // Channel objects are resolved before open() so that open() knows every channel in use
  // (drivers configure only those) and writes them off first.
  const stations: StationIo[] = board.stations.map((s) => ({
    spec: s,
    pumpEnable: dev(s.pump.enable).digitalOutput(s.pump.enable.channel),
    ...(s.pump.pwm ? { pumpPwm: dev(s.pump.pwm).pwmOutput(s.pump.pwm.channel) } : {}),
    zones: s.zones.map((z) => ({
      inlet: dev(z.inlet).digitalOutput(z.inlet.channel),
      exhaust: dev(z.exhaust).digitalOutput(z.exhaust.channel),
      sensor: dev(z.sensor).pressureInput(z.sensor.channel),
    })),
    devices: s.devices.map((id) => devices.get(id)).filter((d): d is IoDevice => d !== undefined),
  }));
  const heartbeat = board.heartbeat ? dev(board.heartbeat).digitalOutput(board.heartbeat.channel) : undefined;
  const estop = board.estop ? dev(board.estop).digitalInput(board.estop.channel) : undefined;

  const all = [...devices.values()];
  // One call at a time per device: a remote device still busy from an earlier tick is not asked
  // again, and the tick waits for remote devices at most REMOTE_WAIT_FRACTION of a period.
  const budgetMs = (1000 / board.loopRateHz) * REMOTE_WAIT_FRACTION;
  const anyRemote = all.some((d) => d.remote === true);
  const run = async (inflight: Map<IoDevice, Promise<void>>, op: (d: IoDevice) => Promise<void>) => {
    if (!anyRemote) {
      // The common case (local chips, the simulator), twice a tick: no closures, no maps.
      const pending = new Array<Promise<void>>(all.length);
      for (let i = 0; i < all.length; i++) pending[i] = op(all[i] as IoDevice);
      await Promise.all(pending);
      return;
    }
    const local: Promise<void>[] = [];
    const remote: Promise<void>[] = [];
    for (const d of all) {
      let p = inflight.get(d);
      if (!p) {
        p = op(d).finally(() => inflight.delete(d));
        inflight.set(d, p);
      }
      (d.remote ? remote : local).push(p);
    }
    await Promise.all(local);
    if (remote.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(remote),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, budgetMs))),
    ]);
    clearTimeout(timer);
  };
  const sample = (d: IoDevice) => d.sample();
  const flush = (d: IoDevice) => d.flush();
  const sampling = new Map<IoDevice, Promise<void>>();
  const flushing = new Map<IoDevice, Promise<void>>();
  await Promise.all(
    all.map(async (d) => {
      try {
        await d.open();
      } catch (e) {
        ctx.log.warn(`device ${d.id} (${d.type}) did not open: ${(e as Error).message}`);
      }
    }),
  );
  await Promise.all(all.map((d) => d.safe()));

  return {
    board,
    devices: all,
    stations,
    ...(heartbeat ? { heartbeat } : {}),
    ...(estop ? { estop } : {}),
    sampleAll: () => run(sampling, sample),
    flushAll: () => run(flushing, flush),
    safeAll: async () => {
      await Promise.all(all.map((d) => d.safe()));
    },
    closeAll: async () => {
      await Promise.all(all.map((d) => d.safe()));
      await Promise.all(all.map((d) => d.close()));
    },
    health: () => {
      // Every tick reads it: a plain loop, not fromEntries over a mapped array of pairs.
      const out: Record<string, DeviceHealth> = {};
      for (const d of all) out[d.id] = d.health();
      return out;
    },
  };
}
