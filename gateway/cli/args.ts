/** presso-ctl's command line: the usage text, and argv parsed into one invocation. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { controllerSocketPath } from '../paths.js';

export const USAGE = `Usage: presso-ctl [--socket PATH] <command>

Commands:
  status                                  stations with state, phase and zone pressures
  watch [station] [--count N]             a line per change, until Ctrl-C or N lines
  start <station> <programId> [--pressure MMHG] [--duration MIN]
                                          start a built-in program
  adjust <station> [--pressure MMHG] [--duration MIN]
                                          a running session's new pressure (from the next
                                          cycle) and/or total length, under its ceiling
  stop [station]                          stop (vent) one station, or every station
  alarms                                  active and latched alarms
  ack [station]                           acknowledge latched alarms
  self-test <station> <valve-click|sensor-zero|leak>
  counters                                maintenance counters

Socket: --socket, else $PRESSO_CONTROLLER_SOCKET, else $PRESSO_DATA_DIR/controller.sock
(PRESSO_DATA_DIR defaults to ./data).
Exit codes: 0 ok, 1 refused or failed, 2 usage, 3 controller not reachable.`;

/** A command line presso-ctl cannot run: exit 2 with the message and a pointer to --help. */
export class UsageError extends Error {}

export interface Invocation {
  socketPath: string;
  command: string;
  positionals: string[];
  pressure?: number;
  duration?: number;
  count?: number;
}

function positiveNumber(name: string, text: string | undefined, integer = false): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, not "${text}"`);
  }
  return n;
}

export function parse(argv: string[]): Invocation | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        socket: { type: 'string' },
        pressure: { type: 'string' },
        duration: { type: 'string' },
        count: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [command, ...rest] = positionals;
  if (command === undefined) throw new UsageError('no command given');
  if (
    (values.pressure !== undefined || values.duration !== undefined) &&
    command !== 'start' &&
    command !== 'adjust'
  ) {
    throw new UsageError('--pressure and --duration apply to "start" and "adjust" only');
  }
  if (values.count !== undefined && command !== 'watch') {
    throw new UsageError('--count applies to "watch" only');
  }
  return {
    socketPath: values.socket ? resolve(values.socket) : controllerSocketPath(),
    command,
    positionals: rest,
    pressure: positiveNumber('pressure', values.pressure),
    duration: positiveNumber('duration', values.duration),
    count: positiveNumber('count', values.count, true),
  };
}

export function expectArgs(inv: Invocation, min: number, max: number, shape: string): void {
  const n = inv.positionals.length;
  if (n < min || n > max) throw new UsageError(`usage: presso-ctl ${inv.command} ${shape}`.trimEnd());
}
