import { FakeStations } from '../control-loop/test-support/fake-stations.js';
import { stationFrame } from '../../test/support/frames.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test, type TestContext } from 'node:test';
import { IpcServer, type ControllerApi } from '../ipc/server.js';
import type { Logger } from '../drivers/io.js';
import {
  CommandError,
  type AlarmInfo,
  type CommandName,
  type Commands,
  type StartArgs,
  type StationFrame,
} from '../protocol.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = 'gateway/cli/presso-ctl.ts';
const CHILD_TIMEOUT_MS = 15_000;

const overPressure: AlarmInfo = {
  id: 'al-1',
  code: 'over-pressure',
  priority: 'high',
  stationId: 'st-1',
  zone: 2,
  reason: 'Zone 2 went over 70 mmHg; the station vented. Check the garment, then acknowledge.',
  raisedAtEpochMs: 1_000,
  latched: true,
  active: false,
};
const linkLost: AlarmInfo = {
  id: 'al-2',
  code: 'link-lost',
  priority: 'medium',
  stationId: null,
  reason: 'The I/O module stopped answering.',
  raisedAtEpochMs: 2_000,
  latched: false,
  active: true,
};

function frame(id: string, patch: Partial<StationFrame>): StationFrame {
  return stationFrame(id, {
    name: `Lounge ${id.slice(3)}`,
    sampledAtEpochMs: Date.UTC(2025, 0, 1, 9, 30, 0),
    ...patch,
  });
}

/** Two stations, one running with an alarm: what the CLI prints comes from here. */
class FakeController extends FakeStations implements ControllerApi {
  override readonly stations = new Map<string, StationFrame>([
    [
      'st-1',
      frame('st-1', {
        state: 'running',
        phase: { kind: 'inflating', zone: 2 },
        session: {
          id: 's-9',
          ceilingMmHg: 100,
          programId: 'leg-recovery-pulse',
          programName: 'Sports recovery – legs',
          programVersion: 1,
          cycle: 3,
          elapsedS: 300,
          remainingS: 754,
          pressureMmHg: 60,
          durationMin: 20,
          adjustPending: false,
        },
        zones: [
          { zone: 1, pressureMmHg: 42.4, targetMmHg: 50, sensor: 'ok', inlet: false, exhaust: false },
          { zone: 2, pressureMmHg: 38, targetMmHg: 45, sensor: 'ok', inlet: true, exhaust: false },
          { zone: 3, pressureMmHg: null, targetMmHg: 0, sensor: 'error', inlet: false, exhaust: true },
        ],
        pumpDuty: 0.6,
        alarms: [overPressure],
      }),
    ],
    ['st-2', frame('st-2', { link: 'degraded' })],
  ]);
  readonly received: { cmd: string; args: Record<string, unknown> }[] = [];

  async command<K extends CommandName>(cmd: K, args: Commands[K][0]): Promise<Commands[K][1]> {
    this.received.push({ cmd, args: args as Record<string, unknown> });
    return this.handle(cmd, args as Record<string, unknown>) as Commands[K][1];
  }

  private handle(cmd: CommandName, args: Record<string, unknown>): unknown {
    switch (cmd) {
      case 'state':
        return args.stationId === undefined ? [...this.stations.values()] : [this.station(args.stationId)];
      case 'start': {
        const a = args as unknown as StartArgs;
        const s = this.station(a.stationId);
        if (s.state !== 'idle')
          throw new CommandError('refused', `station ${s.id} is ${s.state}; stop it first`);
        return { ...s, state: 'running' };
      }
      case 'adjust': {
        const s = this.station(args.stationId);
        if (s.session === null)
          throw new CommandError('refused', `station ${s.id} is ${s.state}: no session to adjust`);
        return {
          ...s,
          session: {
            ...s.session,
            pressureMmHg: args.pressureMmHg ?? s.session.pressureMmHg,
            adjustPending: true,
          },
        };
      }
      case 'stop': {
        const ids =
          args.stationId === undefined ? [...this.stations.keys()] : [this.station(args.stationId).id];
        return ids.map((id) => ({ ...this.station(id), state: 'venting', phase: null }));
      }
      case 'alarms':
        return [linkLost, overPressure];
      case 'acknowledge':
        return args.stationId === 'st-2' ? [] : [overPressure];
      case 'counters':
        return [
          {
            stationId: 'st-1',
            pumpRunMs: 5_400_000,
            pumpStarts: 120,
            inletCycles: [300, 298],
            exhaustCycles: [301, 299],
            trips: 1,
            leakDuty: [0.02, 0.125],
          },
        ];
      case 'self-test':
        return {
          stationId: this.station(args.stationId).id,
          kind: args.kind,
          ok: false,
          details: ['zone 1: holds', 'zone 2: loses 9 mmHg/min, check the hose'],
          values: [0.4, 9],
          atEpochMs: 0,
        };
      default:
        throw new CommandError('unknown-command', `the fake does not do "${cmd}"`);
    }
  }
}

