/**
 * Who may do what (routes/stations.ts has the table): every role against every endpoint, the
 * walk-up limits and screening, stop without login, login expiry and the login rate limit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionRecord } from '../store/types.js';
import { SCREENING_QUESTIONS } from './screening.js';
import {
  ADMIN_TOKEN,
  enableLoungeWalkUp,
  readyBoard,
  startHarness,
  type Harness,
} from './test-support/harness.js';

type Who = 'anonymous' | 'viewer' | 'staff' | 'support' | 'admin' | 'token';
const EVERYONE: Who[] = ['anonymous', 'viewer', 'staff', 'support', 'admin', 'token'];
const LOGGED_IN: Who[] = ['viewer', 'staff', 'support', 'admin', 'token'];
const STAFFISH: Who[] = ['staff', 'support', 'admin', 'token'];
const SUPPORT: Who[] = ['support', 'admin', 'token'];
const CLIENT_READERS: Who[] = ['staff', 'admin', 'token'];

function headers(h: Harness, who: Who): Record<string, string> {
  if (who === 'anonymous') return {};
  if (who === 'token') return { authorization: `Bearer ${ADMIN_TOKEN}` };
  return { cookie: h.cookies[who] };
}

const noAnswers = Object.fromEntries(SCREENING_QUESTIONS.map((q) => [q.id, false]));

interface Case {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  body?: (who: Who) => unknown;
  allowed: Who[];
  /** Undoes what an allowed call did, so the next role meets the same state. */
  cleanup?: (h: Harness) => Promise<void>;
}

const stopBay2 = async (h: Harness) => {
  await h.app.inject({ method: 'POST', url: '/api/stations/bay-2/stop', payload: {} });
  await readyBoard(h.client);
};

