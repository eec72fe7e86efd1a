/**
 * The bench's baseline: the same controller (Controller from controller.ts on the same board,
 * driven by the same 100 Hz TickLoop on the RealClock, with the same trip trace) and the same web
 * server (buildServer, the store, Socket.IO) in ONE Node process, the controller link being the
 * usual IPC client over a Unix socket served inside the same process. Put under the same load as
 * the two-process design, its tick lateness shows what sharing an event loop with the web costs.
 *
 * Not a way to run the product: a slow request here delays the control tick.
 *
 * Environment: PRESSO_BOARD, PRESSO_DATA_DIR, PRESSO_BENCH_TRACE, PRESSO_ADMIN_TOKEN, PORT, HOST.
 * SIGUSR2 marks the trace (as in the controller process); SIGTERM vents and exits.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { RealClock } from '../gateway/clock.js';
import { loadBoard } from '../gateway/board/load.js';
import { startBoard } from '../gateway/board/runtime.js';
import { Controller } from '../gateway/control-loop/controller.js';
import { IpcServer } from '../gateway/ipc/server.js';
import { TickLoop } from '../gateway/control-loop/tick-loop.js';
import { startBenchTrace } from '../gateway/control-loop/trip-trace.js';
import type { Logger } from '../gateway/drivers/io.js';
import { ControllerClient } from '../gateway/ipc/client.js';
import { controllerSocketPath } from '../gateway/paths.js';
import { buildServer } from '../gateway/server/app.js';
import { loadConfig } from '../gateway/server/config.js';
import { openStore } from '../gateway/server/open-store.js';

const log: Logger = {
  info: () => {},
  warn: (m) => console.warn(`[baseline] warning: ${m}`),
  error: (m) => console.error(`[baseline] error: ${m}`),
};

async function main(): Promise<void> {
  const board = loadBoard(process.env.PRESSO_BOARD || 'simulator');
  const clock = new RealClock();
  const { io, sim } = await startBoard(board, clock, log);
  const bench = startBenchTrace(sim, clock);
  // eslint-disable-next-line prefer-const -- the loop and the controller refer to each other
  let loop: TickLoop;
  const ctrl = new Controller({
    clock,
    io,
    ...(sim ? { sim } : {}),
    ...(bench ? { observer: bench.observer } : {}),
    version: 'baseline',
    loopStats: () => loop.stats(),
  });
  loop = new TickLoop(
    clock,
    ctrl.periodMs,
    async ({ latenessMs, overdueMs }) => {
      await ctrl.tick(Math.max(latenessMs, overdueMs));
    },
    (e) => {
      log.error(`tick failed: ${String(e)}`);
      void ctrl.ventAll('control tick failed');
    },
    bench?.observer,
  );
  loop.start();

  const socketPath = controllerSocketPath();
  mkdirSync(dirname(socketPath), { recursive: true });
  const ipc = new IpcServer(ctrl, socketPath, log);
  await ipc.start();

  const config = loadConfig();
  const store = await openStore(config.dataDir);
  const client = new ControllerClient({ log });
  await client.connect(socketPath, { retry: true });
  // The web process's own logger settings, so the same work is done per request.
  const app = await buildServer({ config, store, controller: client, logger: { level: 'info' } });
  await app.listen({ port: config.port, host: config.host });

  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      await app.close();
      await client.close();
      await store.close();
      await loop.stop();
      await ctrl.ventAll('baseline stopped');
      await io.closeAll();
      await bench?.close();
      await ipc.stop();
      process.exit(0);
    })();
  });
}

void main().catch((e: unknown) => {
  console.error(`[baseline] could not start: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
