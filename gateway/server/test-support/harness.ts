/**
 * A real controller process (simulated board) and a real server on 127.0.0.1:0, for the server's
 * tests. Each harness has its own data dir, socket and port, so test files run in parallel.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import { ControllerClient } from '../../ipc/client.js';
import { PACKAGE_ROOT } from '../../paths.js';
import { buildServer } from '../app.js';
import type { ServerConfig } from '../config.js';
import type { NotificationOptions } from '../plugins/notifications.js';
import { hashSecret } from '../secrets.js';
import { JsonStore } from '../../store/store.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const USERS = {
  staff: { id: 'sam', secret: '246813' },
  support: { id: 'sue', secret: 'support-password' },
  admin: { id: 'ada', secret: 'admin-password!' },
  viewer: { id: 'vic', secret: 'viewer-password' },
} as const;

export interface Controller {
  child: ChildProcess;
  dataDir: string;
  socketPath: string;
  /** Kills the controller (SIGKILL: a crash) and resolves when it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The controller process on `board` (a profile name or a board file's path). */
export function spawnController(dataDir: string, board = 'simulator'): Controller {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/control-loop/main.ts'], {
    cwd: PACKAGE_ROOT,
    env: { ...process.env, PRESSO_DATA_DIR: dataDir, PRESSO_BOARD: board, PRESSO_LOG_PRESSURES: '0' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    dataDir,
    socketPath: join(dataDir, 'controller.sock'),
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface Harness {
  app: FastifyInstance;
  store: JsonStore;
  client: ControllerClient;
  controller: Controller;
  base: string;
  /** Cookie header of a logged-in user of each role. */
  cookies: Record<keyof typeof USERS, string>;
  /** Moves the server's clock (logins expire by it). */
  clock: { offsetMs: number };
  socket(): Promise<ClientSocket>;
  close(): Promise<void>;
}

/**
 * Waits until every station is idle. On this 2-CPU machine, with test files in parallel, the
 * controller's loop-stall rule sometimes trips (a tick 60 ms late) and vents the board: correct
 * behaviour, but not what the test is about, so a loop-stall alarm is acknowledged here as staff
 * would. Any other latched alarm is left alone and fails the wait.
 */
export async function readyBoard(client: ControllerClient, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const frames = await client.request('state', {});
    if (frames.every((f) => f.state === 'idle')) return;
    const alarms = await client.request('alarms', {});
    for (const a of alarms) {
      if (a.code === 'loop-stall' && a.latched) {
        await client.request('acknowledge', { alarmId: a.id }).catch(() => undefined);
      }
    }
    if (Date.now() > until) {
      throw new Error(
        `board not idle: ${frames.map((f) => `${f.id}=${f.state}`).join(', ')}; alarms: ${alarms.map((a) => a.code).join(', ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The default simulator board at its lowest allowed tick rate (LIMITS.loopRateHz), written into
 * `dataDir`; returns its path. The late-tick rule (gateway/control-loop/late-tick.ts) counts
 * lateness in periods (LIMITS.loopLatePeriods) before its hard limit, so a slower tick gives a
 * loaded 2-core machine more room before a vent. For tests about the dashboard or the API over many
 * seconds; the controller's timing has its own tests.
 */
export function slowTickBoard(dataDir: string): string {
  const board = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'config', 'simulator.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  board.loopRateHz = 20;
  const path = join(dataDir, 'board.json');
  writeFileSync(path, JSON.stringify(board, null, 2));
  return path;
}

export interface HarnessOptions {
  loginAttemptsPerMin?: number;
  config?: Partial<ServerConfig>;
  /** Run the controller on slowTickBoard(): for tests that keep sessions running for seconds. */
  slowTick?: boolean;
  notifications?: NotificationOptions;
  /** Where the server's log lines go (JSON lines at level info); absent = no logger. */
  logStream?: { write(line: string): void };
}

/**
 * Where a harness registers its own shutdown: a test's context (node:test runs it after the test),
 * or a campaign's list of cleanups that it runs when done.
 */
export interface CleanupHook {
  after(fn: () => unknown): void;
}

export async function startHarness(t: CleanupHook, options: HarnessOptions = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'presso-server-'));
  const controller = spawnController(dataDir, options.slowTick ? slowTickBoard(dataDir) : undefined);
  const store = new JsonStore({ dataDir, writeDelayMs: 20 });
  await store.open();
  for (const [role, u] of Object.entries(USERS)) {
    store.putUser({
      id: u.id,
      name: u.id.toUpperCase(),
      role: role as keyof typeof USERS,
      secretHash: await hashSecret(u.secret),
      createdAtEpochMs: Date.now(),
    });
  }
  const client = new ControllerClient({
    log: { info: () => {}, warn: () => {}, error: (m) => console.error(m) },
  });
  await client.connect(controller.socketPath, { retry: true });
  await readyBoard(client);
  const config: ServerConfig = {
    port: 0,
    host: '127.0.0.1',
    dataDir,
    controllerSocket: controller.socketPath,
    adminToken: ADMIN_TOKEN,
    loginTtlMin: 60,
    // The role matrix logs in many times; the login limit has its own test.
    loginAttemptsPerMin: options.loginAttemptsPerMin ?? 1000,
    minPinDigits: 6,
    allowedHosts: [],
    maxSocketsPerAddress: 8,
    maxSockets: 64,
    ...options.config,
  };
  const clock = { offsetMs: 0 };
  const app = await buildServer({
    config,
    store,
    controller: client,
    now: () => Date.now() + clock.offsetMs,
    ...(options.notifications !== undefined ? { notifications: options.notifications } : {}),
    ...(options.logStream !== undefined ? { logger: { level: 'info', stream: options.logStream } } : {}),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  await app.link.settled();
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const base = `http://127.0.0.1:${address.port}`;

  const cookies = {} as Record<keyof typeof USERS, string>;
  for (const [role, u] of Object.entries(USERS)) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { user: u.id, secret: u.secret },
    });
    if (res.statusCode !== 200) throw new Error(`login ${u.id}: ${res.body}`);
    const c = res.cookies[0];
    if (c === undefined) throw new Error('no cookie');
    cookies[role as keyof typeof USERS] = `${c.name}=${c.value}`;
  }

  const sockets: ClientSocket[] = [];
  let closed = false;
  const harness: Harness = {
    app,
    store,
    client,
    controller,
    base,
    cookies,
    clock,
    async socket() {
      const s = ioClient(base, { transports: ['websocket'], reconnection: false, forceNew: true });
      sockets.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('connect_error', reject);
      });
      return s;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.close();
      await app.close();
      await client.close();
      await store.close();
      await harness.controller.kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  t.after(() => harness.close());
  return harness;
}

/** Staff offer leg-relaxation for walk-up use on lounge-1, at most 35 mmHg for 15 min. */
export async function enableLoungeWalkUp(h: Harness): Promise<void> {
  const res = await h.app.inject({
    method: 'PUT',
    url: '/api/stations/lounge-1/settings',
    headers: { cookie: h.cookies.staff },
    payload: {
      walkUpEnabled: true,
      walkUpPrograms: ['leg-relaxation'],
      walkUpMaxPressureMmHg: 35,
      walkUpMaxDurationMin: 15,
    },
  });
  if (res.statusCode !== 200) throw new Error(`walk-up settings: ${res.statusCode} ${res.body}`);
}

/** Resolves with the first event `name` for which `match` holds, or rejects after `timeoutMs`. */
export function nextEvent<T>(
  s: ClientSocket,
  name: string,
  match: (data: T) => boolean = () => true,
  timeoutMs = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.off(name, on);
      reject(new Error(`no "${name}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (data: T) => {
      if (!match(data)) return;
      clearTimeout(timer);
      s.off(name, on);
      resolve(data);
    };
    s.on(name, on);
  });
}

/** Polls `check` until it returns a value other than undefined. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Runs a start request on a ready board; when a loop-stall trip (see readyBoard) faulted the board
 * between the wait and the request, waits again and repeats it, at most three times. Any other
 * answer is returned as it is.
 */
export async function startOnReadyBoard<R extends { statusCode: number; body: string }>(
  client: ControllerClient,
  start: () => Promise<R>,
): Promise<R> {
  for (let i = 0; ; i++) {
    await readyBoard(client);
    const res = await start();
    if (
      i >= 2 ||
      res.statusCode !== 409 ||
      !/is (fault|venting), not idle|has a latched alarm/.test(res.body)
    )
      return res;
  }
}
