/**
 * What the dashboard's browser tests run against: the real controller process (simulated board)
 * and the real web process (`gateway/server/main.ts`, as pm2 runs it) in a temp data dir, plus
 * Debian's Chromium driven by playwright-core. The web process can be stopped and started again
 * on the same port (the link-lost banner test). The dashboard is built first when dashboard/dist
 * is missing or older than its sources, so `npm test` works on a fresh clone.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { PACKAGE_ROOT } from '../../gateway/paths.js';
import {
  ADMIN_TOKEN,
  USERS,
  slowTickBoard,
  spawnController,
  type Controller,
} from '../../gateway/server/test-support/harness.js';
import { spawnWeb, type WebProcess } from '../../gateway/server/test-support/web-process.js';

export { USERS };
export const CHROMIUM = process.env.PRESSO_CHROMIUM ?? '/usr/bin/chromium';
/** Headless in a container as root, and nothing that phones home during a test. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SCREENSHOTS = join(PACKAGE_ROOT, 'docs', 'screenshots');
export const VIEWPORT = { width: 1280, height: 800 };

const DASHBOARD = join(PACKAGE_ROOT, 'dashboard');

function newestMtime(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((n) => newestMtime(join(path, n))));
}

/** Builds dashboard/dist when it is missing or older than anything it is built from. */
export function ensureDashboardBuilt(): void {
  const index = join(DASHBOARD, 'dist', 'index.html');
  const sources = Math.max(
    newestMtime(join(DASHBOARD, 'src')),
    newestMtime(join(DASHBOARD, 'index.html')),
    newestMtime(join(DASHBOARD, 'vite.config.ts')),
  );
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  const r = spawnSync(
    process.execPath,
    [
      join(PACKAGE_ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      'dashboard/vite.config.ts',
      '--logLevel',
      'warn',
    ],
    { cwd: PACKAGE_ROOT, stdio: 'inherit' },
  );
  if (r.status !== 0) throw new Error('dashboard build failed (npm run build:dashboard)');
}

/** Why a browser test cannot run here, or null. */
export function browserMissing(): string | null {
  return existsSync(CHROMIUM)
    ? null
    : `no Chromium at ${CHROMIUM} (bash scripts/install-test-deps.sh installs it)`;
}

export interface Gateway {
  base: string;
  web: WebProcess;
  controller: Controller;
  browser: Browser;
  /** A REST call as admin (the bearer token): test set-up, not what the pages do. */
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** A fresh browser context (own cookies) with one page at 1280×800 on `path`. */
  page(path: string): Promise<Page>;
  /** Stops the web process (SIGTERM, as pm2 would) and resolves when it has exited. */
  stopWeb(): Promise<void>;
  /** Starts the web process again on the same port. */
  startWeb(): Promise<void>;
  /** Closes the browser, stops both processes and removes the data dir. */
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** Create the test users (default); false leaves the database empty, as on a first start. */
  users?: boolean;
  /** More environment for the web process (the centre's broker, docs/centre.md). */
  env?: Record<string, string>;
}

/** The caller registers `close()` (t.after, or a module-level after hook). */
export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  ensureDashboardBuilt();
  const dataDir = mkdtempSync(join(tmpdir(), 'presso-dash-'));
  const controller = spawnController(dataDir, slowTickBoard(dataDir));
  // Chromium starting and rendering next to the controller on a 2-core machine can delay a tick
  // past the loop-stall limit (which vents the board). On the Pi systemd gives the controller a
  // higher priority; do the same here where allowed (root, as CI runs).
  try {
    if (controller.child.pid !== undefined) setPriority(controller.child.pid, -10);
  } catch {
    // Not root: the readyBoard() step below acknowledges a stray loop-stall instead.
  }
  const env = { PRESSO_ADMIN_TOKEN: ADMIN_TOKEN, PRESSO_LOGIN_ATTEMPTS_PER_MIN: '1000', ...options.env };
  let web = await spawnWeb(dataDir, env);
  const port = new URL(web.base).port;
  // Chromium runs niced for the same reason (a wrapper, since playwright only takes a binary path).
  const launcher = join(dataDir, 'chromium-niced');
  writeFileSync(launcher, `#!/bin/sh\nexec nice -n 10 ${CHROMIUM} "$@"\n`);
  chmodSync(launcher, 0o755);
  const browser = await chromium.launch({
    executablePath: launcher,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const close = async () => {
    await browser.close().catch(() => undefined);
    await web.kill();
    await controller.kill();
    rmSync(dataDir, { recursive: true, force: true });
  };

  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    // Commands go as JSON, {} when there is nothing to add (request-guard.ts).
    const sent = body ?? (method === 'GET' ? undefined : {});
    const res = await fetch(web.base + path, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(sent === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(sent === undefined ? {} : { body: JSON.stringify(sent) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  };

  const gw: Gateway = {
    get base() {
      return web.base;
    },
    get web() {
      return web;
    },
    controller,
    browser,
    admin,
    async page(path) {
      const context = await browser.newContext({ viewport: VIEWPORT });
      const page = await context.newPage();
      await page.goto(web.base + path);
      return page;
    },
    async stopWeb() {
      await web.kill('SIGTERM');
    },
    async startWeb() {
      web = await spawnWeb(dataDir, { ...env, PORT: port });
    },
    close,
  };

  try {
    await prepare(gw, options.users ?? true);
  } catch (e) {
    const output = web.output().slice(-3000);
    await close();
    throw new Error(`gateway set-up failed: ${String(e)}\n--- web process output ---\n${output}`, {
      cause: e,
    });
  }
  return gw;
}

/**
 * One gateway for all the tests of a file: started before the first (not at all when the browser
 * is missing: the tests skip themselves on `browserMissing()`), `ready` then opens what they share,
 * and closed after the last.
 */
export function gatewayForFile(ready: (gw: Gateway) => Promise<void>, options: GatewayOptions = {}): void {
  let gw: Gateway | undefined;
  // gw is unset when the browser is missing or the start failed.
  after(() => gw?.close());
  before(async () => {
    if (browserMissing()) return;
    gw = await startGateway(options);
    await ready(gw);
  });
}

/** Waits until all four stations of the simulator board show live values on `board`. */
export async function allLive(board: Page): Promise<void> {
  await board.locator('.tile.live').nth(3).waitFor({ timeout: 10_000 });
}

/** The staff board on a fresh page, once its four stations show live values. */
export async function openBoard(gw: Gateway): Promise<Page> {
  const board = await gw.page('/');
  await allLive(board);
  return board;
}

async function prepare(gw: Gateway, users: boolean): Promise<void> {
  for (const [role, u] of users ? Object.entries(USERS) : []) {
    await gw.admin('POST', '/api/users', { id: u.id, name: u.id.toUpperCase(), role, secret: u.secret });
  }
  await readyBoard(gw);
  mkdirSync(SCREENSHOTS, { recursive: true });
}

/**
 * Waits for `locator` to be visible. Meanwhile, any loop-stall (this machine under load) that
 * vented the board is acknowledged, as staff would, so a page waiting for an idle station gets one.
 */
export async function waitShown(gw: Gateway, locator: Locator, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await locator.waitFor({ timeout: 3000 });
      return;
    } catch (e) {
      if (Date.now() > until) throw e;
      await readyBoard(gw);
    }
  }
}

/** Logs a page into /support as the support user and waits for the controller report. */
export async function supportLogin(page: Page): Promise<void> {
  await page.locator('input[name=user]').fill(USERS.support.id);
  await page.locator('input[name=password]').fill(USERS.support.secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('controller-link').getByText('connected').waitFor({ timeout: 10_000 });
}

/** Unlocks the staff board with the staff user's PIN, typed on the PIN pad. */
export async function staffUnlock(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Unlock', exact: true }).click();
  const dialog = page.getByRole('dialog');
  await dialog.locator('input[name=user]').fill(USERS.staff.id);
  for (const digit of USERS.staff.secret) {
    await dialog.locator('.pin-pad').getByRole('button', { name: digit, exact: true }).click();
  }
  await dialog.getByRole('button', { name: 'Unlock', exact: true }).click();
  await page.getByTestId('lock-state').getByText(`Unlocked: ${USERS.staff.id}`).waitFor();
}

interface Health {
  controller: string;
}
interface StationList {
  stations: { id: string; state: string }[];
}
interface Alarms {
  active: { id: string; code: string; latched: boolean }[] | null;
}

/**
 * Waits until the controller is connected and every station idle. On this 2-core machine a busy
 * start can trip the controller's loop-stall rule, which vents the board (right for a controller,
 * not what these tests are about): that alarm is acknowledged here, as staff would.
 */
export async function readyBoard(gw: Pick<Gateway, 'admin'>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    const health = await gw.admin<Health>('GET', '/api/health').catch((e: unknown) => {
      last = String(e);
      return null;
    });
    if (health !== null) last = `controller ${health.controller}`;
    if (health?.controller === 'connected') {
      const { stations } = await gw.admin<StationList>('GET', '/api/stations');
      const { active } = await gw.admin<Alarms>('GET', '/api/alarms');
      for (const a of active ?? []) {
        if (a.code === 'loop-stall' && a.latched) {
          await gw.admin('POST', `/api/alarms/${a.id}/acknowledge`, {}).catch(() => undefined);
        }
      }
      if (stations.every((s) => s.state === 'idle') && !(active ?? []).some((a) => a.latched)) return;
      last = `${stations.map((s) => `${s.id}=${s.state}`).join(', ')}; alarms: ${(active ?? []).map((a) => `${a.code}${a.latched ? ' (latched)' : ''}`).join(', ')}`;
    }
    if (Date.now() > until) throw new Error(`the board did not become idle and alarm-free: ${last}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
