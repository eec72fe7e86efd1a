/**
 * The controller on the simulator in virtual time: every station runs sessions back to back
 * (rotating through the presets for its garment), as the long-run test does, for a given span of
 * simulated time. Gives the virtual-time speed-up (simulated ms per wall ms) and the regulation
 * figures from the session reports (hold error, overshoot), which are deterministic for a seed.
 *
 * Time moves by plain assignment between ticks rather than through VirtualClock.advance(): the
 * simulated board never sleeps (its devices answer in microtasks), so the tick itself is all the
 * work there is, and that is what the speed-up should measure. The board is opened on a
 * VirtualClock as the test harness does.
 */
import { VirtualClock } from '../../gateway/clock.js';
import { loadBoard } from '../../gateway/board/load.js';
import { startBoard } from '../../gateway/board/runtime.js';
import { Controller } from '../../gateway/control-loop/controller.js';
import { presetById, presetsFor } from '../../gateway/control-loop/programs/presets.js';
import type { Logger } from '../../gateway/drivers/io.js';
import type { AlarmInfo, EventName, SessionReport } from '../../gateway/protocol.js';

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export interface VirtualRun {
  simulatedMs: number;
  wallMs: number;
  /** CPU time of this process during the run (user + system), ms: steadier than wall time on a shared machine. */
  cpuMs: number;
  /** Simulated time per wall-clock time. */
  speedup: number;
  /** Simulated time per CPU time: the speed-up the run would have on a core of its own. */
  cpuSpeedup: number;
  stations: number;
  ticks: number;
  sessions: number;
  alarms: AlarmInfo[];
  reports: SessionReport[];
  /** Mean |mean hold pressure − set| over every zone-cycle that held steadily (not pulse programs), mmHg. */
  holdErrorMmHg: number;
  /** Mean of (peak − set), clipped at 0, over every zone-cycle, mmHg. */
  overshootMmHg: number;
  /** Largest single overshoot seen, mmHg. */
  overshootMaxMmHg: number;
}

export interface VirtualOptions {
  /** Board profile name or path (default: the 4-station simulator). */
  profile?: string;
  simulatedMs: number;
  sessionMin?: number;
  /** Called every simulated minute with the simulated ms done, for progress and memory sampling. */
  onProgress?: (simulatedMs: number) => void;
  /** Keep the session reports in the result (the soak checks them as they come instead, so that
   * its memory figure is the controller's, not a growing list of reports). Default true. */
  keepReports?: boolean;
  /** Every controller event (frames included), with the virtual time it came at. */
  listen?: (event: EventName, data: unknown, atMs: number) => void;
}

export async function runVirtual(opts: VirtualOptions): Promise<VirtualRun> {
  const clock = new VirtualClock();
  const board = loadBoard(opts.profile ?? 'simulator');
  const p = startBoard(board, clock, quiet);
  let opened = false;
  void p.finally(() => (opened = true)).catch(() => {});
  while (!opened) await clock.advance(1);
  const running = await p;
  const ctrl = new Controller({
    clock,
    io: running.io,
    ...(running.sim ? { sim: running.sim } : {}),
    version: 'bench',
    epochNow: () => 1_800_000_000_000 + clock.now(),
  });
  const alarms: AlarmInfo[] = [];
  const reports: SessionReport[] = [];
  const listen = opts.listen;
  // Frames are built only for a caller that listens (the soak checks reports against them).
  ctrl.onEvent(
    (event, data) => {
      if (event === 'alarm-raised') alarms.push(data as AlarmInfo);
      else if (event === 'session-ended' && opts.keepReports !== false) reports.push(data as SessionReport);
      listen?.(event, data, clock.now());
    },
    { frames: listen !== undefined },
  );
  const sessionMin = opts.sessionMin ?? 20;
  const started = new Map<string, number>();
  const startIdle = async () => {
    for (const st of ctrl.stations) {
      if (st.state !== 'idle') continue;
      const list = presetsFor(st.io.spec.garment === 'arm' ? 'arm' : 'leg');
      // A preset above a station's ceiling is refused: take the next one, as staff would.
      for (let tries = 0; tries < list.length; tries++) {
        const n = started.get(st.id) ?? 0;
        started.set(st.id, n + 1);
        const ok = await ctrl
          .command('start', {
            stationId: st.id,
            sessionId: `${st.id}-${n}`,
            program: list[n % list.length]!,
            durationMin: sessionMin,
          })
          .then(
            () => true,
            () => false,
          );
        if (ok) break;
      }
    }
  };
  const period = ctrl.periodMs;
  const t0 = clock.now();
  const end = t0 + opts.simulatedMs;
  // The clock is moved by advanceTo only when something sleeps; otherwise by the tick period.
  let ticks = 0;
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  let nextStartCheck = t0;
  let nextProgress = t0;
  while (clock.now() < end) {
    if (clock.now() >= nextStartCheck) {
      await startIdle();
      nextStartCheck += 1000;
    }
    await ctrl.tick();
    ticks++;
    if (clock.pending > 0) await clock.advance(period);
    else (clock as unknown as { t: number }).t += period;
    if (opts.onProgress && clock.now() >= nextProgress) {
      opts.onProgress(clock.now() - t0);
      nextProgress += 60_000;
    }
  }
  const wallMs = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  // Sessions still running are stopped, so their reports count too (they end 'stopped').
  await ctrl.command('stop', { reason: 'end of the virtual run' });
  await running.io.closeAll();

  let holdSum = 0;
  let holdN = 0;
  let overSum = 0;
  let overN = 0;
  let overMax = 0;
  for (const r of reports) {
    // A pulse program holds at a fraction of its peak, which is what the report's set pressure
    // is: its hold is not regulation error. Overshoot (peak above set) counts for every mode.
    const steadyHold = presetById(r.programId)?.mode !== 'pulse';
    for (const z of r.zones) {
      if (z.setMmHg <= 0) continue;
      if (z.meanHoldMmHg !== null && steadyHold) {
        holdSum += Math.abs(z.meanHoldMmHg - z.setMmHg);
        holdN++;
      }
      const o = Math.max(0, z.peakMmHg - z.setMmHg);
      overSum += o;
      overN++;
      if (o > overMax) overMax = o;
    }
  }
  return {
    simulatedMs: opts.simulatedMs,
    wallMs,
    cpuMs,
    speedup: opts.simulatedMs / wallMs,
    cpuSpeedup: opts.simulatedMs / cpuMs,
    stations: ctrl.stations.length,
    ticks,
    sessions: [...started.values()].reduce((a, b) => a + b, 0),
    alarms,
    reports,
    holdErrorMmHg: holdN ? holdSum / holdN : 0,
    overshootMmHg: overN ? overSum / overN : 0,
    overshootMaxMmHg: overMax,
  };
}
