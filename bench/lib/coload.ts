/**
 * The co-load bench (`npm run bench -- --coload`): does the control loop keep its deadline, and do
 * the sessions keep running, when the machine is busy with what a real site runs next to it?
 *
 * The compiled gateway (controller and web process, as `npm start` runs them) on the default
 * 4-station simulator board with four sessions running, and on the same machine for the window:
 * two CPU-bound processes, one process writing 64 MB files with fsync in a loop, and Debian's
 * Chromium (playwright-core) started every 5 seconds to open the staff board and the support page,
 * as a kiosk browser on the Pi's touchscreen would.
 *
 * Measured: alarms by code, sessions still running at the end, tick lateness p50/p99/max over
 * the window (the controller's own trace, PRESSO_BENCH_TRACE), the late ticks of the late-tick
 * rule with the controller's own account of each gap (run-queue delay, on-CPU time, GC, page
 * faults: lateness-cause.ts), and around it the controller's run-queue delay and page faults from
 * /proc/PID/schedstat and /proc/PID/stat and the machine's pressure stall information
 * (/proc/pressure/*). `setting` chooses how the controller is scheduled (docs/benchmarks.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, ensureDashboardBuilt, VIEWPORT } from '../../dashboard/e2e/gateway.js';
import type { LatenessLine } from '../../gateway/control-loop/trip-trace.js';
import { ControllerClient } from '../../gateway/ipc/client.js';
import type { AlarmInfo, LoopLate } from '../../gateway/protocol.js';
import { readyBoard } from '../../gateway/server/test-support/harness.js';
import type { Runner } from './compile.js';
import { call, sleep } from '../../test/support/http.js';
import { spawnBenchController, spawnListening, type Proc } from './procs.js';
import { round } from './stats.js';

export const COLOAD_TOKEN = 'coload-admin-token-0123456789';

/** How the controller is scheduled for a run (one setting at a time, docs/benchmarks.md). */
export const COLOAD_SETTINGS = {
  /** As before this bench: nice -10, nothing else. */
  nice: { env: { PRESSO_CONTROLLER_SCHED: 'nice' }, nodeArgs: [] },
  /** SCHED_FIFO priority 1 for every thread, asked for explicitly (the default now). */
  fifo: { env: { PRESSO_CONTROLLER_SCHED: 'fifo' }, nodeArgs: [] },
  /** nice -10 and the controller alone on the last CPU, the web process on the others. */
  affinity: { env: { PRESSO_CONTROLLER_SCHED: 'nice', PRESSO_CONTROLLER_CPUS: 'last' }, nodeArgs: [] },
  /** nice -10 and V8 flags for short young-generation pauses. */
  heap: {
    env: { PRESSO_CONTROLLER_SCHED: 'nice' },
    nodeArgs: ['--max-semi-space-size=1', '--single-threaded-gc'],
  },
  /** As npm start, pm2 and the unit run it: no setting given, the controller's own default. */
  production: { env: {}, nodeArgs: [] },
} as const;
export type ColoadSetting = keyof typeof COLOAD_SETTINGS;

export interface ColoadOptions {
  seconds: number;
  setting: ColoadSetting;
  runner: Runner;
  log: (m: string) => void;
  /** Chromium every this many ms (5 s). */
  browserEveryMs?: number;
}

const PROGRAMS: Record<string, string> = {
  'bay-1': 'leg-circulation',
  'bay-2': 'leg-recovery-pulse',
  'bay-3': 'arm-circulation',
  'lounge-1': 'leg-relaxation',
};

interface ProcCounters {
  runNs: number;
  waitNs: number;
  minflt: number;
  majflt: number;
}

function procCounters(pid: number): ProcCounters | undefined {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { runNs: Number(run), waitNs: Number(wait), minflt: Number(f[7]), majflt: Number(f[9]) };
  } catch {
    return undefined;
  }
}

