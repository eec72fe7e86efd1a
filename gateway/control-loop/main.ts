/**
 * The controller process entry point.
 *
 * Today it opens the board, writes the safe state first (pumps off, inlets closed, exhausts open),
 * runs the fixed-rate tick (sample every device, toggle the heartbeat, flush) and logs every
 * station's zone pressures once a second. It runs no program: pumps and valves will be switched
 * only by the controller's safety supervisor, which is not written yet.
 *
 * Environment: PRESSO_BOARD (profile name or path, default "simulator").
 */
import { RealClock } from '../clock.js';
import { loadBoard } from '../board/load.js';
import { startBoard } from '../board/runtime.js';
import { BoardConfigError, type Logger } from '../drivers/io.js';
import { TickLoop } from './tick-loop.js';
import { formatPressures } from './pressure-log.js';

const LOG_EVERY_MS = 1000;

const log: Logger = {
  info: (m) => console.log(`[controller] ${m}`),
  warn: (m) => console.warn(`[controller] warning: ${m}`),
  error: (m) => console.error(`[controller] error: ${m}`),
};

async function main(): Promise<void> {
  const profile = process.env.PRESSO_BOARD || 'simulator';
  let board;
  try {
    board = loadBoard(profile);
  } catch (e) {
    if (e instanceof BoardConfigError) {
      log.error(`board config error: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const clock = new RealClock();
  const { io } = await startBoard(board, clock, log);
  log.info(
    `board "${board.name}" (${board.source}): ${board.stations.length} stations, ` +
      `${board.devices.length} devices, tick ${board.loopRateHz} Hz; every output in the safe state`,
  );

  let heartbeat = false;
  let lastLog = Number.NEGATIVE_INFINITY;
  const loop = new TickLoop(
    clock,
    1000 / board.loopRateHz,
    async () => {
      await io.sampleAll();
      heartbeat = !heartbeat;
      io.heartbeat?.set(heartbeat);
      await io.flushAll();
      const now = clock.now();
      if (now - lastLog >= LOG_EVERY_MS) {
        lastLog = now;
        for (const line of formatPressures(io)) log.info(line);
        const s = loop.stats();
        log.info(
          `tick lateness p50 ${s.p50Ms.toFixed(2)} ms, p99 ${s.p99Ms.toFixed(2)} ms, max ${s.maxMs.toFixed(2)} ms`,
        );
      }
    },
    (e) => log.error(`tick failed: ${(e as Error).stack ?? String(e)}`),
  );
  loop.start();

  let stopping = false;
  const shutdown = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log.info(`${why}: venting every station and closing the board`);
    await loop.stop();
    await io.closeAll();
    log.info('safe state written; exiting');
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
