/**
 * pm2 smoke test: the real pm2 7 runs ecosystem.config.js from the compiled output, on the
 * simulator board, with its own PM2_HOME, data directory, log directory and port, so nothing is
 * shared with a pm2 or a gateway already on this machine.
 *
 * It checks what the Pi relies on:
 * - pm2 loads the ES-module process file and starts the apps; /api/health says the controller is
 *   connected;
 * - with NOTIFY_SOCKET set (as under systemd) the watchdog notifier sends READY=1 and WATCHDOG=1 to
 *   a stand-in for systemd's socket while the gateway is healthy, and stops feeding it when the
 *   controller is gone;
 * - a running session, stopped the way the unit's ExecStop= does it (scripts/stop-controller.sh),
 *   is vented and reported before the controller exits: the controller's log says so, and the
 *   database file records how the session ended;
 * - `pm2 kill` ends that pm2 daemon, and only that one (its pid from PM2_HOME).
 * And the built safe-state entry (scripts/safe-state.mjs) runs on the simulator profile.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './support/ensure-built.js';
import { freePort } from './support/ports.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const PM2 = join(REPO_ROOT, 'node_modules/pm2/bin/pm2');
const ADMIN_TOKEN = 'pm2-smoke-test-token-0123456789';
const START_TIMEOUT_MS = 45_000;

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until)
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A stand-in for systemd's notification socket: a Python AF_UNIX datagram receiver (Node has no
 * such socket) that prints each message on one line, newlines turned into spaces.
 */
