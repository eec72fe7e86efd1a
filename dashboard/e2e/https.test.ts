/**
 * HTTPS on the LAN, as an installed gateway serves it: a local certificate authority and the
 * gateway's certificate made by scripts/make-tls.sh (real openssl), the real controller and web
 * process started with PRESSO_TLS_CERT/KEY and PRESSO_HTTP_PORT, then
 * - a client that trusts that authority talks to the API over HTTPS; one that does not is refused;
 * - the login cookie is Secure (and HttpOnly) under HTTPS;
 * - the plain-HTTP port redirects (308) to the same path over HTTPS and hands out the CA at /ca.crt;
 * - Debian's Chromium, made to trust the authority the way a Pi kiosk is (certutil into its NSS
 *   database, docs/deploy.md), opens the staff board over HTTPS and follows the redirect, while a
 *   Chromium that was not told refuses the certificate.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { PACKAGE_ROOT } from '../../gateway/paths.js';
import { ADMIN_TOKEN, spawnController, type Controller } from '../../gateway/server/test-support/harness.js';
import { spawnWeb, type WebProcess } from '../../gateway/server/test-support/web-process.js';
import { freePort } from '../../test/support/ports.js';
import { browserMissing, CHROMIUM, CHROMIUM_ARGS, ensureDashboardBuilt } from './gateway.js';

const skip = browserMissing();
const dir = mkdtempSync(join(tmpdir(), 'presso-https-'));
const tls = join(dir, 'tls');
let controller: Controller | undefined;
let web: WebProcess | undefined;
let httpPort = 0;
const browsers: Browser[] = [];

after(async () => {
  for (const b of browsers) await b.close().catch(() => undefined);
  await web?.kill();
  await controller?.kill();
  rmSync(dir, { recursive: true, force: true });
});

before(async () => {
  if (skip) return;
  ensureDashboardBuilt();
  const made = spawnSync('bash', [join(PACKAGE_ROOT, 'scripts/make-tls.sh'), tls, 'presso'], {
    encoding: 'utf8',
  });
  assert.equal(made.status, 0, made.stderr);
  const data = join(dir, 'data');
  mkdirSync(data);
  controller = spawnController(data);
  httpPort = await freePort();
  web = await spawnWeb(data, {
    PRESSO_ADMIN_TOKEN: ADMIN_TOKEN,
    PRESSO_TLS_CERT: join(tls, 'server.crt'),
    PRESSO_TLS_KEY: join(tls, 'server.key'),
    PRESSO_HTTP_PORT: String(httpPort),
    PRESSO_HOSTNAME: 'presso.local',
  });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request with node:https (trusting `ca` only) or node:http. */
function call(
  url: string,
  opts: { method?: string; ca?: Buffer; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, ...(opts.ca ? { ca: opts.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

test(
  'the API over HTTPS with the local CA; refused without it; Secure login cookie',
  { skip: skip ?? false },
  async () => {
    assert.ok(web);
    assert.match(web.base, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(join(tls, 'ca.crt'));
    const health = await call(`${web.base}/api/health`, { ca });
    assert.equal(health.status, 200);
    const body = JSON.parse(health.body.toString()) as {
      status: string;
      clock: { synchronized: boolean | null; source: string };
    };
    assert.equal(body.status, 'ok');
    assert.ok([true, false, null].includes(body.clock.synchronized), JSON.stringify(body.clock));
    // Node's own trust store does not know the local CA: the certificate is really checked.
    await assert.rejects(
      call(`${web.base}/api/health`),
      /unable to verify the first certificate|self-signed certificate in certificate chain/,
    );

    const user = await call(`${web.base}/api/users`, {
      method: 'POST',
      ca,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'sam', name: 'Sam', role: 'staff', secret: '246813' }),
    });
    assert.equal(user.status, 201, user.body.toString());
    const login = await call(`${web.base}/api/auth/login`, {
      method: 'POST',
      ca,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'sam', secret: '246813' }),
    });
    assert.equal(login.status, 200, login.body.toString());
    const cookie = String(login.headers['set-cookie']);
    assert.match(cookie, /^presso_login=/);
    assert.match(cookie, /; Secure/);
    assert.match(cookie, /; HttpOnly/);
    // The admin token's login (a fresh install's first) gets the same cookie.
    const tokenLogin = await call(`${web.base}/api/auth/token`, {
      method: 'POST',
      ca,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: ADMIN_TOKEN }),
    });
    assert.equal(tokenLogin.status, 200, tokenLogin.body.toString());
    assert.match(String(tokenLogin.headers['set-cookie']), /; Secure/);
  },
);