/** `some` and `full` totals (µs) of /proc/pressure/{cpu,memory,io}. */
function pressure(): Record<string, { some: number; full: number }> | undefined {
  const out: Record<string, { some: number; full: number }> = {};
  try {
    for (const r of ['cpu', 'memory', 'io']) {
      const text = readFileSync(`/proc/pressure/${r}`, 'utf8');
      const total = (kind: string) =>
        Number(new RegExp(`^${kind} .*total=(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
      out[r] = { some: total('some'), full: total('full') };
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Loads run as plain node one-liners, so they are ordinary processes of this session. */
function spawnLoad(kind: 'cpu' | 'fsync', dir: string): ChildProcess {
  const code =
    kind === 'cpu'
      ? 'for(;;){}'
      : `const fs=require('fs');const b=Buffer.alloc(1<<20,7);let i=0;for(;;){const p=${JSON.stringify(
          dir,
        )}+'/f'+(i++%2);const fd=fs.openSync(p,'w');for(let k=0;k<64;k++)fs.writeSync(fd,b);fs.fsyncSync(fd);fs.closeSync(fd);}`;
  return spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
}

/** Opens the board and the support page in a freshly started Chromium; returns how long it took. */
async function browserCycle(base: string): Promise<number> {
  const t0 = performance.now();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    const page = await browser.newPage({ viewport: VIEWPORT });
    await page.goto(`${base}/`, { waitUntil: 'load', timeout: 20_000 });
    await page
      .waitForSelector('[data-testid=station-tile], .tile', { timeout: 10_000 })
      .catch(() => undefined);
    await page.goto(`${base}/support`, { waitUntil: 'load', timeout: 20_000 });
    await sleep(500);
  } finally {
    await browser.close().catch(() => undefined);
  }
  return performance.now() - t0;
}

export interface ColoadResult {
  setting: ColoadSetting;
  controllerScheduling: string;
  seconds: number;
  alarms: Record<string, number>;
  alarmReasons: Record<string, string>;
  sessionsStarted: number;
  sessionsRunningAtEnd: number;
  tickLatenessMs: { p50: number; p99: number; max: number; ticks: number; maxOverdueMs: number };
  lateTicks: number;
  /** Every late tick with the controller's account of its gap. */
  lateTickDetails: LoopLate[];
  browserCycles: number;
  browserCycleMs: { mean: number; max: number };
  controller: {
    runQueueDelayMs: number;
    onCpuMs: number;
    minorFaults: number;
    majorFaults: number;
  };
  /** Share of the window in which some task waited (PSI "some"), %. */
  pressureSomePercent: Record<string, number> | null;
  loadAverage: { start: number[]; end: number[] };
}

export async function runCoload(o: ColoadOptions): Promise<ColoadResult> {
  ensureDashboardBuilt();
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM} (bash scripts/install-test-deps.sh)`);
  const setting = COLOAD_SETTINGS[o.setting];
  const dataDir = mkdtempSync(join(tmpdir(), 'presso-coload-'));
  const trace = join(dataDir, 'trace.jsonl');
  const procs: Proc[] = [];
  const loads: ChildProcess[] = [];
  const client = new ControllerClient({ log: { info: () => {}, warn: () => {}, error: () => {} } });
  const lastCpu = String(os.cpus().length - 1);
  const controllerEnv: Record<string, string> = {
    PRESSO_BENCH_TRACE: trace,
    ...Object.fromEntries(Object.entries(setting.env).map(([k, v]) => [k, v === 'last' ? lastCpu : v])),
  };
  const runner: Runner = {
    kind: o.runner.kind,
    argv: (entry) =>
      entry.includes('control-loop') ? [...setting.nodeArgs, ...o.runner.argv(entry)] : o.runner.argv(entry),
  };
  const loadStart = os.loadavg().map((x) => round(x));
  try {
    // As `npm start` runs it: the default simulator board, both processes compiled.
    const controller = spawnBenchController(dataDir, 'simulator', controllerEnv, runner);
    procs.push(controller);
    let schedLine = '';
    const web = await spawnListening(
      'gateway/server/main.ts',
      {
        PRESSO_DATA_DIR: dataDir,
        PRESSO_ADMIN_TOKEN: COLOAD_TOKEN,
      },
      runner,
    );
    procs.push(web);
    if (o.setting === 'affinity') {
      // The web process off the controller's CPU.
      const others = os.cpus().length > 1 ? `0-${os.cpus().length - 2}` : '0';
      spawn('taskset', ['--all-tasks', '--cpu-list', '--pid', others, String(web.pid)], { stdio: 'ignore' });
    }
    await client.connect(join(dataDir, 'controller.sock'), { retry: true });
    await readyBoard(client);
    const info = await client.request('hello', {});
    schedLine = `${info.board}, controller pid ${controller.pid}`;
    const alarms: AlarmInfo[] = [];
    const lates: LoopLate[] = [];
    client.on('alarm-raised', (a) => alarms.push(a));
    client.on('loop-late', (l) => lates.push(l));

    let started = 0;
    for (const [stationId, programId] of Object.entries(PROGRAMS)) {
      const r = await call(web.base, `/api/stations/${stationId}/start`, {
        method: 'POST',
        headers: { authorization: `Bearer ${COLOAD_TOKEN}` },
        body: { programId, durationMin: 60, client: 'coload bench' },
      });
      if (r.status === 201) started++;
      else o.log(`start on ${stationId} refused: ${r.status} ${JSON.stringify(r.body)}`);
    }
    o.log(`coload (${o.setting}): ${started} sessions running; starting the load for ${o.seconds} s`);

    const writeDir = mkdtempSync(join(dataDir, 'fsync-'));
    loads.push(spawnLoad('cpu', writeDir), spawnLoad('cpu', writeDir), spawnLoad('fsync', writeDir));
    const p0 = pressure();
    const c0 = procCounters(controller.pid);
    process.kill(controller.pid, 'SIGUSR2');
    const t0 = Date.now();
    const cycles: number[] = [];
    const every = o.browserEveryMs ?? 5000;
    let lastLog = t0;
    while (Date.now() - t0 < o.seconds * 1000) {
      const c = Date.now();
      try {
        cycles.push(await browserCycle(web.base));
      } catch (e) {
        o.log(`browser cycle failed: ${(e as Error).message.split('\n')[0]}`);
      }
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        o.log(
          `coload: ${Math.round((Date.now() - t0) / 1000)} s, ${cycles.length} browser cycles, ${lates.length} late ticks, ${alarms.length} alarms`,
        );
      }
      const rest = every - (Date.now() - c);
      if (rest > 0) await sleep(Math.min(rest, o.seconds * 1000 - (Date.now() - t0)));
    }
    const seconds = (Date.now() - t0) / 1000;
    process.kill(controller.pid, 'SIGUSR2');
    const c1 = procCounters(controller.pid);
    const p1 = pressure();
    for (const l of loads) l.kill('SIGKILL');
    const frames = await client.request('state', {});
    const running = frames.filter((f) => f.state === 'running' && f.session !== null).length;
    await sleep(300); // the trace line of the second mark
    const lines = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as LatenessLine | { kind: string });
    const lateness = lines.filter((l): l is LatenessLine => l.kind === 'lateness').at(-1);
    const byCode: Record<string, number> = {};
    const reasons: Record<string, string> = {};
    for (const a of alarms) {
      byCode[a.code] = (byCode[a.code] ?? 0) + 1;
      reasons[a.code] ??= `${a.stationId ?? 'board'}: ${a.reason}`;
    }
    const psi =
      p0 && p1
        ? Object.fromEntries(
            Object.keys(p0).map((r) => [
              r,
              round((100 * ((p1[r]?.some ?? 0) - (p0[r]?.some ?? 0))) / (seconds * 1e6), 1),
            ]),
          )
        : null;
    return {
      setting: o.setting,
      controllerScheduling: `${info.scheduling ?? 'not reported'} (${schedLine})`,
      seconds: round(seconds, 1),
      alarms: byCode,
      alarmReasons: reasons,
      sessionsStarted: started,
      sessionsRunningAtEnd: running,
      tickLatenessMs: {
        p50: round(lateness?.p50Ms ?? 0, 3),
        p99: round(lateness?.p99Ms ?? 0, 3),
        max: round(lateness?.maxMs ?? 0, 2),
        ticks: lateness?.ticks ?? 0,
        maxOverdueMs: round(lateness?.maxOverdueMs ?? 0, 2),
      },
      lateTicks: lates.length,
      lateTickDetails: lates,
      browserCycles: cycles.length,
      browserCycleMs: {
        mean: round(cycles.reduce((a, b) => a + b, 0) / Math.max(1, cycles.length), 0),
        max: round(Math.max(0, ...cycles), 0),
      },
      controller: {
        runQueueDelayMs: c0 && c1 ? round((c1.waitNs - c0.waitNs) / 1e6, 1) : Number.NaN,
        onCpuMs: c0 && c1 ? round((c1.runNs - c0.runNs) / 1e6, 1) : Number.NaN,
        minorFaults: c0 && c1 ? c1.minflt - c0.minflt : Number.NaN,
        majorFaults: c0 && c1 ? c1.majflt - c0.majflt : Number.NaN,
      },
      pressureSomePercent: psi,
      loadAverage: { start: loadStart, end: os.loadavg().map((x) => round(x)) },
    };
  } finally {
    for (const l of loads) l.kill('SIGKILL');
    await client.close().catch(() => undefined);
    for (const p of procs.reverse()) await p.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}
