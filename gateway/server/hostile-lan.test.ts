/**
 * The gateway on a hostile LAN (issue 17), against a real controller and a real store file:
 * a flood of long-URL requests grows the store by less than a documented bound; commands from
 * another site or under another host name are refused while the gateway's own STOP works; PIN
 * guessing locks the user whatever address it comes from; wrong bearer tokens are throttled and
 * audited; walk-up resume rights follow who started and who paused; Socket.IO connections are
 * capped per address and in total with a clear refusal; stop reasons without a login are fixed.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { io as ioClient } from 'socket.io-client';
import type { SessionRecord } from '../store/types.js';
import { ANONYMOUS_STOP_REASONS } from '../stop-reasons.js';
import {
  ANONYMOUS_AUDIT_PER_ADDRESS_PER_MIN,
  anonymousAuditBound,
  AUDIT_ENTRY_MAX_BYTES,
  AUDIT_MAX_CHARS,
} from './plugins/audit.js';
import { loadConfig } from './config.js';
import { BEARER_FAILURES_PER_MIN, LOCKOUT_AFTER_FAILURES } from './plugins/auth.js';
import { AllowedHosts } from './plugins/request-guard.js';
import { RECENT_LOG_LINE_CHARS, RECENT_LOG_LINES } from './plugins/recent-log.js';
import { SCREENING_QUESTIONS } from './screening.js';
import {
  ADMIN_TOKEN,
  enableLoungeWalkUp,
  readyBoard,
  startHarness,
  USERS,
  type Harness,
} from './test-support/harness.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}` };
const noAnswers = Object.fromEntries(SCREENING_QUESTIONS.map((q) => [q.id, false]));

async function storeBytes(h: Harness): Promise<number> {
  await h.store.flush();
  return statSync(h.store.health().file).size;
}

test('a flood of 10,000 long-URL requests grows the store by less than its documented bound', async (t) => {
  const h = await startHarness(t);
  const before = await storeBytes(h);
  const auditBefore = h.store.audit(100_000).length;
  const long = 'x'.repeat(15_000);
  const t0 = Date.now();
  const N = 10_000;
  for (let i = 0; i < N; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, j) => {
        const k = i + j;
        const remoteAddress = `10.0.${(k >> 8) & 255}.${k & 255}`;
        // A quarter each: an unmatched GET, an unmatched POST, a command with a station id past
        // Fastify's parameter limit (100 characters: its router answers 414 before any hook, so
        // it is neither stored nor counted), and a command that matches with an id that is no
        // id and a long query string.
        switch (k % 4) {
          case 0:
            return h.app.inject({ url: `/api/${long}${k}`, remoteAddress });
          case 1:
            return h.app.inject({
              method: 'POST',
              url: `/${long}${k}`,
              payload: {},
              remoteAddress,
            });
          case 2:
            return h.app.inject({
              method: 'POST',
              url: `/api/stations/${long}${k}/pause`,
              payload: {},
              remoteAddress,
            });
          default:
            return h.app.inject({
              method: 'POST',
              url: `/api/stations/${'y'.repeat(90)}/pause?${long}`,
              payload: {},
              remoteAddress,
            });
        }
      }),
    );
  }
  const minutes = Math.ceil((Date.now() - t0) / 60_000);
  const grown = (await storeBytes(h)) - before;
  // The documented bound (docs/security.md): the anonymous budget (a burst, then a rate an hour)
  // plus one summary entry a minute, each entry capped.
  const maxEntries = anonymousAuditBound(minutes);
  const entries = h.store.audit(100_000).length - auditBefore;
  t.diagnostic(`${N} requests in ${Date.now() - t0} ms: store +${grown} bytes, +${entries} audit entries`);
  assert.ok(entries <= maxEntries, `${entries} audit entries added (at most ${maxEntries})`);
  assert.ok(
    grown < maxEntries * AUDIT_ENTRY_MAX_BYTES,
    `store grew ${grown} bytes (bound ${maxEntries * AUDIT_ENTRY_MAX_BYTES})`,
  );
  const audit = h.store.audit(100_000);
  assert.ok(
    audit.every(
      (a) => a.what.length <= AUDIT_MAX_CHARS.what && (a.detail ?? '').length <= AUDIT_MAX_CHARS.detail,
    ),
    'every stored string is capped',
  );
  assert.ok(!audit.some((a) => a.what.includes('xxxxxxxxxx')), 'no raw URL in the audit');
  assert.ok(
    audit.some((a) => a.what === 'POST /api/stations/:id/pause'),
    'a command is recorded by its route pattern',
  );

  // What was not recorded one by one is counted in a summary (written at the latest on close).
  h.app.auditLog.summarizeIfDue(true);
  const summary = h.store
    .audit(100_000)
    .filter((a) => a.what === 'requests counted, not recorded one by one');
  const counted = summary
    .map((a) => /(\d+) requests to no route/.exec(a.detail ?? '')?.[1])
    .reduce((sum, n) => sum + Number(n ?? 0), 0);
  assert.equal(counted, N / 2, 'every unmatched request was counted');
  assert.ok(summary.some((a) => /anonymous commands over the audit budget/.test(a.detail ?? '')));

  // One address cannot use the whole budget.
  const one = h.store
    .audit(100_000)
    .filter((a) => a.from === '10.0.0.2' && a.what === 'POST /api/stations/:id/pause');
  assert.ok(one.length <= ANONYMOUS_AUDIT_PER_ADDRESS_PER_MIN);

  // The support log download is bounded too.
  const logs = await h.app.inject({ url: '/api/support/logs', headers: AUTH });
  assert.equal(logs.statusCode, 200);
  const ringMax = RECENT_LOG_LINES * (RECENT_LOG_LINE_CHARS + 30);
  const auditMax = 500 * (AUDIT_ENTRY_MAX_BYTES + 50);
  assert.ok(logs.body.length < ringMax + auditMax + 200_000, `support log ${logs.body.length} bytes`);
  assert.ok(!logs.body.includes('x'.repeat(100)), 'no long raw URL in the support log');

  // Staff commands are still recorded one by one after the flood.
  const stop = await h.app.inject({
    method: 'POST',
    url: '/api/stations/bay-1/stop',
    headers: { cookie: h.cookies.staff },
    payload: {},
  });
  assert.equal(stop.statusCode, 200);
  assert.ok(
    h.store.audit(5).some((a) => a.who === USERS.staff.id && a.what === 'POST /api/stations/bay-1/stop'),
  );
});

test('commands from another site or under another host name are refused; the gateway’s own STOP works', async (t) => {
  const h = await startHarness(t, { config: { allowedHosts: ['presso.local'] } });
  const host = new URL(h.base).host;
  const cases: {
    name: string;
    headers: Record<string, string>;
    payload?: string;
    status: number;
    error: string;
  }[] = [
    // What `fetch(url, {method: 'POST', mode: 'no-cors'})` from another page sends.
    {
      name: 'a body-less cross-site POST',
      headers: { origin: 'http://evil.test', 'sec-fetch-site': 'cross-site' },
      status: 403,
      error: 'cross-site',
    },
    {
      name: 'a text/plain body from another origin',
      headers: { origin: 'http://evil.test', 'content-type': 'text/plain' },
      payload: '{}',
      status: 403,
      error: 'cross-site',
    },
    {
      name: 'JSON from a same-site page on another port',
      headers: { ...JSON_HEADERS, origin: 'http://127.0.0.1:1', 'sec-fetch-site': 'same-site' },
      payload: '{}',
      status: 403,
      error: 'cross-site',
    },
    {
      name: 'Origin: null (a sandboxed frame)',
      headers: { ...JSON_HEADERS, origin: 'null' },
      payload: '{}',
      status: 403,
      error: 'cross-site',
    },
    {
      name: 'a form post without Origin (an old browser)',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'a=1',
      status: 415,
      error: 'unsupported-media-type',
    },
    {
      name: 'a body-less POST from a script without a content type',
      headers: {},
      status: 415,
      error: 'unsupported-media-type',
    },
    {
      name: 'a rebinding attack (the attacker’s name in Host)',
      headers: { ...JSON_HEADERS, host: 'rebind.evil.test' },
      payload: '{}',
      status: 421,
      error: 'host-not-allowed',
    },
  ];
  for (const url of ['/api/stop', '/api/stations/bay-1/pause', '/api/stations/bay-1/start']) {
    for (const c of cases) {
      const res = await h.app.inject({
        method: 'POST',
        url,
        headers: { host, ...c.headers },
        ...(c.payload !== undefined ? { payload: c.payload } : {}),
      });
      assert.equal(res.statusCode, c.status, `${c.name} → ${url}: ${res.body}`);
      assert.equal(res.json<{ error: string }>().error, c.error, c.name);
    }
  }
  // Reads under a foreign name are refused too (rebinding would otherwise read the API).
  const read = await h.app.inject({ url: '/api/stations', headers: { host: 'rebind.evil.test:8080' } });
  assert.equal(read.statusCode, 421);
  assert.match(read.json<{ message: string }>().message, /PRESSO_ALLOWED_HOSTS/);

  // The gateway's own page (same origin) and a non-browser tool (no Origin) stop; the configured
  // name and the loopback names are answered.
  for (const headers of [
    { host, origin: `http://${host}`, 'sec-fetch-site': 'same-origin' },
    { host: 'presso.local:8080', origin: 'http://presso.local:8080' },
    { host: 'localhost' },
    { host: '[::1]:8080' },
    { host, 'sec-fetch-site': 'none' },
  ]) {
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/stop',
      headers: { ...headers, ...JSON_HEADERS },
      payload: '{}',
    });
    assert.equal(res.statusCode, 200, `${JSON.stringify(headers)}: ${res.body}`);
  }
  // Nothing the refused requests asked for happened: no session was started or persisted.
  const frames = await h.client.request('state', { stationId: 'bay-1' });
  assert.notEqual(frames[0]?.state, 'running');
  assert.equal(frames[0]?.session, null);
  assert.equal((await h.store.sessions()).length, 0);

  // A cross-site WebSocket is refused at the handshake.
  const s = ioClient(h.base, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: { origin: 'http://evil.test' },
  });
  const err = await new Promise<Error>((resolve) => s.once('connect_error', resolve));
  s.close();
  assert.ok(err instanceof Error);
});

test('PIN guessing locks the user across addresses, an admin sees and lifts the lock; wrong tokens are throttled', async (t) => {
  const h = await startHarness(t);
  const login = (secret: string, remoteAddress: string) =>
    h.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { user: USERS.staff.id, secret },
      remoteAddress,
    });
  for (let i = 0; i < LOCKOUT_AFTER_FAILURES; i++) {
    const res = await login(String(100_000 + i), `10.1.0.${i + 1}`);
    assert.equal(res.statusCode, i < LOCKOUT_AFTER_FAILURES - 1 ? 401 : 429, res.body);
  }
  const right = await login(USERS.staff.secret, '10.1.1.1');
  assert.equal(right.statusCode, 429, 'the right PIN is refused while the user is locked');
  assert.equal(right.json<{ error: string }>().error, 'locked');
  assert.match(right.json<{ message: string }>().message, /locked for 15 more minute/);

  const users = await h.app.inject({ url: '/api/users', headers: AUTH });
  const sam = users
    .json<{ users: { id: string; failedLogins: number; lockedUntilEpochMs?: number }[] }>()
    .users.find((u) => u.id === USERS.staff.id);
  assert.equal(sam?.failedLogins, LOCKOUT_AFTER_FAILURES);
  assert.ok((sam?.lockedUntilEpochMs ?? 0) > Date.now(), 'the admin sees the lock');

  // The lock lifts after 15 minutes; the next ten wrong ones lock for twice as long.
  h.clock.offsetMs = 16 * 60_000;
  for (let i = 0; i < LOCKOUT_AFTER_FAILURES; i++) await login('999999', `10.2.0.${i + 1}`);
  const again = await login(USERS.staff.secret, '10.2.1.1');
  assert.equal(again.statusCode, 429);
  assert.match(again.json<{ message: string }>().message, /locked for 30 more minute/);

  // An admin unlocks; the right PIN works at once.
  const unlock = await h.app.inject({
    method: 'POST',
    url: `/api/users/${USERS.staff.id}/unlock`,
    headers: AUTH,
    payload: {},
  });
  assert.equal(unlock.statusCode, 200, unlock.body);
  assert.equal((await login(USERS.staff.secret, '10.2.1.2')).statusCode, 200);
  assert.ok(h.store.audit(50).some((a) => a.what === `POST /api/users/${USERS.staff.id}/unlock` && a.ok));
  h.clock.offsetMs = 0;

  // Wrong bearer tokens: audited, and refused with 429 after the budget; STOP still answers.
  for (let i = 0; i < BEARER_FAILURES_PER_MIN; i++) {
    const res = await h.app.inject({
      url: '/api/users',
      headers: { authorization: `Bearer guess-${i}-0123456789` },
      remoteAddress: '10.3.0.1',
    });
    assert.equal(res.statusCode, 401);
  }
  const throttled = await h.app.inject({
    url: '/api/users',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    remoteAddress: '10.3.0.1',
  });
  assert.equal(throttled.statusCode, 429, 'even the right token waits out the minute');
  assert.equal(throttled.json<{ error: string }>().error, 'rate-limited');
  const stop = await h.app.inject({
    method: 'POST',
    url: '/api/stop',
    headers: { authorization: 'Bearer wrong', ...JSON_HEADERS },
    payload: '{}',
    remoteAddress: '10.3.0.1',
  });
  assert.equal(stop.statusCode, 200, 'STOP is never throttled');
  const wrong = h.store.audit(200).filter((a) => a.from === '10.3.0.1' && a.detail === 'wrong bearer token');
  assert.ok(wrong.length >= BEARER_FAILURES_PER_MIN, `${wrong.length} wrong tokens audited`);
  const other = await h.app.inject({ url: '/api/users', headers: AUTH, remoteAddress: '10.3.0.2' });
  assert.equal(other.statusCode, 200, 'another address is not affected');
});

test('staff PINs have 6 digits unless an admin opts in to 4', async (t) => {
  const strict = await startHarness(t);
  const create = (h: Harness, id: string, secret: string) =>
    h.app.inject({
      method: 'POST',
      url: '/api/users',
      headers: AUTH,
      payload: { id, name: id, role: 'staff', secret },
    });
  const short = await create(strict, 'pat', '1357');
  assert.equal(short.statusCode, 400);
  assert.match(short.json<{ message: string }>().message, /body\.secret: a staff PIN is 6 to 8 digits/);
  assert.equal((await create(strict, 'pat', '135790')).statusCode, 201);
  await strict.close();

  const optedIn = await startHarness(t, { config: { minPinDigits: 4 } });
  assert.equal((await create(optedIn, 'pat', '1357')).statusCode, 201, 'an admin opted in to 4 digits');
  assert.equal((await create(optedIn, 'pia', '135')).statusCode, 400);
});

test('walk-up resume follows who started and who paused; anonymous stop reasons are fixed; no health text in the audit', async (t) => {
  const h = await startHarness(t);
  await enableLoungeWalkUp(h);
  const post = (url: string, payload: unknown = {}, headers: Record<string, string> = {}) =>
    h.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers });
  const staff = { cookie: h.cookies.staff };

  // Staff start a session and type "walk-up" as the client: a passer-by still may not resume it.
  await readyBoard(h.client);
  const named = await post(
    '/api/stations/lounge-1/start',
    { programId: 'leg-circulation', client: 'walk-up' },
    staff,
  );
  assert.equal(named.statusCode, 201, named.body);
  assert.equal((await post('/api/stations/lounge-1/pause')).statusCode, 200);
  assert.equal((await post('/api/stations/lounge-1/resume')).statusCode, 401);
  const freeText = await post('/api/stations/lounge-1/stop', { reason: 'the gateway is on fire, run' });
  assert.equal(freeText.statusCode, 400, 'no free text without a login');
  assert.match(freeText.json<{ message: string }>().message, /body\.reason: without a login/);
  assert.equal(
    (await post('/api/stations/lounge-1/stop', { reason: ANONYMOUS_STOP_REASONS[1] })).statusCode,
    200,
  );
  const ended = await h.store.session(named.json<{ session: SessionRecord }>().session.id);
  assert.ok(ended !== undefined);

  // A walk-up session staff paused is resumed by staff only; one the walk-up user paused, by them.
  await readyBoard(h.client);
  const walkUp = await post('/api/stations/lounge-1/start', {
    programId: 'leg-relaxation',
    screening: noAnswers,
  });
  assert.equal(walkUp.statusCode, 201, walkUp.body);
  const id = walkUp.json<{ session: SessionRecord }>().session.id;
  assert.equal((await h.store.session(id))?.startedBy, 'anonymous');
  assert.equal((await post('/api/stations/lounge-1/pause', {}, staff)).statusCode, 200);
  assert.equal((await h.store.session(id))?.pausedBy, USERS.staff.id, 'who paused is recorded');
  const refused = await post('/api/stations/lounge-1/resume');
  assert.equal(refused.statusCode, 401);
  assert.match(refused.json<{ message: string }>().message, /staff paused this session/);
  assert.equal((await post('/api/stations/lounge-1/resume', {}, staff)).statusCode, 200);
  assert.equal((await h.store.session(id))?.pausedBy, undefined, 'cleared on resume');
  assert.equal((await post('/api/stations/lounge-1/pause')).statusCode, 200);
  assert.equal((await post('/api/stations/lounge-1/resume')).statusCode, 200, 'their own pause');
  const staffReason = await post(
    '/api/stations/lounge-1/stop',
    { reason: 'client asked to end early' },
    staff,
  );
  assert.equal(staffReason.statusCode, 200, 'staff write their own reason');

  // A blocked screening answers the person with the reason, and keeps it out of the audit.
  await readyBoard(h.client);
  const blocked = await post('/api/stations/lounge-1/start', {
    programId: 'leg-relaxation',
    screening: { ...noAnswers, dvt: true },
  });
  assert.equal(blocked.statusCode, 403, blocked.body);
  assert.match(blocked.json<{ message: string }>().message, /clot/);
  const entry = h.store.audit(20).find((a) => a.what === 'POST /api/stations/lounge-1/start' && !a.ok);
  assert.equal(entry?.detail, 'screening: an answer rules this start out');
  assert.ok(!h.store.audit(1000).some((a) => /clot|thrombosis|embolism|cancer/i.test(a.detail ?? '')));
});

test('live connections are capped per address and in total, with a clear refusal', async (t) => {
  const h = await startHarness(t, { config: { maxSocketsPerAddress: 3, maxSockets: 5 } });
  // ws (under socket.io-client) binds the client's end to `localAddress`: 127.0.0.x are distinct
  // addresses on loopback.
  const connect = (localAddress: string) => {
    const s = ioClient(h.base, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      localAddress,
    } as Parameters<typeof ioClient>[1]);
    t.after(() => s.close());
    return new Promise<{ ok: boolean; error?: string }>((resolve) => {
      s.once('connect', () => resolve({ ok: true }));
      s.once('connect_error', (e) => resolve({ ok: false, error: e.message }));
    });
  };
  const one = [];
  for (let i = 0; i < 3; i++) one.push(await connect('127.0.0.1'));
  assert.deepEqual(
    one.map((r) => r.ok),
    [true, true, true],
  );
  const fourth = await connect('127.0.0.1');
  assert.equal(fourth.ok, false);
  assert.match(fourth.error ?? '', /too many live connections from 127\.0\.0\.1 \(3 at most\)/);
  assert.equal((await connect('127.0.0.2')).ok, true, 'another address has its own budget');
  assert.equal((await connect('127.0.0.2')).ok, true);
  const overTotal = await connect('127.0.0.3');
  assert.equal(overTotal.ok, false);
  assert.match(overTotal.error ?? '', /the gateway has too many live connections \(5 at most\)/);
  assert.deepEqual(h.app.connectionGuard.connections(), { total: 5, addresses: 2 });
  assert.equal(h.app.connectionGuard.refused, 2);
});

test('the Host allow-list: defaults, the configured names, and a clear error for a bad entry', () => {
  const config = loadConfig({ PRESSO_DATA_DIR: '/tmp/x', PRESSO_ALLOWED_HOSTS: 'presso.local, 10.9.8.7' });
  assert.deepEqual(config.allowedHosts, ['presso.local', '10.9.8.7']);
  const hosts = new AllowedHosts(config.allowedHosts);
  for (const ok of [
    'localhost:8080',
    '127.0.0.1',
    '[::1]:8080',
    `${hostname()}:8080`,
    `${hostname()}.local`,
    'PRESSO.local.',
    '10.9.8.7:80',
  ]) {
    assert.ok(hosts.has(ok), ok);
  }
  for (const bad of ['rebind.evil.test', 'presso.local.evil.test', '10.9.8.6', '', undefined]) {
    assert.ok(!hosts.has(bad), String(bad));
  }
  assert.throws(
    () => loadConfig({ PRESSO_DATA_DIR: '/tmp/x', PRESSO_ALLOWED_HOSTS: 'presso.local,http://x/' }),
    /PRESSO_ALLOWED_HOSTS: "http:\/\/x\/" is not a host name or address/,
  );
});
