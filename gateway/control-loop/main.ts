/**
 * The controller process.
 *
 * Start-up order is the safety order: load and validate the board (a config error stops here,
 * exit code 2); open every device and write the safe state (pumps off, inlets shut, exhausts
 * open) before anything else; then run the control tick; only then open the Unix socket for
 * clients. On SIGTERM/SIGINT or an uncaught error it vents every station, writes the safe
 * state, and exits.
 *
 * Environment:
 *   PRESSO_BOARD              board profile name or path (default "simulator")
 *   PRESSO_DATA_DIR           where the controller socket lives (default ./data)
 *   PRESSO_CONTROLLER_SOCKET  the socket path itself (default $PRESSO_DATA_DIR/controller.sock)
 *   PRESSO_LOG_PRESSURES      seconds between pressure log lines; 0 turns them off (default 5 on
 *                             a simulated board, 60 on real hardware: pressure-log.ts)
 *   PRESSO_CONTROLLER_SCHED   fifo (default: SCHED_FIFO 1 where permitted, else nice -10) or nice
 *   PRESSO_CONTROLLER_CPUS    a CPU list to pin the controller to (optional; scheduling.ts)
 *   PRESSO_BENCH_TRACE        bench only: a file to append trip-to-vent timings to (trip-trace.ts);
 *                             ignored on a board without a simulator
 */
import { ConfigError } from '../config-error.js';
import { surviveClosedOutput } from '../closed-output.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RealClock } from '../clock.js';
import { loadBoard } from '../board/load.js';
import { startBoard } from '../board/runtime.js';
import { type Logger } from '../drivers/io.js';
import { controllerSocketPath, PACKAGE_ROOT } from '../paths.js';
import { Controller } from './controller.js';
import { IpcServer } from '../ipc/server.js';
import { LatenessCauseProbe } from './lateness-cause.js';
import { applyScheduling } from './scheduling.js';
import { formatPressures, pressureLogIntervalMs } from './pressure-log.js';
import { TickLoop } from './tick-loop.js';
import { startBenchTrace } from './trip-trace.js';

const log: Logger = {
  info: (m) => console.log(`[controller] ${m}`),
  warn: (m) => console.warn(`[controller] warning: ${m}`),
  error: (m) => console.error(`[controller] error: ${m}`),
};

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  surviveClosedOutput();
  // Before the board opens, so every output write already runs at the loop's priority.
  const scheduling = applyScheduling();
  log.info(`control loop scheduling: ${scheduling}`);
  const profile = process.env.PRESSO_BOARD || 'simulator';
  let board;
  try {
    board = loadBoard(profile);
  } catch (e) {
    if (e instanceof ConfigError) {
      log.error(`board config error: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const clock = new RealClock();
  let running;
  try {
    running = await startBoard(board, clock, log);
  } catch (e) {
    log.error(`${e instanceof ConfigError ? 'board config error: ' : ''}${(e as Error).message}`);
    process.exit(2);
  }
  const { io, sim } = running;
  let logEveryMs: number;
  try {
    logEveryMs = pressureLogIntervalMs(process.env.PRESSO_LOG_PRESSURES, sim !== undefined);
  } catch (e) {
    log.error(`settings error: ${(e as Error).message}`);
    await io.closeAll();
    process.exit(2);
  }
  log.info(
    `board "${board.name}" (${board.source}): ${board.stations.length} stations, ` +
      `${board.devices.length} devices, tick ${board.loopRateHz} Hz; every output in the safe state`,
  );

  // eslint-disable-next-line prefer-const -- the loop and the controller refer to each other
  let loop: TickLoop;
  const bench = startBenchTrace(sim, clock);
  const ctrl = new Controller({
    clock,
    io,
    ...(sim ? { sim } : {}),
    ...(bench ? { observer: bench.observer } : {}),
    version: version(),
    loopStats: () => loop.stats(),
    latenessCause: new LatenessCauseProbe(),
    scheduling,
  });
  let lastLog = Number.NEGATIVE_INFINITY;
  loop = new TickLoop(
    clock,
    ctrl.periodMs,
    async ({ latenessMs, overdueMs }) => {
      await ctrl.tick(Math.max(latenessMs, overdueMs));
      const now = clock.now();
      if (logEveryMs > 0 && now - lastLog >= logEveryMs) {
        lastLog = now;
        for (const line of formatPressures(io)) log.info(line);
      }
    },
    (e) => {
      // A tick that fails has not checked or written anything: vent rather than carry on blind.
      log.error(`tick failed: ${(e as Error).stack ?? String(e)}; venting every station`);
      void ctrl
        .ventAll('control tick failed')
        .catch((v: unknown) => log.error(`venting failed: ${String(v)}`));
    },
    bench?.observer,
  );
  loop.start();

  ctrl.onEvent((event, data) => {
    if (event === 'alarm-raised') {
      const a = data as { priority: string; stationId: string | null; reason: string };
      log.warn(`ALARM (${a.priority}) ${a.stationId ?? 'all stations'}: ${a.reason}`);
    } else if (event === 'loop-late') {
      const l = data as { latenessMs: number; lateInWindow: number; cause: string };
      log.warn(`late tick: ${l.latenessMs} ms (${l.lateInWindow} within 60 s): ${l.cause}; nothing vented`);
    } else if (event === 'session-ended') {
      const r = data as { stationId: string; end: string; reason: string };
      log.info(`session on ${r.stationId} ended: ${r.end} (${r.reason})`);
    }
  });

  const socketPath = controllerSocketPath();
  mkdirSync(dirname(socketPath), { recursive: true });
  const ipc = new IpcServer(ctrl, socketPath, log);
  try {
    await ipc.start();
  } catch (e) {
    log.error(`${(e as Error).message}; venting and exiting`);
    await loop.stop();
    await ctrl.ventAll('controller could not open its socket');
    await io.closeAll();
    process.exit(1);
  }

  let stopping = false;
  const shutdown = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log.info(`${why}: venting every station`);
    await loop.stop();
    const ended = await ctrl.ventAll(`controller stopped (${why})`);
    await io.closeAll();
    await bench?.close();
    log.info(`safe state written (${ended.length} session(s) interrupted); exiting`);
    // Give clients a moment to receive the session-ended events, then close the socket.
    await new Promise((r) => setTimeout(r, 50));
    await ipc.stop();
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('uncaughtException', (e) => {
    log.error(`uncaught: ${e.stack ?? e.message}`);
    void shutdown('uncaught error', 1);
  });
  process.on('unhandledRejection', (e) => {
    log.error(`unhandled rejection: ${String(e)}`);
    void shutdown('unhandled rejection', 1);
  });
}

void main();
