/**
 * One load phase of the bench: the system under test (the two real processes, or the one-process
 * baseline) on the bench board, with the load process and the trip driver running against it for
 * a bounded time, and what was measured.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControllerClient } from '../../gateway/ipc/client.js';
import type { LatenessLine, TripTraceLine } from '../../gateway/control-loop/trip-trace.js';
import { PACKAGE_ROOT } from '../../gateway/paths.js';
import type { AlarmInfo } from '../../gateway/protocol.js';
import { readyBoard } from '../../gateway/server/test-support/harness.js';
import type { LoadConfig, LoadResult } from '../load.js';
import { benchStationIds, writeBenchBoard } from './board.js';
import type { Runner } from './compile.js';
import { call, sleep } from '../../test/support/http.js';
import { ProcMonitor } from './procstat.js';
import { spawnBenchController, spawnListening, type Proc } from './procs.js';
import { TripDriver, type TripCounts } from './trips.js';

export const BENCH_TOKEN = 'bench-admin-token-0123456789';

export interface PhaseOptions {
  mode: 'two-process' | 'baseline';
  /** How long the load runs at least. */
  durationMs: number;
  /** Keep the load on until this many over-pressures were traced (bounded by maxMs). */
  tripTarget?: number;
  maxMs: number;
  clients: number;
  rps: number;
  log: (m: string) => void;
  runner: Runner;
}

export interface PhaseResult {
  mode: PhaseOptions['mode'];
  loadS: number;
  lateness: LatenessLine | undefined;
  trips: TripTraceLine[];
  tripCounts: TripCounts;
  load: LoadResult;
  procs: ReturnType<ProcMonitor['stop']>;
  /** Alarms raised while the load ran that the trip driver did not cause (by code). */
  otherAlarms: Record<string, number>;
  /** One reason of each such alarm code, in the controller's words. */
  otherAlarmReasons: Record<string, string>;
  exits: Record<string, string>;
}

async function waitLinked(base: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const h = await call<{ controller?: string }>(base, '/api/health');
      if (h.body.controller === 'connected') return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`${base}: controller link not up within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export async function runPhase(o: PhaseOptions): Promise<PhaseResult> {
  const dataDir = mkdtempSync(join(tmpdir(), `presso-bench-${o.mode}-`));
  const board = writeBenchBoard(dataDir);
  const trace = join(dataDir, 'trace.jsonl');
  const stations = benchStationIds();
  const env = {
    PRESSO_DATA_DIR: dataDir,
    PRESSO_ADMIN_TOKEN: BENCH_TOKEN,
    // The load process opens every client from 127.0.0.1: the live connection caps are raised to fit.
    PRESSO_MAX_SOCKETS_PER_ADDRESS: String(o.clients + 10),
    PRESSO_MAX_SOCKETS: String(o.clients + 10),
  };
  const procs: Record<string, Proc> = {};
  const client = new ControllerClient({ log: { info: () => {}, warn: () => {}, error: () => {} } });
  try {
    let base: string;
    let tracedPid: number;
    if (o.mode === 'two-process') {
      const controller = spawnBenchController(dataDir, board, { PRESSO_BENCH_TRACE: trace }, o.runner);
      procs.controller = controller;
      const web = await spawnListening('gateway/server/main.ts', env, o.runner);
      procs.web = web;
      base = web.base;
      tracedPid = controller.pid;
    } else {
      const one = await spawnListening(
        'bench/baseline-process.ts',
        {
          ...env,
          PRESSO_BOARD: board,
          PRESSO_BENCH_TRACE: trace,
        },
        o.runner,
      );
      procs.baseline = one;
      base = one.base;
      tracedPid = one.pid;
    }
    await waitLinked(base);
    await client.connect(join(dataDir, 'controller.sock'), { retry: true });
    await readyBoard(client);
    o.log(`${o.mode}: up at ${base}; warming up`);
    await sleep(2000);
    await readyBoard(client);

    const alarms: AlarmInfo[] = [];
    const offAlarms = client.on('alarm-raised', (a) => alarms.push(a));
    const monitor = new ProcMonitor(Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, p.pid])));
    const cfg: LoadConfig = {
      base,
      token: BENCH_TOKEN,
      stations,
      clients: o.clients,
      rps: o.rps,
      maxMs: o.maxMs + 30_000,
    };
    const load = fork(join(PACKAGE_ROOT, 'bench/load.ts'), [JSON.stringify(cfg)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const loadResult = new Promise<LoadResult>((resolve, reject) => {
      load.once('message', (m) => resolve(m as LoadResult));
      load.once('exit', (code) => reject(new Error(`load process exited (${code}) without figures`)));
    });
    // The load process needs a moment to connect its clients before the window opens.
    await sleep(1500);
    process.kill(tracedPid, 'SIGUSR2');
    monitor.start(1000);
    // Paced to bring the wanted count in about 90 % of the window.
    const periodMs = o.tripTarget ? (0.9 * o.durationMs * stations.length) / o.tripTarget : 500;
    const trips = new TripDriver(client, stations, o.tripTarget, periodMs);
    // --trips 0 measures the load alone (for diagnosis).
    if (o.tripTarget !== 0) trips.start();
    const t0 = Date.now();
    let lastLog = t0;
    while (Date.now() - t0 < o.maxMs) {
      const elapsed = Date.now() - t0;
      if (elapsed >= o.durationMs && (o.tripTarget === undefined || trips.done)) break;
      if (Date.now() - lastLog >= 10_000) {
        lastLog = Date.now();
        o.log(`${o.mode}: ${Math.round(elapsed / 1000)} s, ${trips.counts.overPressure} over-pressures`);
      }
      await sleep(200);
    }
    const loadS = (Date.now() - t0) / 1000;
    process.kill(tracedPid, 'SIGUSR2');
    const procFigures = monitor.stop();
    load.send('stop');
    const loadFigures = await loadResult;
    await trips.stop();
    offAlarms();

    const otherAlarms: Record<string, number> = {};
    const otherAlarmReasons: Record<string, string> = {};
    for (const a of alarms) {
      if (a.code === 'over-pressure' && a.zone === 1) continue;
      otherAlarms[a.code] = (otherAlarms[a.code] ?? 0) + 1;
      otherAlarmReasons[a.code] ??=
        `${a.stationId ?? 'board'}${a.zone ? ` zone ${a.zone}` : ''}: ${a.reason}`;
    }
    await client.close();
    const exits: Record<string, string> = {};
    for (const [name, p] of Object.entries(procs)) {
      const early = p.child.exitCode ?? p.child.signalCode;
      exits[name] = early === null ? 'ran to the end' : `exited early (${String(early)})`;
      await p.kill('SIGTERM');
    }
    const lines = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as LatenessLine | TripTraceLine);
    const lateness = lines.filter((l): l is LatenessLine => l.kind === 'lateness').at(-1);
    // Every venting trip of zone 1 whose crossing the physics saw: mostly 'over-pressure'; when
    // the loop was late the manifold can pass the sensor's plausible range (300 mmHg) first and
    // 'sensor-implausible' vents it. Leaving those out would hide the slowest trips.
    const tripLines = lines.filter(
      (l): l is TripTraceLine => l.kind === 'trip' && l.zone === 1 && l.crossedAtMs !== null,
    );
    return {
      mode: o.mode,
      loadS,
      lateness,
      trips: tripLines,
      tripCounts: trips.counts,
      load: loadFigures,
      procs: procFigures,
      otherAlarms,
      otherAlarmReasons,
      exits,
    };
  } finally {
    await client.close().catch(() => undefined);
    for (const p of Object.values(procs)) await p.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}
