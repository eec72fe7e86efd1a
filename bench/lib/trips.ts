/**
 * Injects over-pressures, station by station, again and again: a blocked hose on zone 1 (the
 * sensor at the valve block then sees the manifold, which a filling pump raises at thousands of
 * mmHg/s, gateway/sim/station-model.ts), then a leak self-test, whose first fill (to 40 mmHg)
 * crosses the trip level (60 mmHg) within a few ticks. After the trip: clear the fault,
 * acknowledge, wait for the station to be idle, and again.
 *
 * Why a self-test and not a session: the supervisor, the trip and the vent are the same code for
 * both, but every session that ends is written to the web process's history, and ~17 sessions a
 * second (1,000 a minute) is not a load any gateway sees: a first run with sessions saturated the
 * web process with history writes and measured that instead (docs/benchmarks.md).
 *
 * Commands go straight to the controller over its socket, as support's presso-ctl sends them:
 * through the HTTP API they would queue behind the 200 requests/s of the load, and the figure
 * measured here, trip-to-vent, lies entirely inside the controller.
 *
 * Any other alarm (a loop stall under load vents every station) is counted, acknowledged and the
 * cycle starts again: the counts say what happened.
 */
import type { ControllerClient } from '../../gateway/ipc/client.js';
import type { AlarmInfo } from '../../gateway/protocol.js';
import { sleep } from '../../test/support/http.js';

export interface TripCounts {
  cycles: number;
  /** Over-pressure alarms raised on zone 1 by an injection. */
  overPressure: number;
  /** Every alarm raised while the driver ran, by code. */
  alarmsByCode: Record<string, number>;
  /** Self-tests the controller refused (the station not idle yet, a latched alarm): retried. */
  refusedStarts: number;
  /** Injections after which no alarm came within the wait. */
  noTrip: number;
}

export class TripDriver {
  private stopped = false;
  private loops: Promise<void>[] = [];
  private readonly waiting = new Map<string, (a: AlarmInfo | undefined) => void>();
  private readonly off: () => void;
  readonly counts: TripCounts = { cycles: 0, overPressure: 0, alarmsByCode: {}, refusedStarts: 0, noTrip: 0 };

  constructor(
    private readonly client: ControllerClient,
    private readonly stations: readonly string[],
    /** How many over-pressures are wanted at least: `done` says when they are in (the injections go on until stop()). */
    private readonly target?: number,
    /**
     * Least time between two injections on one station. The over-pressures are spread over the
     * load window rather than fired as fast as possible: each raises and clears an alarm that the
     * web process records and sends to every client, and a burst of them measures that instead.
     */
    private readonly periodMs = 0,
  ) {
    this.off = client.on('alarm-raised', (a) => {
      this.counts.alarmsByCode[a.code] = (this.counts.alarmsByCode[a.code] ?? 0) + 1;
      if (a.code === 'over-pressure' && a.zone === 1 && a.stationId !== null) this.counts.overPressure++;
      // A board-wide alarm (loop stall, e-stop) ends every station's wait.
      for (const [id, w] of this.waiting) if (a.stationId === null || a.stationId === id) w(a);
    });
  }

  get done(): boolean {
    return this.target !== undefined && this.counts.overPressure >= this.target;
  }

  start(): void {
    // Staggered, so the injections are spread evenly in time across the stations.
    this.loops = this.stations.map((id, i) => this.loop(id, (i * this.periodMs) / this.stations.length));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.waiting.values()) w(undefined);
    await Promise.all(this.loops);
    this.off();
  }

  private async loop(id: string, offsetMs: number): Promise<void> {
    await sleep(offsetMs);
    let next = Date.now();
    while (!this.stopped) {
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      next = Math.max(next + this.periodMs, Date.now());
      if (this.stopped) break;
      try {
        await this.cycle(id);
      } catch {
        // A refused command or a timeout under load: start again from a clean station.
        this.counts.refusedStarts++;
        await this.recover(id).catch(() => undefined);
        await sleep(20);
      }
    }
  }

  private async cycle(id: string): Promise<void> {
    await this.client.request('sim-inject', { stationId: id, kind: 'blocked-hose', zone: 1 });
    const alarm = new Promise<AlarmInfo | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(undefined);
      }, 5000);
      this.waiting.set(id, (a) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(a);
      });
    });
    // Answered when the test ends: stopped by the trip, a few ticks after its first fill. A test
    // the controller refuses (the station not idle yet) is answered at once with an error.
    const test = this.client.request('self-test', { stationId: id, kind: 'leak' }).then(
      () => undefined,
      (e: Error) => e,
    );
    const first = await Promise.race([alarm.then((a) => ({ a })), test.then((e) => ({ e }))]);
    if ('e' in first && first.e !== undefined) {
      this.counts.refusedStarts++;
      this.waiting.get(id)?.(undefined);
    } else {
      this.counts.cycles++;
      if ((await alarm) === undefined && !this.stopped) this.counts.noTrip++;
    }
    await test;
    await this.recover(id);
  }

  /** Clears the fault, stops, acknowledges what is latched (the station's and board-wide), waits for idle. */
  private async recover(id: string): Promise<void> {
    await this.client.request('sim-clear', { stationId: id });
    await this.client.request('stop', { stationId: id, reason: 'bench: next injection' });
    const until = Date.now() + 10_000;
    while (!this.stopped && Date.now() < until) {
      const frame = this.client.frames().find((f) => f.id === id);
      if (frame?.state === 'idle') return;
      if (frame?.state === 'fault' || frame?.alarms.some((x) => x.latched)) {
        for (const a of await this.client.request('alarms', {})) {
          if (!a.latched || (a.stationId !== null && a.stationId !== id)) continue;
          await this.client.request('acknowledge', { alarmId: a.id }).catch(() => undefined);
        }
      }
      await sleep(20);
    }
  }
}
