/**
 * `npm run bench -- --coload`: the control loop next to a kiosk browser, CPU hogs and an fsync
 * writer (bench/lib/coload.ts says what runs and what is measured).
 *
 *   npm run bench -- --coload                    10 minutes
 *   npm run bench -- --coload --quick            2 minutes
 *   npm run bench -- --coload --seconds 30       any length (the test suite's short form)
 *   npm run bench -- --coload --json FILE        also writes the figures as JSON ({ machine, coload })
 *   npm run bench -- --coload --setting NAME     how the controller is scheduled: production (the
 *                                                default, as ecosystem.config.js runs it), nice,
 *                                                fifo, affinity, heap (docs/benchmarks.md)
 *
 * Target: no alarm, every session still running at the end, tick lateness max below the late-tick
 * rule's hard bound (LIMITS.loopLateHardMs). The exit code is 0 whether the target is met or not:
 * the figures say it, and docs/benchmarks.md records them with the machine's load.
 */
import { writeFileSync } from 'node:fs';
import { LIMITS } from '../gateway/limits.js';
import { COLOAD_SETTINGS, runCoload, type ColoadSetting } from './lib/coload.js';
import { compiledRunner, TSX_RUNNER } from './lib/compile.js';

export async function coloadMain(argv: string[], machine: object, log: (m: string) => void): Promise<void> {
  let seconds = argv.includes('--quick') ? 120 : 600;
  let json: string | undefined;
  let setting: ColoadSetting = 'production';
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--seconds' && v) seconds = Number(v);
    if (argv[i] === '--json' && v) json = v;
    if (argv[i] === '--setting' && v) {
      if (!(v in COLOAD_SETTINGS)) {
        throw new Error(`--setting must be one of ${Object.keys(COLOAD_SETTINGS).join(', ')}, not "${v}"`);
      }
      setting = v as ColoadSetting;
    }
  }
  if (!(seconds > 0)) throw new Error('--seconds takes a positive number');
  log(
    argv.includes('--tsx')
      ? 'running the processes through tsx'
      : 'compiling the processes as production runs them',
  );
  const runner = argv.includes('--tsx') ? TSX_RUNNER : compiledRunner();
  const r = await runCoload({ seconds, setting, runner, log });
  const hard = LIMITS.loopLateHardMs.default;
  const checks: [string, string, boolean][] = [
    ['alarms', JSON.stringify(r.alarms), Object.keys(r.alarms).length === 0],
    [
      'sessions running at the end',
      `${r.sessionsRunningAtEnd}/${r.sessionsStarted}`,
      r.sessionsStarted === 4 && r.sessionsRunningAtEnd === r.sessionsStarted,
    ],
    [`tick lateness max < ${hard} ms`, `${r.tickLatenessMs.max} ms`, r.tickLatenessMs.max < hard],
  ];
  console.log(`\nPresso Gateway co-load bench (${setting}: ${r.controllerScheduling})`);
  const rows: [string, string][] = [
    ['window', `${r.seconds} s, ${r.browserCycles} Chromium starts (mean ${r.browserCycleMs.mean} ms each)`],
    ['load average start → end', `${r.loadAverage.start.join(' ')} → ${r.loadAverage.end.join(' ')}`],
    [
      'tick lateness p50/p99/max',
      `${r.tickLatenessMs.p50} / ${r.tickLatenessMs.p99} / ${r.tickLatenessMs.max} ms (${r.tickLatenessMs.ticks} ticks)`,
    ],
    ['late ticks (late-tick rule)', String(r.lateTicks)],
    [
      'controller run-queue delay, on-CPU',
      `${r.controller.runQueueDelayMs} ms, ${r.controller.onCpuMs} ms (faults: ${r.controller.minorFaults} minor, ${r.controller.majorFaults} major)`,
    ],
    ['pressure stall (some) %', JSON.stringify(r.pressureSomePercent)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
  for (const l of r.lateTickDetails.slice(0, 10)) console.log(`    late ${l.latenessMs} ms: ${l.cause}`);
  console.log('\nTarget');
  for (const [n, v, ok] of checks) console.log(`  ${ok ? 'met   ' : 'MISSED'}  ${n.padEnd(30)} ${v}`);
  if (json) {
    writeFileSync(
      json,
      `${JSON.stringify({ machine, coload: { ...r, targetMet: checks.every(([, , ok]) => ok) } }, null, 2)}\n`,
    );
    log(`figures written to ${json}`);
  }
}
