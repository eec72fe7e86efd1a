/**
 * The real controller process on the simulator board: SIGTERM mid-session vents every station
 * and reports the session interrupted before the process exits; after SIGKILL mid-session a new
 * controller starts with every output in the safe state and a stale socket file does not stop it.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ControllerClient } from '../ipc/client.js';
import { PACKAGE_ROOT } from '../paths.js';
import type { SessionReport, StationFrame } from '../protocol.js';
import { presetById } from './programs/presets.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  out: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startController(dataDir: string): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/control-loop/main.ts'], {
    cwd: PACKAGE_ROOT,
    env: { ...process.env, PRESSO_BOARD: 'simulator', PRESSO_DATA_DIR: dataDir, PRESSO_LOG_PRESSURES: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out: string[] = [];
  child.stdout?.on('data', (b: Buffer) => out.push(...b.toString().split('\n').filter(Boolean)));
  child.stderr?.on('data', (b: Buffer) => out.push(...b.toString().split('\n').filter(Boolean)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, out, exited };
}

async function connect(dataDir: string, ctl: Running): Promise<ControllerClient> {
  // The web process's way: keep retrying until the controller answers (it takes ~1 s to start),
  // but give up with the controller's own words if it exits or takes too long.
  const client = new ControllerClient();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(join(dataDir, 'controller.sock'), { retry: true }),
      ctl.exited.then(({ code }) =>
        Promise.reject(new Error(`controller exited (${code}):\n${ctl.out.join('\n')}`)),
      ),
      new Promise((_r, reject) => {
        timer = setTimeout(
          () => reject(new Error(`controller did not answer in 30 s:\n${ctl.out.join('\n')}`)),
          30_000,
        );
      }),
    ]);
  } catch (e) {
    client.close();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return client;
}

async function waitFor<T>(what: string, get: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startSession(client: ControllerClient): Promise<void> {
  await client.request('start', {
    stationId: 'bay-1',
    sessionId: 'proc-test',
    program: presetById('leg-circulation')!,
    durationMin: 10,
  });
  // Wait until zone 1 is really being inflated.
  await waitFor('zone 1 above 8 mmHg', async () => {
    const [f] = await client.request('state', { stationId: 'bay-1' });
    return (f?.zones[0]?.pressureMmHg ?? 0) > 8 ? true : undefined;
  });
}

const safe = (f: StationFrame) => f.pumpDuty === 0 && f.zones.every((z) => !z.inlet && !z.exhaust);

describe('controller process', { timeout: 90_000 }, () => {
  it('SIGTERM mid-session vents, reports the session interrupted, then exits 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'presso-proc-'));
    dirs.push(dataDir);
    const ctl = startController(dataDir);
    const client = await connect(dataDir, ctl);
    await startSession(client);
    const ended = new Promise<SessionReport>((resolve) => client.on('session-ended', resolve));
    ctl.child.kill('SIGTERM');
    const report = await ended;
    assert.equal(report.end, 'interrupted');
    assert.equal(report.stationId, 'bay-1');
    const { code } = await ctl.exited;
    client.close();
    assert.equal(code, 0);
    const venting = ctl.out.findIndex((l) => l.includes('SIGTERM: venting every station'));
    const written = ctl.out.findIndex((l) => l.includes('safe state written (1 session(s) interrupted)'));
    assert.ok(venting >= 0 && written > venting, `log order:\n${ctl.out.join('\n')}`);
  });

  it('a controller whose log reader went away keeps running and still stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'presso-proc-'));
    dirs.push(dataDir);
    const ctl = startController(dataDir);
    const client = await connect(dataDir, ctl);
    // The reading ends of its stdout and stderr close (a pipe into `head`, a killed pm2 daemon):
    // its next log line gets EPIPE.
    ctl.child.stdout?.destroy();
    ctl.child.stderr?.destroy();
    await startSession(client);
    const [running] = await client.request('state', { stationId: 'bay-1' });
    assert.equal(running?.state, 'running', 'it carries on with no one reading its log');
    ctl.child.kill('SIGTERM');
    const timer = setTimeout(() => ctl.child.kill('SIGKILL'), 15_000);
    const { code, signal } = await ctl.exited;
    clearTimeout(timer);
    client.close();
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, 'vented and exited on SIGTERM');
  });

  it('after SIGKILL mid-session a new controller starts with every output safe', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'presso-proc-'));
    dirs.push(dataDir);
    const first = startController(dataDir);
    const c1 = await connect(dataDir, first);
    await startSession(c1);
    const [running] = await c1.request('state', { stationId: 'bay-1' });
    assert.equal(running?.state, 'running');
    assert.ok(!safe(running!), 'outputs were active before the kill');
    first.child.kill('SIGKILL');
    const { signal } = await first.exited;
    assert.equal(signal, 'SIGKILL');
    c1.close();

    // The socket file is left behind; the new controller must replace it and start safe.
    const second = startController(dataDir);
    const c2 = await connect(dataDir, second);
    const frames = await c2.request('state', {});
    assert.equal(frames.length, 4);
    for (const f of frames) {
      assert.equal(f.state, 'idle', `${f.id} idle`);
      assert.ok(safe(f), `${f.id}: pump off, inlets shut, exhausts open`);
    }
    c2.close();
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0);
  });
});
