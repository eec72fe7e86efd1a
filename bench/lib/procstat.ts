/**
 * CPU and memory of a process from /proc (Linux), with no package: utime + stime from
 * /proc/PID/stat (in clock ticks, USER_HZ = 100 on every Linux the Pi and CI run) and VmRSS from
 * /proc/PID/status.
 */
import { readFileSync } from 'node:fs';

const USER_HZ = 100;

export interface ProcSample {
  atMs: number;
  cpuMs: number;
  rssMb: number;
}

export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: fields are counted after its closing ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    return { atMs: performance.now(), cpuMs: ((utime + stime) * 1000) / USER_HZ, rssMb: rssKb / 1024 };
  } catch {
    return undefined;
  }
}

/** Samples a set of processes every `everyMs` until stopped; reports mean CPU % and peak/last RSS. */
export class ProcMonitor {
  private readonly samples = new Map<string, ProcSample[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: Record<string, number>) {}

  start(everyMs = 1000): void {
    const take = () => {
      for (const [name, pid] of Object.entries(this.pids)) {
        const s = sampleProc(pid);
        if (s) this.samples.set(name, [...(this.samples.get(name) ?? []), s]);
      }
    };
    take();
    this.timer = setInterval(take, everyMs);
  }

  stop(): Record<string, { cpuPercent: number; rssMb: number; rssPeakMb: number; rssFirstMb: number }> {
    clearInterval(this.timer);
    for (const [name, pid] of Object.entries(this.pids)) {
      const s = sampleProc(pid);
      if (s) this.samples.set(name, [...(this.samples.get(name) ?? []), s]);
    }
    const out: Record<string, { cpuPercent: number; rssMb: number; rssPeakMb: number; rssFirstMb: number }> =
      {};
    for (const [name, list] of this.samples) {
      const first = list[0];
      const last = list[list.length - 1];
      if (!first || !last) continue;
      const wall = last.atMs - first.atMs;
      out[name] = {
        cpuPercent: wall > 0 ? (100 * (last.cpuMs - first.cpuMs)) / wall : 0,
        rssMb: last.rssMb,
        rssPeakMb: Math.max(...list.map((s) => s.rssMb)),
        rssFirstMb: first.rssMb,
      };
    }
    return out;
  }
}