const CASES: Case[] = [
  { method: 'GET', url: '/api/health', allowed: EVERYONE },
  { method: 'GET', url: '/api/support/controller', allowed: SUPPORT },
  { method: 'GET', url: '/api/support/config', allowed: SUPPORT },
  { method: 'GET', url: '/api/support/logs', allowed: SUPPORT },
  { method: 'GET', url: '/api/stations', allowed: EVERYONE },
  { method: 'GET', url: '/api/stations/bay-2', allowed: EVERYONE },
  { method: 'GET', url: '/api/programs', allowed: EVERYONE },
  { method: 'GET', url: '/api/programs/leg-circulation', allowed: EVERYONE },
  { method: 'GET', url: '/api/screening', allowed: EVERYONE },
  { method: 'GET', url: '/api/sessions', allowed: LOGGED_IN },
  { method: 'GET', url: '/api/alarms', allowed: LOGGED_IN },
  { method: 'GET', url: '/api/maintenance', allowed: LOGGED_IN },
  { method: 'GET', url: '/api/audit', allowed: SUPPORT },
  { method: 'GET', url: '/api/users', allowed: ['admin', 'token'] },
  { method: 'GET', url: '/api/auth/setup', allowed: EVERYONE },
  { method: 'GET', url: '/api/stations/bay-2/settings', allowed: EVERYONE },
  // Anyone may make a session softer (adjust.test.ts has the walk-up rules); bay-2 runs none, so
  // an allowed role gets 409.
  {
    method: 'POST',
    url: '/api/stations/bay-2/adjust',
    body: () => ({ pressureMmHg: 30 }),
    allowed: ['anonymous', ...STAFFISH],
  },
  {
    method: 'POST',
    url: '/api/programs/preview',
    body: () => ({ stationId: 'bay-2', program: copyOf('leg-circulation') }),
    allowed: LOGGED_IN,
  },
  {
    method: 'PATCH',
    url: '/api/users/no-such-user',
    body: () => ({ disabled: true }),
    allowed: ['admin', 'token'],
  },
  {
    method: 'POST',
    url: '/api/stations/bay-2/start',
    body: () => ({ programId: 'leg-circulation', client: 'Role Test', pressureMmHg: 40, durationMin: 5 }),
    allowed: STAFFISH,
    cleanup: stopBay2,
  },
  { method: 'POST', url: '/api/stations/bay-2/pause', allowed: ['anonymous', ...STAFFISH] },
  // Anonymous may resume only a walk-up session (the walk-up test); bay-2 runs none.
  { method: 'POST', url: '/api/stations/bay-2/resume', allowed: STAFFISH },
  { method: 'POST', url: '/api/stations/bay-2/stop', allowed: EVERYONE },
  { method: 'POST', url: '/api/stop', allowed: EVERYONE },
  { method: 'POST', url: '/api/stations/bay-2/acknowledge', allowed: STAFFISH },
  // No such alarm: an allowed role gets 404, the others 401/403 before the lookup.
  { method: 'POST', url: '/api/alarms/no-such-alarm/acknowledge', allowed: STAFFISH },
  { method: 'GET', url: '/api/sessions/no-such-session', allowed: LOGGED_IN },
  { method: 'DELETE', url: '/api/programs/no-such-program', allowed: STAFFISH },
  { method: 'DELETE', url: '/api/users/no-such-user', allowed: ['admin', 'token'] },
  { method: 'POST', url: '/api/users/no-such-user/unlock', allowed: ['admin', 'token'] },
  { method: 'POST', url: '/api/stations/bay-2/self-test', body: () => ({ kind: 'leak' }), allowed: SUPPORT },
  {
    method: 'POST',
    url: '/api/sim/stations/bay-2/faults',
    body: () => ({ kind: 'leak', zone: 1 }),
    allowed: SUPPORT,
    cleanup: async (h) => {
      await h.client.request('sim-clear', { stationId: 'bay-2' });
    },
  },
  { method: 'DELETE', url: '/api/sim/stations/bay-2/faults', allowed: SUPPORT },
  {
    method: 'POST',
    url: '/api/programs',
    body: (who) => ({ ...copyOf('leg-circulation'), id: `role-${who}`, name: `Role ${who}` }),
    allowed: STAFFISH,
  },
  {
    method: 'PUT',
    url: '/api/programs/leg-relaxation',
    body: () => copyOf('leg-relaxation'),
    allowed: STAFFISH,
  },
  {
    method: 'PUT',
    url: '/api/stations/bay-2/settings',
    body: () => ({
      walkUpEnabled: false,
      walkUpPrograms: [],
      walkUpMaxPressureMmHg: 40,
      walkUpMaxDurationMin: 20,
    }),
    allowed: ['staff', 'admin', 'token'],
  },
  {
    method: 'POST',
    url: '/api/users',
    body: (who) => ({ id: `new-${who}`, name: 'New', role: 'staff', secret: '135791' }),
    allowed: ['admin', 'token'],
  },
  // Client records: staff and admin only (privacy.ts: remote support sees no names).
  { method: 'GET', url: '/api/clients', allowed: CLIENT_READERS },
  {
    method: 'POST',
    url: '/api/clients',
    body: (who) => ({ name: `Client of ${who}`, consentTextVersion: 'v1' }),
    allowed: CLIENT_READERS,
  },
  { method: 'GET', url: '/api/clients/no-such-client', allowed: CLIENT_READERS },
  {
    method: 'PUT',
    url: '/api/clients/no-such-client',
    body: () => ({ name: 'Nobody', consentTextVersion: 'v1' }),
    allowed: CLIENT_READERS,
  },
  { method: 'DELETE', url: '/api/clients/no-such-client', allowed: CLIENT_READERS },
  { method: 'GET', url: '/api/clients/no-such-client/export', allowed: CLIENT_READERS },
  { method: 'GET', url: '/api/settings/privacy', allowed: ['admin', 'token'] },
  {
    method: 'PUT',
    url: '/api/settings/privacy',
    body: () => ({ retentionDays: 365 }),
    allowed: ['admin', 'token'],
  },
  { method: 'GET', url: '/api/settings/notifications', allowed: ['admin', 'token'] },
  {
    method: 'PUT',
    url: '/api/settings/notifications',
    body: () => ({ language: 'en', channels: [] }),
    allowed: ['admin', 'token'],
  },
  {
    method: 'POST',
    url: '/api/settings/notifications/test',
    body: () => ({ channelId: 'no-such-channel' }),
    allowed: ['admin', 'token'],
  },
  { method: 'GET', url: '/api/support/notifications', allowed: SUPPORT },
];

