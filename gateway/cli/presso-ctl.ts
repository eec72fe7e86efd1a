#!/usr/bin/env node
/**
 * presso-ctl: the support tool. It talks to the controller over the same socket and protocol as
 * the web process, so it keeps working when the web process is down, which is when support
 * needs it most.
 *
 * Exit codes: 0 ok, 1 the controller refused or failed (message on stderr), 2 usage,
 * 3 the controller cannot be reached. Output is plain columns meant for people; its layout is
 * kept stable because scripts and tests read it.
 */
import type { Logger } from '../drivers/io.js';
import { ControllerClient, ControllerLinkError } from '../ipc/client.js';
import { CommandError, type SelfTestResult, type StationFrame } from '../protocol.js';
import { PRESETS, presetById } from '../control-loop/programs/presets.js';
import type { Program } from '../control-loop/programs/schema.js';
import { expectArgs, parse, USAGE, UsageError, type Invocation } from './args.js';
import { alarmTable, clockTime, countersTable, stationTable, watchLine } from './format.js';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_UNREACHABLE = 3;

/** A leak test holds pressure and watches it decay; the ordinary 2 s request timeout is far too
 * short for it. */
const SELF_TEST_TIMEOUT_MS = 5 * 60 * 1000;
const SELF_TEST_KINDS: readonly SelfTestResult['kind'][] = ['valve-click', 'sensor-zero', 'leak'];
const STOP_REASON = 'stopped with presso-ctl';

interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

const io: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

// ---------------------------------------------------------------- commands

const quietLog: Logger = {
  info: () => {},
  warn: (m) => io.err(`presso-ctl: ${m}`),
  error: (m) => io.err(`presso-ctl: ${m}`),
};

async function status(client: ControllerClient): Promise<number> {
  const frames = await client.request('state', {});
  if (frames.length === 0) {
    io.out('the controller reports no stations');
    return EXIT_OK;
  }
  io.out(stationTable(frames));
  const alarms = new Map(frames.flatMap((f) => f.alarms).map((a) => [a.id, a]));
  if (alarms.size > 0) io.out(`\n${alarmTable([...alarms.values()])}`);
  return EXIT_OK;
}

function startProgram(inv: Invocation): Program {
  const programId = inv.positionals[1] ?? '';
  const program = presetById(programId);
  if (program === undefined) {
    throw new UsageError(
      `unknown program "${programId}"; built-in programs: ${PRESETS.map((p) => p.id).join(', ')}`,
    );
  }
  return program;
}

async function start(client: ControllerClient, inv: Invocation): Promise<number> {
  const stationId = inv.positionals[0] ?? '';
  const program = startProgram(inv);
  const sessionId = `cli-${Date.now()}`;
  const frame = await client.request('start', {
    stationId,
    sessionId,
    program,
    ...(inv.pressure === undefined ? {} : { pressureMmHg: inv.pressure }),
    ...(inv.duration === undefined ? {} : { durationMin: inv.duration }),
  });
  io.out(
    `started "${program.name}" (${program.id} v${program.version}) on ${stationId}, session ${sessionId}`,
  );
  io.out(stationTable([frame]));
  return EXIT_OK;
}

function selfTestKind(inv: Invocation): SelfTestResult['kind'] {
  const kind = SELF_TEST_KINDS.find((k) => k === inv.positionals[1]);
  if (kind === undefined) throw new UsageError(`self-test kind must be one of ${SELF_TEST_KINDS.join(', ')}`);
  return kind;
}

async function selfTest(client: ControllerClient, inv: Invocation): Promise<number> {
  const stationId = inv.positionals[0] ?? '';
  const kind = selfTestKind(inv);
  const result = await client.request('self-test', { stationId, kind }, SELF_TEST_TIMEOUT_MS);
  io.out(`self-test ${result.kind} on ${result.stationId}: ${result.ok ? 'passed' : 'FAILED'}`);
  for (const line of result.details) io.out(`  ${line}`);
  if (result.values.length > 0) io.out(`  values: ${result.values.map((v) => v.toFixed(2)).join(' ')}`);
  if (!result.ok) io.err(`presso-ctl: self-test ${result.kind} on ${result.stationId} failed`);
  return result.ok ? EXIT_OK : EXIT_FAILED;
}

/** Prints until Ctrl-C or --count lines; survives controller restarts, saying so on stderr. */
async function watch(client: ControllerClient, inv: Invocation): Promise<number> {
  const stationId = inv.positionals[0];
  // Asking first turns a mistyped station into a 'not-found' error instead of silence.
  const initial = await client.request('state', stationId === undefined ? {} : { stationId });
  return new Promise<number>((done) => {
    const shown = new Map<string, string>();
    let printed = 0;
    const offs: (() => void)[] = [];
    const finish = () => {
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      for (const off of offs) off();
      done(EXIT_OK);
    };
    const show = (f: StationFrame) => {
      if (printed === inv.count || (stationId !== undefined && f.id !== stationId)) return;
      const line = watchLine(f);
      if (shown.get(f.id) === line) return;
      shown.set(f.id, line);
      io.out(`${clockTime(f.sampledAtEpochMs)}  ${line}`);
      printed++;
      if (printed === inv.count) finish();
    };
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
    offs.push(
      client.on('disconnected', ({ reason }) => io.err(`presso-ctl: ${reason}; waiting for the controller…`)),
      client.on('connected', () => io.err('presso-ctl: reconnected')),
      client.on('frame', show),
    );
    for (const f of initial) show(f);
  });
}

