/**
 * A controller on a simulated board in virtual time, for tests: `run(ms)` ticks it at the
 * board's rate, as the tick loop would, only faster.
 */
import { VirtualClock } from '../../clock.js';
import { loadBoard } from '../../board/load.js';
import { startBoard, type RunningBoard } from '../../board/runtime.js';
import type { Logger } from '../../drivers/io.js';
import type { EventName, Events } from '../../protocol.js';
import { Controller } from '../controller.js';

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export interface Harness extends RunningBoard {
  clock: VirtualClock;
  ctrl: Controller;
  events: { event: EventName; data: unknown; atMs: number }[];
  /** Ticks for `ms` of virtual time; `each` runs after every tick. */
  run(ms: number, each?: () => void | boolean): Promise<void>;
  of<E extends EventName>(event: E): Events[E][];
}

export async function harness(
  profile = 'simulator',
  overrides?: (b: ReturnType<typeof loadBoard>) => void,
): Promise<Harness> {
  const clock = new VirtualClock();
  const board = loadBoard(profile);
  overrides?.(board);
  const p = startBoard(board, clock, quiet);
  let done = false;
  void p.finally(() => (done = true)).catch(() => {});
  while (!done) await clock.advance(1);
  const running = await p;
  let epoch = 1_800_000_000_000;
  const ctrl = new Controller({
    clock,
    io: running.io,
    ...(running.sim ? { sim: running.sim } : {}),
    version: 'test',
    epochNow: () => epoch + clock.now(),
  });
  epoch += 0;
  const events: Harness['events'] = [];
  ctrl.onEvent((event, data) => events.push({ event, data, atMs: clock.now() }));
  const period = 1000 / board.loopRateHz;
  return {
    ...running,
    clock,
    ctrl,
    events,
    async run(ms, each) {
      const end = clock.now() + ms;
      while (clock.now() < end) {
        await ctrl.tick();
        if (each?.() === true) return;
        await clock.advance(period);
      }
    },
    of<E extends EventName>(event: E) {
      return events.filter((e) => e.event === event).map((e) => e.data as Events[E]);
    },
  };
}
