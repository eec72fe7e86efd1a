/**
 * `node scripts/safe-state.mjs` (this file, compiled): drives every output of the board profile in
 * PRESSO_BOARD (default "simulator") to the safe state and exits. systemd runs it as ExecStopPost=
 * after any exit of the gateway; staff can run it by hand when in doubt.
 *
 * Exit codes: 0 every output is safe, or the board is simulated and has nothing physical to drive;
 * 1 at least one device could not be made safe (the lines above say which and why);
 * 2 the board profile could not be read, so nothing could be driven.
 *
 * The run is bounded: every device has DEVICE_BUDGET_MS, all in parallel, and a last timer exits
 * with code 1 if something still hangs after that (a driver call that never returns must not keep
 * systemd from restarting the gateway).
 */
import { RealClock } from '../clock.js';
import { loadBoard } from '../board/load.js';
import type { Logger } from '../drivers/io.js';
import { DEVICE_BUDGET_MS, driveSafeState, formatReport } from './safe-state.js';

const PREFIX = '[safe-state]';
/** On top of the per-device budget: loading the board and printing. */
const EXIT_SLACK_MS = 2000;

const log: Logger = {
  info: (m) => console.log(`${PREFIX} ${m}`),
  warn: (m) => console.warn(`${PREFIX} warning: ${m}`),
  error: (m) => console.error(`${PREFIX} error: ${m}`),
};

async function main(): Promise<number> {
  const profile = process.env.PRESSO_BOARD || 'simulator';
  let board;
  try {
    board = loadBoard(profile);
  } catch (e) {
    log.error(
      `cannot read board profile "${profile}" (PRESSO_BOARD): ${(e as Error).message}; ` +
        `NO output was driven to the safe state`,
    );
    return 2;
  }
  log.info(`board "${board.name}" (${board.source}): driving every output to the safe state`);
  const report = await driveSafeState(board, { clock: new RealClock(), log });
  const lines = formatReport(report);
  for (const line of lines) (report.ok ? console.log : console.error)(`${PREFIX} ${line}`);
  return report.ok ? 0 : 1;
}

const deadline = setTimeout(() => {
  console.error(
    `${PREFIX} error: still not finished after ${DEVICE_BUDGET_MS + EXIT_SLACK_MS} ms; giving up`,
  );
  process.exit(1);
}, DEVICE_BUDGET_MS + EXIT_SLACK_MS);

main()
  .catch((e: unknown) => {
    console.error(`${PREFIX} error: ${(e as Error).stack ?? String(e)}`);
    return 1;
  })
  .then((code) => {
    clearTimeout(deadline);
    // Exit explicitly: onoff keeps an epoll watcher per exported line, and GPIO lines are left
    // exported on purpose (see safe-state.ts), so the event loop would not end by itself.
    process.exit(code);
  });