function checkAdjust(inv: Invocation): void {
  if (inv.pressure === undefined && inv.duration === undefined) {
    throw new UsageError('adjust: give --pressure MMHG and/or --duration MIN');
  }
}

async function adjust(client: ControllerClient, inv: Invocation): Promise<number> {
  const stationId = inv.positionals[0] ?? '';
  const frame = await client.request('adjust', {
    stationId,
    ...(inv.pressure === undefined ? {} : { pressureMmHg: inv.pressure }),
    ...(inv.duration === undefined ? {} : { durationMin: inv.duration }),
    by: 'presso-ctl',
  });
  const s = frame.session;
  io.out(
    `adjusted ${stationId}: ${s?.pressureMmHg ?? '?'} mmHg, ${s?.durationMin ?? '?'} min` +
      (s?.adjustPending ? ' (the zones follow from the next cycle)' : ''),
  );
  io.out(stationTable([frame]));
  return EXIT_OK;
}

async function stop(client: ControllerClient, inv: Invocation): Promise<number> {
  const stationId = inv.positionals[0];
  const frames = await client.request('stop', {
    ...(stationId === undefined ? {} : { stationId }),
    reason: STOP_REASON,
  });
  io.out(`stopping ${frames.length} station(s)`);
  if (frames.length > 0) io.out(stationTable(frames));
  return EXIT_OK;
}

async function alarms(client: ControllerClient): Promise<number> {
  const list = await client.request('alarms', {});
  io.out(list.length === 0 ? 'no alarms' : alarmTable(list));
  return EXIT_OK;
}

async function acknowledge(client: ControllerClient, inv: Invocation): Promise<number> {
  const stationId = inv.positionals[0];
  const acknowledged = await client.request('acknowledge', stationId === undefined ? {} : { stationId });
  io.out(`acknowledged ${acknowledged.length} alarm(s)`);
  if (acknowledged.length > 0) io.out(alarmTable(acknowledged));
  return EXIT_OK;
}

async function counters(client: ControllerClient): Promise<number> {
  const list = await client.request('counters', {});
  io.out(list.length === 0 ? 'no counters' : countersTable(list));
  return EXIT_OK;
}

interface CliCommand {
  /** Positional arguments: at least, at most, and their shape for the usage message. */
  args: [number, number, string];
  /** Usage checks beyond the count, run before connecting so a typo is never reported as an
   * unreachable controller. */
  check?: (inv: Invocation) => void;
  run: (client: ControllerClient, inv: Invocation) => Promise<number>;
}

const COMMANDS: Record<string, CliCommand> = {
  status: { args: [0, 0, ''], run: status },
  watch: { args: [0, 1, '[station] [--count N]'], run: watch },
  start: {
    args: [2, 2, '<station> <programId> [--pressure MMHG] [--duration MIN]'],
    check: startProgram,
    run: start,
  },
  adjust: {
    args: [1, 1, '<station> [--pressure MMHG] [--duration MIN]'],
    check: checkAdjust,
    run: adjust,
  },
  stop: { args: [0, 1, '[station]'], run: stop },
  alarms: { args: [0, 0, ''], run: alarms },
  ack: { args: [0, 1, '[station]'], run: acknowledge },
  'self-test': {
    args: [2, 2, `<station> <${SELF_TEST_KINDS.join('|')}>`],
    check: selfTestKind,
    run: selfTest,
  },
  counters: { args: [0, 0, ''], run: counters },
};

function unreachableMessage(socketPath: string, error: ControllerLinkError): string {
  const code = (error.cause as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT'
      ? 'no socket there'
      : code === 'ECONNREFUSED'
        ? 'a socket file is there but nothing listens on it'
        : code === 'EACCES'
          ? "permission denied: run as the controller's user or a member of its group"
          : error.message;
  return (
    `presso-ctl: cannot reach the controller at ${socketPath} (${why}). ` +
    'The controller may not be running; otherwise pass --socket PATH or set PRESSO_CONTROLLER_SOCKET.'
  );
}

async function main(argv: string[]): Promise<number> {
  let inv: Invocation;
  let command: CliCommand;
  try {
    const parsed = parse(argv);
    if (parsed === 'help') {
      io.out(USAGE);
      return EXIT_OK;
    }
    inv = parsed;
    const found = Object.hasOwn(COMMANDS, inv.command) ? COMMANDS[inv.command] : undefined;
    if (found === undefined) throw new UsageError(`unknown command "${inv.command}"`);
    command = found;
    expectArgs(inv, ...command.args);
    command.check?.(inv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`presso-ctl: ${e.message}\nRun "presso-ctl --help" for usage.`);
    return EXIT_USAGE;
  }

  const client = new ControllerClient({ log: quietLog });
  try {
    await client.connect(inv.socketPath);
    return await command.run(client, inv);
  } catch (e) {
    if (e instanceof CommandError) {
      const what = e.code === 'refused' ? 'refused' : `failed (${e.code})`;
      io.err(`presso-ctl: ${inv.command} ${what}: ${e.message}`);
      return EXIT_FAILED;
    }
    if (e instanceof ControllerLinkError) {
      if (e.code === 'unreachable') {
        io.err(unreachableMessage(inv.socketPath, e));
        return EXIT_UNREACHABLE;
      }
      io.err(`presso-ctl: ${e.message}`);
      return e.code === 'timeout' ? EXIT_FAILED : EXIT_UNREACHABLE;
    }
    throw e;
  } finally {
    await client.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    io.err(`presso-ctl: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = EXIT_FAILED;
  },
);