test(
  'plain HTTP redirects to HTTPS on the name the browser used, and hands out the CA',
  { skip: skip ?? false },
  async () => {
    assert.ok(web);
    const httpsPort = new URL(web.base).port;
    const r = await call(`http://127.0.0.1:${httpPort}/station/bay-1?x=1`, {
      headers: { host: 'presso.local' },
    });
    assert.equal(r.status, 308);
    assert.equal(r.headers.location, `https://presso.local:${httpsPort}/station/bay-1?x=1`);
    // A POST keeps its method through a 308: a STOP sent to the old address still arrives as a STOP.
    const stop = await call(`http://127.0.0.1:${httpPort}/api/stations/bay-1/stop`, { method: 'POST' });
    assert.equal(stop.status, 308);
    assert.equal(stop.headers.location, `https://127.0.0.1:${httpsPort}/api/stations/bay-1/stop`);
    // A Host header that is not a host name does not end up in the Location.
    const odd = await call(`http://127.0.0.1:${httpPort}/`, { headers: { host: 'a b/c' } });
    assert.equal(odd.headers.location, `https://presso.local:${httpsPort}/`);
    const ca = await call(`http://127.0.0.1:${httpPort}/ca.crt`);
    assert.equal(ca.status, 200);
    assert.deepEqual(ca.body, readFileSync(join(tls, 'ca.crt')));
  },
);

async function launch(home: string): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    env: { ...process.env, HOME: home },
    args: CHROMIUM_ARGS,
  });
  browsers.push(browser);
  return browser;
}

test(
  'Chromium that trusts the local CA opens the board over HTTPS; one that does not refuses',
  { skip: skip ?? false },
  async () => {
    assert.ok(web);
    // What docs/deploy.md tells a Pi kiosk: the CA into the user's NSS database with certutil.
    const home = join(dir, 'kiosk-home');
    const nss = join(home, '.pki/nssdb');
    mkdirSync(nss, { recursive: true });
    for (const args of [
      ['-N', '-d', `sql:${nss}`, '--empty-password'],
      ['-A', '-d', `sql:${nss}`, '-t', 'C,,', '-n', 'Presso Gateway local CA', '-i', join(tls, 'ca.crt')],
    ]) {
      const r = spawnSync('certutil', args, { encoding: 'utf8' });
      assert.equal(r.status, 0, `certutil ${args.join(' ')}: ${r.stderr}`);
    }
    const kiosk = await (await launch(home)).newPage();
    const answer = await kiosk.goto(`${web.base}/`);
    assert.equal(answer?.status(), 200);
    await kiosk.locator('.tile').first().waitFor({ timeout: 30_000 });
    assert.ok((await kiosk.locator('.tile').count()) >= 1, 'the staff board shows its stations');
    // The old plain address lands on the HTTPS board.
    await kiosk.goto(`http://127.0.0.1:${httpPort}/`);
    assert.equal(kiosk.url(), `${web.base}/`);

    const stranger = await (await launch(join(dir, 'stranger-home'))).newPage();
    await assert.rejects(stranger.goto(`${web.base}/`), /ERR_CERT_AUTHORITY_INVALID/);
  },
);
