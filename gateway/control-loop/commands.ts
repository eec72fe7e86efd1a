/**
 * The controller's commands (protocol.ts `Commands`), one handler each. Every argument is checked
 * against the command's schema first (gateway/ipc/schemas.ts, the protocol's one definition);
 * the handlers check only what needs the board (station ids, zone counts). A refused command
 * throws CommandError with a reason and changes nothing. Commands change station state; outputs
 * are staged only by the tick, except STOP's vent, which is written at once.
 */
import { LIMITS } from '../limits.js';
import {
  CommandError,
  type AlarmInfo,
  type CommandName,
  type Commands,
  type ControllerInfo,
  type MaintenanceCounters,
} from '../protocol.js';
import { validateCommand } from '../ipc/validate.js';
import type { ControllerContext } from './controller-context.js';
import { allFrames, frameOf } from './frames.js';
import { simFault, simFreeze } from './sim-commands.js';
import type { Station } from './station.js';
import { findRecord, findStation } from './station-record.js';

/** What the handlers need beyond the shared parts: the controller's own reports. */
export interface CommandContext extends ControllerContext {
  info(): ControllerInfo;
  counterReport(): MaintenanceCounters[];
}

type Handler<K extends CommandName> = (
  c: CommandContext,
  args: Commands[K][0],
  nowMs: number,
) => Commands[K][1] | Promise<Commands[K][1]>;

/** What every start (a session or a self-test) is checked against besides the station's own state. */
function readiness(c: CommandContext, st: Station): { latched: boolean; linkOk: boolean } {
  const health = c.opts.io.health();
  return {
    latched: c.alarms.latched(st.id) || c.alarms.latched(null),
    linkOk: st.io.devices.every((d) => health[d.id]?.state !== 'offline'),
  };
}

function acknowledge(c: CommandContext, a: Commands['acknowledge'][0]): AlarmInfo[] {
  if (a.stationId !== undefined) findStation(c.records, a.stationId);
  const filter = {
    ...(a.stationId !== undefined ? { stationId: a.stationId } : {}),
    ...(a.alarmId !== undefined ? { alarmId: a.alarmId } : {}),
  };
  const { cleared, refused } = c.alarms.acknowledge(filter);
  for (const x of cleared) c.events.emit('alarm-cleared', x);
  for (const st of c.stations) {
    if (st.state === 'fault' && !c.alarms.latched(st.id) && !c.alarms.latched(null)) st.clearFault();
  }
  if (cleared.length === 0 && refused.length > 0) {
    throw new CommandError(
      'refused',
      `cannot acknowledge while the condition is still present: ${refused.map((r) => r.reason).join(' / ')}`,
    );
  }
  return cleared;
}

const HANDLERS: { [K in CommandName]: Handler<K> } = {
  hello: (c) => c.info(),
  state: (c, a) =>
    a.stationId === undefined ? allFrames(c) : [frameOf(c, findStation(c.records, a.stationId))],
  config: (c) => ({ board: c.opts.io.board, limits: LIMITS }),
  start: (c, a, now) => {
    const rec = findRecord(c.records, a.stationId);
    const st = rec.station;
    st.start(a, now, readiness(c, st));
    rec.supervisor.sessionStarted();
    c.events.emit('session-started', { stationId: st.id, sessionId: a.sessionId });
    return frameOf(c, st);
  },
  pause: (c, a, now) => {
    const st = findStation(c.records, a.stationId);
    st.pause(now);
    return frameOf(c, st);
  },
  resume: (c, a, now) => {
    const st = findStation(c.records, a.stationId);
    st.resume(now);
    return frameOf(c, st);
  },
  adjust: (c, a, now) => {
    const st = findStation(c.records, a.stationId);
    st.adjust(a, now);
    return frameOf(c, st);
  },
  stop: async (c, a, now) => {
    const targets = a.stationId === undefined ? c.stations : [findStation(c.records, a.stationId)];
    const reason = a.reason ? a.reason.slice(0, 200) : 'stopped';
    for (const st of targets) {
      const report = st.stop(now, reason);
      st.stageSafe();
      if (report) c.events.emit('session-ended', report);
    }
    // Stop does not wait for the next tick: the vent is written now.
    await c.opts.io.flushAll();
    const ids = new Set(targets.map((s) => s.id));
    return allFrames(c).filter((f) => ids.has(f.id));
  },
  acknowledge: (c, a) => acknowledge(c, a),
  alarms: (c) => c.alarms.all(),
  counters: (c) => c.counterReport(),
  'set-zero-offsets': (c, a) => {
    const st = findStation(c.records, a.stationId);
    // The schema bounds each offset; only the board knows how many zones there are.
    if (a.offsetsMmHg.length !== st.io.zones.length) {
      throw new CommandError(
        'bad-request',
        `offsetsMmHg must list ${st.io.zones.length} numbers within ±${LIMITS.zeroOffsetMaxMmHg.default} mmHg, one per zone`,
      );
    }
    st.io.zones.forEach((z, i) => z.sensor.setZeroOffset(a.offsetsMmHg[i] as number));
    return { stationId: st.id };
  },
  'sim-inject': (c, a) => simFault(c, true, a),
  'sim-clear': (c, a) => simFault(c, false, a),
  'sim-freeze': (c, a) => simFreeze(c, a.ms),
  'self-test': (c, a, now) => {
    const st = findStation(c.records, a.stationId);
    return st.startSelfTest(a.kind, now, readiness(c, st));
  },
};

/** Runs a command from a client. Throws CommandError with a reason; a refused command changes nothing. */
export async function runCommand<K extends CommandName>(
  c: CommandContext,
  cmd: K,
  args: Commands[K][0],
): Promise<Commands[K][1]> {
  const a = validateCommand(cmd, args ?? {});
  const handler = HANDLERS[cmd] as Handler<K> | undefined;
  if (!handler) throw new CommandError('unknown-command', `unknown command "${String(cmd)}"`);
  return handler(c, a, c.opts.clock.now());
}