/** Routes the matrix leaves to their own tests: logging in and out is how a role is had. */
const OWN_TESTS = new Set([
  'POST /api/auth/login',
  'POST /api/auth/logout',
  'GET /api/auth/me',
  // admin-api.test.ts: the admin token as a login.
  'POST /api/auth/token',
  // centre.test.ts (a real broker): no login for either, as GET /api/stations and a local STOP.
  'GET /api/centre/stations',
  'POST /api/centre/stations/{gatewayId}/{stationId}/stop',
]);

test('the role matrix covers every route the API documents', async (t) => {
  const h = await startHarness(t);
  const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json<{
    paths: Record<string, Record<string, unknown>>;
  }>();
  const covered = new Set(
    CASES.map((c) => `${c.method} ${c.url.replace(/\/(bay-2|no-such-[a-z]+|leg-[a-z]+)(?=\/|$)/g, '/{id}')}`),
  );
  const missing: string[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const method of Object.keys(methods)) {
      const key = `${method.toUpperCase()} ${path}`;
      if (!OWN_TESTS.has(key) && !covered.has(key)) missing.push(key);
    }
  }
  assert.deepEqual(missing, [], 'routes with no row in the role matrix');
});

let presetsForCopy: Map<string, Record<string, unknown>> = new Map();
function copyOf(id: string): Record<string, unknown> {
  const p = presetsForCopy.get(id);
  assert.ok(p, id);
  return p;
}

test('every role against every endpoint', async (t) => {
  const h = await startHarness(t);
  presetsForCopy = new Map(
    h.store.programs().map((r) => {
      const { version: _v, ...rest } = r.program;
      return [r.program.id, rest];
    }),
  );
  for (const c of CASES) {
    for (const who of EVERYONE) {
      const body = c.body?.(who);
      const res = await h.app.inject({
        method: c.method,
        url: c.url,
        headers: headers(h, who),
        // Commands go as JSON, {} when there is nothing to add (request-guard.ts).
        ...(c.method !== 'GET' ? { payload: (body ?? {}) as Record<string, unknown> } : {}),
      });
      const denied = res.statusCode === 401 || res.statusCode === 403;
      const expectAllowed = c.allowed.includes(who);
      assert.equal(
        !denied,
        expectAllowed,
        `${who} ${c.method} ${c.url}: ${res.statusCode} ${res.body.slice(0, 200)}`,
      );
      assert.ok(
        res.statusCode < 500,
        `${who} ${c.method} ${c.url}: ${res.statusCode} ${res.body.slice(0, 200)}`,
      );
      if (denied && who !== 'anonymous') assert.equal(res.statusCode, 403, `${who} ${c.method} ${c.url}`);
      if (expectAllowed && c.cleanup) await c.cleanup(h);
    }
  }
  // Every command was audited with who and from where, the refused ones too.
  const audit = h.store.audit(10_000);
  assert.ok(
    audit.some(
      (a) => a.who === 'vic' && a.role === 'viewer' && !a.ok && a.what === 'POST /api/stations/bay-2/start',
    ),
  );
  assert.ok(audit.some((a) => a.who === 'token' && a.ok && a.what === 'POST /api/users'));
  assert.ok(audit.every((a) => a.from === '127.0.0.1' && a.atEpochMs > 0));
});