function notifyReceiver(path: string): { child: ChildProcess; messages: () => string[] } {
  const script = [
    'import socket, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    `s.bind(${JSON.stringify(path)})`,
    'print("ready", flush=True)',
    'while True:',
    '    print(s.recv(4096).decode().replace("\\n", " "), flush=True)',
  ].join('\n');
  const child = spawn('/usr/bin/python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, messages: () => out.split('\n').filter((l) => l !== '' && l !== 'ready') };
}

describe('pm2 smoke test (ecosystem.config.js with the real pm2 7)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'presso-pm2-'));
  const pm2Home = join(dir, 'pm2');
  const dataDir = join(dir, 'data');
  const logDir = join(dir, 'logs');
  const notifySocket = join(dir, 'notify.sock');
  let port = 0;
  let env: NodeJS.ProcessEnv = {};
  let receiver: ReturnType<typeof notifyReceiver> | undefined;
  let daemonPid: number | undefined;

  const pm2 = (...args: string[]) => {
    const r = spawnSync(process.execPath, [PM2, ...args], {
      cwd: REPO_ROOT,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        'content-type': 'application/json',
        ...init.headers,
      },
      signal: AbortSignal.timeout(5000),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const logOf = (name: string) => {
    const f = join(logDir, `${name}.out.log`);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  };

  before(async () => {
    ensureBuilt();
    mkdirSync(pm2Home);
    mkdirSync(dataDir);
    mkdirSync(logDir);
    port = await freePort();
    receiver = notifyReceiver(notifySocket);
    await waitFor('notify receiver', 10_000, () => (existsSync(notifySocket) ? true : undefined));
    env = { ...process.env };
    delete env.NODE_TEST_CONTEXT; // pm2 and the apps are plain processes, not tests of this run
    Object.assign(env, {
      PM2_HOME: pm2Home,
      PRESSO_BOARD: 'simulator',
      PRESSO_DATA_DIR: dataDir,
      PRESSO_LOG_DIR: logDir,
      PRESSO_ADMIN_TOKEN: ADMIN_TOKEN,
      PRESSO_LOG_PRESSURES: '0',
      PORT: String(port),
      HOST: '127.0.0.1',
      NOTIFY_SOCKET: notifySocket,
      WATCHDOG_USEC: '2000000',
    });
  });

  after(() => {
    // Only the daemon of this test, by its own pid file: never a broad pm2 kill.
    const pidFile = join(pm2Home, 'pm2.pid');
    const pid = daemonPid ?? (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined);
    if (pid !== undefined && alive(pid)) pm2('kill');
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    receiver?.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts controller, web and watchdog; a session is vented and recorded on stop; the daemon ends', async () => {
    const started = pm2('start', join(REPO_ROOT, 'ecosystem.config.js'));
    assert.equal(started.code, 0, started.out);
    daemonPid = Number(readFileSync(join(pm2Home, 'pm2.pid'), 'utf8'));
    assert.ok(alive(daemonPid), 'pm2 daemon running');
    const list = JSON.parse(pm2('jlist').out.slice(pm2('jlist').out.indexOf('['))) as { name: string }[];
    assert.deepEqual(list.map((a) => a.name).sort(), ['controller', 'watchdog', 'web']);

    const health = await waitFor(
      'GET /api/health with the controller connected',
      START_TIMEOUT_MS,
      async () => {
        const h = await api('/api/health');
        return h.status === 200 && h.body.controller === 'connected' ? h.body : undefined;
      },
    );
    assert.equal(health.controller, 'connected');

    // A loaded CI box can stall the loop while both processes start: acknowledge such alarms.
    const session = await waitFor('a session started on bay-1', 40_000, async () => {
      const alarms = await api('/api/alarms');
      for (const a of (alarms.body.active as { id: string; latched: boolean }[] | null) ?? []) {
        if (a.latched)
          await api(`/api/alarms/${encodeURIComponent(a.id)}/acknowledge`, { method: 'POST', body: '{}' });
      }
      const r = await api('/api/stations/bay-1/start', {
        method: 'POST',
        body: JSON.stringify({
          programId: 'leg-circulation',
          client: 'pm2 smoke',
          pressureMmHg: 40,
          durationMin: 10,
        }),
      });
      return r.status === 201 ? (r.body.session as { id: string }) : undefined;
    });

    await waitFor('READY=1 and WATCHDOG=1 on the notify socket', 30_000, () =>
      receiver?.messages().some((m) => m.includes('READY=1') && m.includes('WATCHDOG=1')) ? true : undefined,
    );

    // What the unit's ExecStop= does: the controller first, while the web process still runs.
    const stop = spawnSync(join(REPO_ROOT, 'scripts/stop-controller.sh'), [], {
      env: { ...env, MAINPID: String(daemonPid) },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(stop.status, 0, `${stop.stdout}${stop.stderr}`);
    const log = logOf('controller');
    const vent = log.indexOf('SIGINT: venting every station');
    const written = log.indexOf('safe state written (1 session(s) interrupted); exiting');
    assert.ok(vent >= 0 && written > vent, `controller log:\n${log}`);
    assert.match(log, /session on bay-1 ended: interrupted/);

    // The web process got the report and the watchdog stopped feeding systemd.
    await waitFor('the session recorded as ended', 20_000, async () => {
      const r = await api(`/api/sessions/${session.id}`);
      const s = (r.body.session ?? r.body) as { status?: string };
      return s.status !== undefined && s.status !== 'running' ? true : undefined;
    });
    const seen = receiver?.messages().length ?? 0;
    const unhealthy = await waitFor('an unhealthy STATUS on the notify socket', 20_000, () =>
      receiver
        ?.messages()
        .slice(seen)
        .find((m) => m.includes('STATUS=unhealthy')),
    );
    assert.ok(!unhealthy.includes('WATCHDOG=1'), unhealthy);

    const killed = pm2('kill');
    assert.equal(killed.code, 0, killed.out);
    await waitFor('the pm2 daemon gone', 30_000, () => (alive(daemonPid!) ? undefined : true));

    // The web process flushed on its way out: the database file has the session's end.
    const db = JSON.parse(readFileSync(join(dataDir, 'presso.json'), 'utf8')) as {
      sessions: { id: string; status: string; endedAtEpochMs?: number }[];
    };
    const rec = db.sessions.find((s) => s.id === session.id);
    assert.equal(rec?.status, 'interrupted', JSON.stringify(rec));
    assert.ok(typeof rec?.endedAtEpochMs === 'number');
  });

  it('scripts/safe-state.mjs (the built entry ExecStopPost= runs) has nothing to drive on the simulator', () => {
    ensureBuilt();
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/safe-state.mjs')], {
      env: { ...process.env, PRESSO_BOARD: 'simulator' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /board "simulator" is simulated: nothing physical to drive/);
  });
});

describe('pm2-runtime in the foreground (what the systemd unit runs)', () => {
  it('SIGTERM stops the apps, the controller writes the safe state, pm2-runtime exits 0', async (t) => {
    ensureBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'presso-pm2rt-'));
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    delete env.NOTIFY_SOCKET;
    Object.assign(env, {
      PM2_HOME: join(dir, 'pm2'),
      PRESSO_BOARD: 'simulator',
      PRESSO_DATA_DIR: join(dir, 'data'),
      PRESSO_LOG_PRESSURES: '0',
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/pm2/bin/pm2-runtime'), 'start', join(REPO_ROOT, 'ecosystem.config.js')],
      { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    t.after(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    });
    await waitFor('GET /api/health with the controller connected', START_TIMEOUT_MS, async () => {
      const res = await fetch(`http://127.0.0.1:${port}/api/health`, { signal: AbortSignal.timeout(5000) });
      const body = (await res.json()) as { controller?: string };
      return body.controller === 'connected' ? true : undefined;
    });
    const stopAt = performance.now();
    child.kill('SIGTERM');
    const code = await exited;
    const stopMs = performance.now() - stopAt;
    t.diagnostic(`pm2-runtime stopped in ${Math.round(stopMs)} ms`);
    assert.equal(code, 0, out);
    assert.match(out, /\[controller\] SIGINT: venting every station/);
    assert.match(out, /\[controller\] safe state written/);
    // Well inside the unit's TimeoutStopSec (20 s): pm2, not systemd, ended the apps.
    assert.ok(stopMs < 15_000, `stop took ${Math.round(stopMs)} ms`);
  });
});
