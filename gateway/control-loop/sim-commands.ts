/**
 * The simulator's test hooks, on simulated boards only: inject and clear faults (sim/faults.ts),
 * and freeze the controller's event loop. Refused on real hardware.
 */
import type { Simulation } from '../sim/from-board.js';
import { isFaultKind, SimFaultError, unknownFaultKind, type SimFault } from '../sim/faults.js';
import { CommandError, type Commands } from '../protocol.js';
import type { ControllerContext } from './controller-context.js';
import { findStation } from './station-record.js';

/** `sim-inject` (inject) or `sim-clear`: returns the station's active faults afterwards. */
export function simFault(
  c: ControllerContext,
  inject: boolean,
  a: Commands['sim-inject'][0] | Commands['sim-clear'][0],
): Commands['sim-inject'][1] {
  const sim = c.opts.sim;
  if (!sim) throw new CommandError('refused', 'fault injection exists only on a simulated board');
  const st = findStation(c.records, a.stationId);
  // The schema makes it an integer; only the board knows how many zones there are.
  const zone = 'zone' in a ? a.zone : undefined;
  if (zone !== undefined && (zone < 1 || zone > st.io.zones.length)) {
    throw new CommandError('bad-request', `zone must be 1..${st.io.zones.length}`);
  }
  try {
    if (inject) {
      if (!isFaultKind(a.kind)) throw unknownFaultKind(a.kind);
      const fault = { kind: a.kind, ...(zone !== undefined ? { zone: zone - 1 } : {}) } as SimFault;
      sim.inject(st.id, fault);
    } else {
      if (a.kind !== undefined && !isFaultKind(a.kind)) throw unknownFaultKind(a.kind);
      sim.clear(st.id, a.kind as Parameters<Simulation['clear']>[1]);
    }
  } catch (e) {
    if (e instanceof SimFaultError) throw new CommandError('bad-request', e.message);
    throw e;
  }
  return {
    active: sim.world
      .faults(st.id)
      .map((f) => ('zone' in f && f.zone !== undefined ? `${f.kind}@${f.zone + 1}` : f.kind)),
  };
}

/**
 * Blocks the event loop for `ms`, as a starved process would be: the tick loop runs late by about
 * that much and the late-tick rule judges the gap. The schema bounds `ms` (up to 2 s, above the
 * watchdog's 200 ms cut).
 */
export function simFreeze(c: ControllerContext, ms: number): Commands['sim-freeze'][1] {
  if (!c.opts.sim) throw new CommandError('refused', 'freezing the loop exists only on a simulated board');
  const from = performance.now();
  while (performance.now() - from < ms) {
    // Busy on purpose: the point is to hold the event loop.
  }
  return { frozeMs: Math.round(performance.now() - from) };
}