test('walk-up: a preset within the station limits after the screening; pause, resume and stop without login', async (t) => {
  const h = await startHarness(t);
  await enableLoungeWalkUp(h); // leg-relaxation, at most 35 mmHg for 15 min
  const start = (payload: Record<string, unknown>, url = '/api/stations/lounge-1/start') =>
    h.app.inject({ method: 'POST', url, payload });

  const cases: [Record<string, unknown>, number, string][] = [
    [{ programId: 'leg-relaxation' }, 400, 'body.screening'],
    [{ programId: 'leg-relaxation', screening: { ...noAnswers, dvt: true } }, 403, 'body.screening.dvt'],
    [{ programId: 'leg-relaxation', screening: { dvt: false } }, 400, 'body.screening.embolism'],
    [{ programId: 'leg-relaxation', pressureMmHg: 36, screening: noAnswers }, 403, 'body.pressureMmHg'],
    [{ programId: 'leg-relaxation', durationMin: 16, screening: noAnswers }, 403, 'body.durationMin'],
    [{ programId: 'leg-circulation', screening: noAnswers }, 403, 'body.programId'],
  ];
  for (const [payload, status, field] of cases) {
    const res = await start(payload);
    assert.equal(res.statusCode, status, `${JSON.stringify(payload)}: ${res.body}`);
    assert.equal(res.json<{ field: string }>().field, field);
  }
  const blocked = await start({ programId: 'leg-relaxation', screening: { ...noAnswers, dvt: true } });
  assert.match(blocked.json<{ message: string }>().message, /not safe for you today.*blood clot/);
  assert.equal(
    (await start({ programId: 'leg-relaxation', screening: noAnswers }, '/api/stations/bay-1/start'))
      .statusCode,
    403,
    'walk-up is per station',
  );
  assert.equal((await h.store.sessions()).length, 0, 'nothing stored for a refused walk-up start');

  await readyBoard(h.client);
  const ok = await start({ programId: 'leg-relaxation', screening: noAnswers });
  assert.equal(ok.statusCode, 201, ok.body);
  const { session } = ok.json<{ session: SessionRecord }>();
  assert.equal(session.client, 'walk-up');
  assert.equal(session.pressureMmHg, 35, 'the preset pressure is lowered to the walk-up maximum');
  assert.equal(session.durationMin, 15);
  assert.equal(session.screening?.blocked, false);

  for (const action of ['pause', 'resume', 'stop']) {
    const res = await h.app.inject({ method: 'POST', url: `/api/stations/lounge-1/${action}`, payload: {} });
    assert.equal(res.statusCode, 200, `${action}: ${res.body}`);
  }

  // A session staff started cannot be resumed by a passer-by, but can be paused and stopped.
  // After a stop the station vents before it is idle again.
  await readyBoard(h.client);
  const staff = await h.app.inject({
    method: 'POST',
    url: '/api/stations/lounge-1/start',
    headers: { cookie: h.cookies.staff },
    payload: { programId: 'leg-circulation', client: 'Cy' },
  });
  assert.equal(staff.statusCode, 201, staff.body);
  assert.equal(
    (await h.app.inject({ method: 'POST', url: '/api/stations/lounge-1/pause', payload: {} })).statusCode,
    200,
  );
  assert.equal(
    (await h.app.inject({ method: 'POST', url: '/api/stations/lounge-1/resume', payload: {} })).statusCode,
    401,
  );
  assert.equal(
    (await h.app.inject({ method: 'POST', url: '/api/stations/lounge-1/stop', payload: {} })).statusCode,
    200,
  );
});

test('a login expires, a wrong bearer token is nobody, and PIN guessing is rate-limited', async (t) => {
  const h = await startHarness(t, { loginAttemptsPerMin: 5 });
  const me = (hdrs: Record<string, string>) =>
    h.app.inject({ url: '/api/auth/me', headers: hdrs }).then((r) => r.json<{ role: string }>().role);
  assert.equal(await me({ cookie: h.cookies.staff }), 'staff');
  assert.equal(await me({ authorization: 'Bearer wrong-token-0123456789' }), 'anonymous');
  h.clock.offsetMs = 61 * 60_000;
  assert.equal(await me({ cookie: h.cookies.staff }), 'anonymous', 'the login lasted 60 min');
  h.clock.offsetMs = 0;

  // The harness logged in 4 users from this address within the minute: one guess is left.
  const first = await h.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { user: 'sam', secret: '0000' },
  });
  assert.equal(first.statusCode, 401, first.body);
  const guess = await h.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { user: 'sam', secret: '0000' },
  });
  assert.equal(guess.statusCode, 429, guess.body);
  const stop = await h.app.inject({ method: 'POST', url: '/api/stations/bay-1/stop', payload: {} });
  assert.equal(stop.statusCode, 200, 'stop is never rate-limited');
  const user = h.store.userById('sam');
  assert.match(user?.secretHash ?? '', /^scrypt\$16384\$8\$1\$/);
});
