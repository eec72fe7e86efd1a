/**
 * How the controller process asks Linux to keep its tick on time (docs/benchmarks.md, "Co-load",
 * has the measured effect of each):
 *
 * - `PRESSO_CONTROLLER_SCHED=fifo` (the default): SCHED_FIFO at priority 1 for every thread,
 *   through util-linux `chrt`. Any real-time task runs before every normal (CFS) task, whatever
 *   its nice value, its autogroup or its cgroup; priority 1 is the lowest real-time one, so kernel
 *   threads and anything else real-time still come first. The kernel's real-time throttling
 *   (sched_rt_runtime_us, 95 % by default) keeps a runaway loop from locking the machine up.
 *   Needs root, CAP_SYS_NICE or an RLIMIT_RTPRIO ≥ 1 (the unit's LimitRTPRIO=1); when it is not
 *   permitted the controller says so and falls back to the nice value below.
 * - `nice`: nice -10 only (the fallback, and the only setting before). Nice orders tasks within one
 *   autogroup or cgroup only: a browser started in another session (its own autogroup) competes
 *   with the controller's whole group as an equal, which is what starved the tick.
 * - `PRESSO_CONTROLLER_CPUS=3` (a CPU list for `taskset`, optional): pins the controller to those
 *   CPUs. On a 4-core Pi the web process and the kiosk browser are then kept off them
 *   (ecosystem.config.js, `PRESSO_WEB_CPUS`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The nice value of the control loop when no real-time policy is allowed. */
export const CONTROLLER_NICE = -10;
/** The real-time priority: the lowest, above every normal task and below everything real-time. */
export const CONTROLLER_RT_PRIORITY = 1;

const CHRT = ['/usr/bin/chrt', '/bin/chrt'].find((p) => existsSync(p));
const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((p) => existsSync(p));

/** Lowers the nice value to CONTROLLER_NICE where allowed; returns what happened, in words. */
export function raiseNice(): string {
  try {
    if (getPriority() > CONTROLLER_NICE) setPriority(CONTROLLER_NICE);
    return `nice ${getPriority()}`;
  } catch (e) {
    // A laptop user without CAP_SYS_NICE; on the Pi the unit's LimitNICE allows it.
    return `nice ${getPriority()} (raising it to ${CONTROLLER_NICE} was not allowed: ${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
}

/** SCHED_FIFO for every thread of this process; returns what happened, in words. */
export function realTime(pid = process.pid): { ok: boolean; words: string } {
  if (!CHRT) return { ok: false, words: 'no chrt (util-linux) on this system' };
  // Every thread, not only the main one: the main thread waits for V8's helper threads (GC, the
  // page unmapper) and for the kernel's mmap lock they may hold; starved at normal priority, they
  // blocked the real-time main thread for up to 270 ms in the co-load bench (docs/benchmarks.md).
  const r = spawnSync(CHRT, ['--all-tasks', '--fifo', '--pid', String(CONTROLLER_RT_PRIORITY), String(pid)], {
    encoding: 'utf8',
    timeout: 5000,
  });
  if (r.status === 0)
    return { ok: true, words: `SCHED_FIFO priority ${CONTROLLER_RT_PRIORITY}, every thread` };
  const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n')[0];
  return { ok: false, words: `SCHED_FIFO not permitted (${why})` };
}

/** Pins this process to `cpus` (a taskset CPU list such as "3" or "2-3"). */
export function pinCpus(cpus: string, pid = process.pid): { ok: boolean; words: string } {
  if (!/^[0-9,-]+$/.test(cpus))
    return { ok: false, words: `PRESSO_CONTROLLER_CPUS="${cpus}" is not a CPU list` };
  if (!TASKSET) return { ok: false, words: 'no taskset (util-linux) on this system' };
  const r = spawnSync(TASKSET, ['--all-tasks', '--cpu-list', '--pid', cpus, String(pid)], {
    encoding: 'utf8',
    timeout: 5000,
  });
  if (r.status === 0) return { ok: true, words: `CPUs ${cpus}` };
  return { ok: false, words: `pinning to CPUs ${cpus} failed (${(r.stderr || `exit ${r.status}`).trim()})` };
}

/**
 * Applies the scheduling the environment asks for (defaults: SCHED_FIFO, no pinning) and returns
 * one line for the log. Never throws: a setting that is not allowed leaves the next best one.
 */
export function applyScheduling(env: NodeJS.ProcessEnv = process.env): string {
  const parts: string[] = [];
  const policy = env.PRESSO_CONTROLLER_SCHED || 'fifo';
  // The nice value first: it still orders the threads real-time does not cover (V8's helpers)
  // and is what remains if real time is refused.
  parts.push(raiseNice());
  if (policy === 'fifo') {
    const rt = realTime();
    parts.push(rt.ok ? rt.words : `${rt.words}; staying at the nice value (see systemd/README.md)`);
  } else if (policy !== 'nice') {
    parts.push(`PRESSO_CONTROLLER_SCHED="${policy}" is neither fifo nor nice; nice only`);
  }
  if (env.PRESSO_CONTROLLER_CPUS) parts.push(pinCpus(env.PRESSO_CONTROLLER_CPUS).words);
  return parts.join(', ');
}
