/**
 * Whether the wall clock can be trusted. A Raspberry Pi 4 has no real-time clock: after a power
 * cut it resumes at the time last saved (fake-hwclock, systemd-timesyncd's clock file) and jumps
 * when NTP syncs, minutes or months later. Until then, timestamps are guesses: the store marks
 * what it records meanwhile and holds back its date-driven housekeeping (monthly archives, the
 * daily backup), and the support page shows the state (docs/deploy.md, "Time without a
 * real-time clock").
 *
 * Synchronised means systemd-timesyncd's flag file /run/systemd/timesync/synchronized exists
 * (it touches it on every sync, systemd-timesyncd.service(8)); where timesyncd does not run,
 * `timedatectl show -p NTPSynchronized` answers for whatever NTP client the kernel reports as
 * synced (chrony, ntpd). Neither available (a laptop, a container): unknown, which is trusted,
 * so a workstation behaves as before.
 *
 * A jump is a wall-clock step between two checks that the monotonic clock did not see.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CLOCK_CHECK_MS = 30_000;
/** A wall-clock step larger than this between two checks is a jump, not drift or a late timer. */
export const CLOCK_JUMP_MS = 2000;
const TIMESYNC_DIR = '/run/systemd/timesync';

/** true/false: synchronised or not; null: this machine cannot tell. */
export type SyncProbe = () => Promise<{ synchronized: boolean | null; source: string }>;

export interface ClockState {
  synchronized: boolean | null;
  source: string;
  checkedAtEpochMs: number;
  /** The last step of the wall clock, if any since the web process started. */
  lastJump: { atEpochMs: number; byMs: number } | null;
}

export const systemProbe: SyncProbe = async () => {
  if (existsSync(`${TIMESYNC_DIR}/synchronized`)) return { synchronized: true, source: 'systemd-timesyncd' };
  if (existsSync(TIMESYNC_DIR)) return { synchronized: false, source: 'systemd-timesyncd' };
  return new Promise((resolve) => {
    execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 5000 }, (err, out) => {
      const v = out.trim();
      if (err || (v !== 'yes' && v !== 'no')) resolve({ synchronized: null, source: 'unknown' });
      else resolve({ synchronized: v === 'yes', source: 'timedatectl' });
    });
  });
};

export class ClockWatch {
  private current: ClockState;
  private lastWallMs: number;
  private lastMonoMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: {
      probe?: SyncProbe;
      now?: () => number;
      monotonic?: () => number;
      log?: { warn(m: string): void; info(m: string): void };
    } = {},
  ) {
    this.lastWallMs = this.now();
    this.lastMonoMs = this.mono();
    this.current = {
      synchronized: null,
      source: 'not checked yet',
      checkedAtEpochMs: this.lastWallMs,
      lastJump: null,
    };
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private mono(): number {
    return (this.opts.monotonic ?? performance.now.bind(performance))();
  }

  state(): ClockState {
    return { ...this.current, lastJump: this.current.lastJump && { ...this.current.lastJump } };
  }

  /** Timestamps can be relied on: synchronised, or no way to tell. */
  trusted(): boolean {
    return this.current.synchronized !== false;
  }

  /** One check: the sync state, and a jump since the last check. */
  async check(): Promise<ClockState> {
    const { synchronized, source } = await (this.opts.probe ?? systemProbe)();
    const wall = this.now();
    const mono = this.mono();
    const byMs = wall - this.lastWallMs - (mono - this.lastMonoMs);
    this.lastWallMs = wall;
    this.lastMonoMs = mono;
    if (Math.abs(byMs) > CLOCK_JUMP_MS) {
      this.current.lastJump = { atEpochMs: wall, byMs: Math.round(byMs) };
      this.opts.log?.warn(`the wall clock jumped by ${Math.round(byMs / 1000)} s (${source})`);
    }
    if (synchronized !== this.current.synchronized) {
      if (synchronized === false) {
        this.opts.log?.warn(
          `the clock is NOT synchronised (${source}): records are marked and archives wait`,
        );
      } else {
        this.opts.log?.info(
          `the clock ${synchronized ? 'is synchronised' : 'cannot be checked'} (${source})`,
        );
      }
    }
    this.current = { ...this.current, synchronized, source, checkedAtEpochMs: wall };
    return this.state();
  }

  start(everyMs = CLOCK_CHECK_MS): Promise<ClockState> {
    const first = this.check();
    this.timer = setInterval(() => void this.check(), everyMs);
    this.timer.unref();
    return first;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
