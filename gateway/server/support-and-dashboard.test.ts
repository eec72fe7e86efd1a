/**
 * Remote support's read-only endpoints (controller report, board configuration, log download)
 * with their role checks, against a real controller on the simulated board; and the dashboard's
 * static serving: 503 with what to do before the first build, index.html for the app's paths
 * after it, never for /api.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Fastify from 'fastify';
import type { ControllerInfo } from '../protocol.js';
import { dashboardRoutes, NOT_BUILT_MESSAGE } from './routes/dashboard.js';
import { redactSecrets } from './routes/support.js';
import { ADMIN_TOKEN, startHarness, type Harness } from './test-support/harness.js';

type Who = 'anonymous' | 'viewer' | 'staff' | 'support' | 'admin' | 'token';

function headers(h: Harness, who: Who): Record<string, string> {
  if (who === 'anonymous') return {};
  if (who === 'token') return { authorization: `Bearer ${ADMIN_TOKEN}` };
  return { cookie: h.cookies[who] };
}

const SUPPORT_URLS = ['/api/support/controller', '/api/support/config', '/api/support/logs'];

test('support endpoints: only support and admin; controller report, redacted board config, log download', async (t) => {
  const h = await startHarness(t);

  for (const url of SUPPORT_URLS) {
    const expected: Record<Who, number> = {
      anonymous: 401,
      viewer: 403,
      staff: 403,
      support: 200,
      admin: 200,
      token: 200,
    };
    for (const [who, status] of Object.entries(expected) as [Who, number][]) {
      const res = await fetch(h.base + url, { headers: headers(h, who) });
      assert.equal(res.status, status, `${who} GET ${url}`);
      await res.arrayBuffer();
    }
  }

  const controller = (await (
    await fetch(`${h.base}/api/support/controller`, { headers: headers(h, 'support') })
  ).json()) as { connected: boolean; info: ControllerInfo };
  assert.equal(controller.connected, true);
  assert.equal(controller.info.board, 'simulator');
  assert.equal(controller.info.simulated, true);
  assert.ok(controller.info.loop.periodMs > 0, 'loop timing is reported');
  assert.ok(Object.keys(controller.info.devices).length > 0, 'every I/O device reports its link state');
  for (const d of Object.values(controller.info.devices)) assert.match(d.state, /^(ok|degraded|offline)$/);

  const config = (await (
    await fetch(`${h.base}/api/support/config`, { headers: headers(h, 'support') })
  ).json()) as { board: { name: string; stations: { id: string }[] }; limits: Record<string, unknown> };
  assert.equal(config.board.name, 'simulator');
  assert.deepEqual(
    config.board.stations.map((s) => s.id),
    ['bay-1', 'bay-2', 'bay-3', 'lounge-1'],
  );
  assert.ok('sessionMaxMin' in config.limits);

  // Something to find in the log: an anonymous stop is a request and an audit entry.
  await fetch(`${h.base}/api/stations/bay-1/stop`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  const logs = await fetch(`${h.base}/api/support/logs`, { headers: headers(h, 'support') });
  assert.match(logs.headers.get('content-type') ?? '', /^text\/plain/);
  assert.match(
    logs.headers.get('content-disposition') ?? '',
    /^attachment; filename="presso-support-.*\.txt"$/,
  );
  const text = await logs.text();
  assert.match(text, /^# Presso Gateway support log/);
  assert.match(
    text,
    /POST \/api\/stations\/bay-1\/stop 200 \d+ms anonymous/,
    'the request ring has the stop',
  );
  assert.match(text, /## audit[\s\S]*anonymous \(anonymous\) POST \/api\/stations\/bay-1\/stop ok/);
  assert.match(text, /## alarm history/);
  assert.doesNotMatch(text, new RegExp(ADMIN_TOKEN), 'no secret in the download');
});

test('redactSecrets hides credential-looking keys at any depth and keeps the rest', () => {
  assert.deepEqual(
    redactSecrets({
      host: '10.0.0.5',
      port: 502,
      auth: { password: 'x', apiKey: 'y' },
      list: [{ token: 't' }],
    }),
    {
      host: '10.0.0.5',
      port: 502,
      auth: { password: '[redacted]', apiKey: '[redacted]' },
      list: [{ token: '[redacted]' }],
    },
  );
});

test('redactSecrets hides every secret shape: credential keys, PINs, and user:password in URLs', () => {
  const shapes: Record<string, unknown> = {
    password: 'p1',
    pass: 'p2',
    pwd: 'p3',
    secret: 'p4',
    apiToken: 'p5',
    privateKey: 'p6',
    credentials: 'p7',
    auth: 'p8',
    bearer: 'p9',
    sessionCookie: 'p10',
    pin: '2468',
    adminPin: 1357,
    staff_pin: '9753',
    PIN: '1111',
  };
  const redacted = redactSecrets({
    ...shapes,
    keep: { spin: 3, pins: [17, 27], host: '10.0.0.5' },
  }) as Record<string, unknown>;
  for (const key of Object.keys(shapes)) assert.equal(redacted[key], '[redacted]', key);
  assert.deepEqual(redacted.keep, { spin: 3, pins: [17, 27], host: '10.0.0.5' }, 'look-alikes are kept');
  assert.deepEqual(
    redactSecrets({
      modbus: 'tcp://admin:secret@10.0.0.5:502',
      broker: ['mqtts://user:pa%40ss@broker.local:8883/presso'],
      userOnly: 'http://token123@host/x',
      plain: 'http://10.0.0.5/status',
      note: 'mail support@example.com',
    }),
    {
      modbus: 'tcp://[redacted]@10.0.0.5:502',
      broker: ['mqtts://[redacted]@broker.local:8883/presso'],
      userOnly: 'http://[redacted]@host/x',
      plain: 'http://10.0.0.5/status',
      note: 'mail support@example.com',
    },
  );
});

test('dashboard: 503 with what to do before the build; the app for its paths after; /api stays the API', async (t) => {
  const dist = mkdtempSync(join(tmpdir(), 'presso-dist-'));
  t.after(() => rmSync(dist, { recursive: true, force: true }));
  rmSync(dist, { recursive: true });
  const app = Fastify();
  await app.register(dashboardRoutes, { dist });
  app.get('/api/ping', async () => ({ ok: true }));
  t.after(() => app.close());

  const before = await app.inject({ method: 'GET', url: '/' });
  assert.equal(before.statusCode, 503);
  assert.equal(before.body, NOT_BUILT_MESSAGE);
  assert.match(before.body, /npm run build:dashboard/);

  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(dist, 'assets', 'index-abc.js'), 'console.log(1)');
  for (const url of ['/', '/station/bay-1', '/support']) {
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 200, url);
    assert.match(res.body, /<title>app<\/title>/, `${url} answers index.html`);
    assert.equal(res.headers['cache-control'], 'no-cache');
  }
  const asset = await app.inject({ method: 'GET', url: '/assets/index-abc.js' });
  assert.equal(asset.statusCode, 200);
  assert.match(String(asset.headers['cache-control']), /immutable/);
  assert.equal((await app.inject({ method: 'GET', url: '/api/ping' })).json<{ ok: boolean }>().ok, true);
  assert.equal((await app.inject({ method: 'GET', url: '/api/nothing-here' })).statusCode, 404);
  assert.equal((await app.inject({ method: 'GET', url: '/favicon.ico' })).statusCode, 204);
});