const silent: Logger = { info: () => {}, warn: () => {}, error: () => {} };

async function fixture(t: TestContext): Promise<{ fake: FakeController; socketPath: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'presso-ctl-'));
  const socketPath = join(dir, 'controller.sock');
  const fake = new FakeController();
  const server = new IpcServer(fake, socketPath, silent);
  await server.start();
  t.after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { fake, socketPath, dir };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(
  t: TestContext,
  args: string[],
  env: Record<string, string> = {},
  onStdout?: () => void,
): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, PRESSO_CONTROLLER_SOCKET: '', PRESSO_DATA_DIR: '/nonexistent', TZ: 'UTC', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    onStdout?.();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`presso-ctl ${args.join(' ')} did not exit within ${CHILD_TIMEOUT_MS} ms`));
    }, CHILD_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('presso-ctl', { timeout: 60_000 }, () => {
  test('status prints a table of stations and their alarms', async (t) => {
    const { socketPath } = await fixture(t);
    const r = await cli(t, ['--socket', socketPath, 'status']);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      [
        'STATION  NAME      STATE    PHASE         PROGRAM             CYCLE  LEFT   LINK      ALARMS  ZONES mmHg (measured/target)',
        'st-1     Lounge 1  running  inflating z2  leg-recovery-pulse  3      12:34  ok        1       42/50 38/45 --/0',
        'st-2     Lounge 2  idle     -             -                   -      -      degraded  0       0/0 0/0 0/0 0/0',
        '',
        'PRIORITY  STATION  ZONE  ALARM          STATUS            REASON',
        `HIGH      st-1     2     over-pressure  cleared, latched  ${overPressure.reason}`,
        '',
      ].join('\n'),
    );
  });

  test('the socket defaults to $PRESSO_DATA_DIR/controller.sock', async (t) => {
    const { dir } = await fixture(t);
    const r = await cli(t, ['status'], { PRESSO_DATA_DIR: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^STATION/);
  });

  test('stop vents the named station and says which', async (t) => {
    const { fake, socketPath } = await fixture(t);
    const r = await cli(t, ['--socket', socketPath, 'stop', 'st-1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^stopping 1 station\(s\)\n/);
    assert.match(r.stdout, /\nst-1 +Lounge 1 +venting /);
    assert.deepEqual(fake.received.at(-1), {
      cmd: 'stop',
      args: { stationId: 'st-1', reason: 'stopped with presso-ctl' },
    });
  });

  test('start sends the built-in program with a cli session id; a refusal exits 1 with the reason', async (t) => {
    const { fake, socketPath } = await fixture(t);
    const ok = await cli(t, [
      '--socket',
      socketPath,
      'start',
      'st-2',
      'leg-recovery-pulse',
      '--pressure',
      '45',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      /^started "Sports recovery – legs" \(leg-recovery-pulse v1\) on st-2, session cli-\d+\n/,
    );
    const sent = fake.received.at(-1)?.args as unknown as StartArgs;
    assert.equal(sent.program.id, 'leg-recovery-pulse');
    assert.equal(sent.program.mode, 'pulse', 'the whole program travels, not just its id');
    assert.match(sent.sessionId, /^cli-\d+$/);
    assert.equal(sent.pressureMmHg, 45);
    assert.equal(sent.durationMin, undefined);

    const refused = await cli(t, [
      '--socket',
      socketPath,
      'start',
      'st-1',
      'leg-warm-up-wave',
      '--duration',
      '10',
    ]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.equal(refused.stderr, 'presso-ctl: start refused: station st-1 is running; stop it first\n');

    const missing = await cli(t, ['--socket', socketPath, 'stop', 'st-7']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'presso-ctl: stop failed (not-found): no station "st-7"\n');
  });

  test('adjust sends the new pressure to the running session; an idle station refuses', async (t) => {
    const { fake, socketPath } = await fixture(t);
    const ok = await cli(t, ['--socket', socketPath, 'adjust', 'st-1', '--pressure', '50']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^adjusted st-1: 50 mmHg, 20 min \(the zones follow from the next cycle\)\n/);
    assert.deepEqual(fake.received.at(-1), {
      cmd: 'adjust',
      args: { stationId: 'st-1', pressureMmHg: 50, by: 'presso-ctl' },
    });
    const refused = await cli(t, ['--socket', socketPath, 'adjust', 'st-2', '--duration', '30']);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, 'presso-ctl: adjust refused: station st-2 is idle: no session to adjust\n');
  });

  test('alarms, ack and counters print their tables', async (t) => {
    const { socketPath } = await fixture(t);
    const alarms = await cli(t, ['--socket', socketPath, 'alarms']);
    assert.equal(alarms.code, 0, alarms.stderr);
    const lines = alarms.stdout.split('\n');
    assert.match(lines[1] ?? '', /^HIGH +st-1 +2 +over-pressure +cleared, latched +Zone 2 went over/);
    assert.match(lines[2] ?? '', /^MEDIUM +all +- +link-lost +active +The I\/O module/);

    const ack = await cli(t, ['--socket', socketPath, 'ack', 'st-2']);
    assert.equal(ack.stdout, 'acknowledged 0 alarm(s)\n');

    const counters = await cli(t, ['--socket', socketPath, 'counters']);
    assert.equal(
      counters.stdout,
      [
        'STATION  PUMP HOURS  PUMP STARTS  TRIPS  INLET CYCLES  EXHAUST CYCLES  LEAK DUTY',
        'st-1     1.5         120          1      300/298       301/299         0.02/0.13',
        '',
      ].join('\n'),
    );
  });

  test('a failed self-test prints its details and exits 1', async (t) => {
    const { socketPath } = await fixture(t);
    const r = await cli(t, ['--socket', socketPath, 'self-test', 'st-1', 'leak']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stdout,
      'self-test leak on st-1: FAILED\n  zone 1: holds\n  zone 2: loses 9 mmHg/min, check the hose\n  values: 0.40 9.00\n',
    );
    assert.equal(r.stderr, 'presso-ctl: self-test leak on st-1 failed\n');
  });

  test('watch prints a line per change of the station and stops after --count lines', async (t) => {
    const { fake, socketPath } = await fixture(t);
    let changes = 0;
    const run = cli(t, ['--socket', socketPath, 'watch', 'st-1', '--count', '3'], {}, () => {
      // Each printed line prompts the next change; st-2 changes too and must not be printed.
      changes++;
      fake.update('st-2', { pumpDuty: changes / 10 });
      fake.update('st-1', { pumpDuty: changes / 10, sampledAtEpochMs: Date.UTC(2025, 0, 1, 9, 30, changes) });
    });
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.equal(
      lines[0],
      '09:30:00.000  st-1  running  inflating z2  zones 42/50 38/45 --/0  pump 60%  alarms 1',
    );
    assert.match(lines[1] ?? '', /^09:30:0\d\.000 /, 'the time of the sample behind the line');
    assert.equal(
      lines[1]?.slice(14),
      'st-1  running  inflating z2  zones 42/50 38/45 --/0  pump 10%  alarms 1',
    );
    assert.match(lines[2] ?? '', / pump 20% /);
  });

  test('an unreachable controller exits 3 naming the socket tried', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'presso-ctl-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const socketPath = join(dir, 'controller.sock');
    const r = await cli(t, ['status'], { PRESSO_CONTROLLER_SOCKET: socketPath });
    assert.equal(r.code, 3);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `presso-ctl: cannot reach the controller at ${socketPath} (no socket there). The controller may not be ` +
        'running; otherwise pass --socket PATH or set PRESSO_CONTROLLER_SOCKET.\n',
    );
  });

  test('bad usage exits 2 and says what was wrong', async (t) => {
    const { socketPath } = await fixture(t);
    const cases: [string[], RegExp][] = [
      [[], /no command given/],
      [['reboot'], /unknown command "reboot"/],
      [['start', 'st-1'], /usage: presso-ctl start <station> <programId>/],
      [
        ['start', 'st-1', 'no-such-program'],
        /unknown program "no-such-program"; built-in programs: leg-recovery-pulse,/,
      ],
      [['start', 'st-1', 'leg-warm-up-wave', '--pressure', 'lots'], /--pressure must be a positive number/],
      [['status', 'extra'], /usage: presso-ctl status/],
      [['status', '--pressure', '40'], /--pressure and --duration apply to "start" and "adjust" only/],
      [['adjust', 'st-1'], /adjust: give --pressure MMHG and\/or --duration MIN/],
      [['watch', '--count', '1.5'], /--count must be a positive integer/],
      [['self-test', 'st-1', 'smoke'], /self-test kind must be one of valve-click, sensor-zero, leak/],
      [['--verbose', 'status'], /Unknown option '--verbose'/],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(t, ['--socket', socketPath, ...args])));
    runs.forEach((r, i) => {
      const [args, message] = cases[i] ?? [[], /./];
      assert.equal(r.code, 2, `presso-ctl ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    });
    const offline = await cli(t, ['--socket', '/nonexistent/c.sock', 'self-test', 'st-1', 'smoke']);
    assert.equal(offline.code, 2, 'a typo is reported as such even when the controller is down');

    const help = await cli(t, ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: presso-ctl \[--socket PATH\] <command>/);
  });
});
