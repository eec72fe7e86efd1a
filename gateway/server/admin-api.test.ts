/**
 * What the admin pages call beyond the older API: the admin token as a first login, the first-run
 * flag, disabling a user and resetting a PIN or password, the program preview (the controller's
 * own planning code on a station's garment and ceilings), and the history and audit filters.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { presetById } from '../control-loop/programs/presets.js';
import type { ProgramPreview } from '../control-loop/programs/preview.js';
import { ADMIN_TOKEN, startHarness, USERS, type Harness } from './test-support/harness.js';

async function call(h: Harness, cookie: string | null, method: string, path: string, body?: unknown) {
  const res = await fetch(h.base + path, {
    method,
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: (text ? JSON.parse(text) : null) as Record<string, unknown>,
    cookie: res.headers.getSetCookie()[0]?.split(';')[0] ?? null,
  };
}

test('admin token login, first run, users: disable and reset with the API rules as errors', async (t) => {
  const h = await startHarness(t);
  const setup = await call(h, null, 'GET', '/api/auth/setup');
  assert.deepEqual(setup.body, { firstRun: false, adminToken: true }, 'the harness made users');

  const wrong = await call(h, null, 'POST', '/api/auth/token', { token: 'not-the-token-at-all' });
  assert.equal(wrong.status, 401);
  const ok = await call(h, null, 'POST', '/api/auth/token', { token: ADMIN_TOKEN });
  assert.equal(ok.status, 200);
  const admin = ok.cookie!;
  assert.deepEqual((await call(h, admin, 'GET', '/api/auth/me')).body, { who: 'token', role: 'admin' });

  // A staff PIN must be digits; the error names the field.
  const badPin = await call(h, admin, 'PATCH', `/api/users/${USERS.staff.id}`, { secret: 'abcd' });
  assert.equal(badPin.status, 400);
  assert.equal(badPin.body.field, 'body.secret');
  const shortPw = await call(h, admin, 'PATCH', `/api/users/${USERS.support.id}`, { secret: 'short' });
  assert.equal(shortPw.status, 400);
  assert.match(String(shortPw.body.message), /at least 10 characters/);
  assert.equal((await call(h, admin, 'PATCH', '/api/users/nobody', { disabled: true })).status, 404);
  assert.equal(
    (await call(h, h.cookies.support, 'PATCH', `/api/users/${USERS.staff.id}`, { disabled: true })).status,
    403,
  );

  // Reset the staff PIN: the old one stops working, the new one works, the old login is gone.
  const reset = await call(h, admin, 'PATCH', `/api/users/${USERS.staff.id}`, { secret: '975310' });
  assert.equal(reset.status, 200, JSON.stringify(reset.body));
  assert.equal((await call(h, h.cookies.staff, 'GET', '/api/auth/me')).body.role, 'anonymous');
  const old = await call(h, null, 'POST', '/api/auth/login', {
    user: USERS.staff.id,
    secret: USERS.staff.secret,
  });
  assert.equal(old.status, 401);
  const fresh = await call(h, null, 'POST', '/api/auth/login', { user: USERS.staff.id, secret: '975310' });
  assert.equal(fresh.status, 200);

  // Disable: no login; enable again: login works.
  const disabled = await call(h, admin, 'PATCH', `/api/users/${USERS.staff.id}`, { disabled: true });
  assert.equal(disabled.body.disabled, true);
  assert.equal(
    (await call(h, null, 'POST', '/api/auth/login', { user: USERS.staff.id, secret: '975310' })).status,
    401,
  );
  await call(h, admin, 'PATCH', `/api/users/${USERS.staff.id}`, { disabled: false });
  assert.equal(
    (await call(h, null, 'POST', '/api/auth/login', { user: USERS.staff.id, secret: '975310' })).status,
    200,
  );
  const audit = (await call(h, admin, 'GET', '/api/audit?user=token&action=users')).body.audit as {
    what: string;
    detail?: string;
  }[];
  assert.ok(
    audit.some((e) => e.detail === 'PIN reset'),
    JSON.stringify(audit),
  );
  assert.ok(audit.every((e) => e.what.includes('/api/users')));
});

test('program preview: the controller planning code on the station, with refusals and every problem', async (t) => {
  const h = await startHarness(t);
  const circulation = presetById('leg-circulation')!;
  const { version: _v, ...program } = circulation;
  const preview = async (body: Record<string, unknown>) =>
    call(h, h.cookies.staff, 'POST', '/api/programs/preview', { stationId: 'bay-1', ...body });

  const r = await preview({ program });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const p = r.body.preview as unknown as ProgramPreview;
  assert.deepEqual(p.plan.violations, []);
  assert.deepEqual(
    p.plan.zones.map((z) => z.targetMmHg),
    [45, 40, 35, 30, 25],
    'gradient, 5 mmHg per zone',
  );
  assert.equal(p.cycles, 2);
  assert.equal(p.zones.length, 5);
  // Ramp-up: the first cycle is softer than the second.
  const half = p.tS.findIndex((s) => s >= (p.cycleS ?? Infinity));
  const peak1 = Math.max(...p.zones[0]!.slice(0, half));
  const peak2 = Math.max(...p.zones[0]!.slice(half));
  assert.ok(peak1 < peak2 && peak2 === 45, `ramp ${peak1} then ${peak2}`);

  // Raised pressure: the same plan moves; above the ceiling it is the controller's refusal.
  const higher = (await preview({ program: { ...program, pressureMmHg: 60 } })).body
    .preview as unknown as ProgramPreview;
  assert.equal(Math.max(...higher.zones[0]!), 60);
  const over = (await preview({ program: { ...program, pressureMmHg: 110 } })).body
    .preview as unknown as ProgramPreview;
  assert.match(over.plan.violations[0]!.reason, /zone 1 would need 110 mmHg, above the 95 mmHg ceiling/);

  // Schema errors come back all at once, with their paths, for the editor to show in place.
  const bad = await preview({ program: { ...program, holdS: -1, mode: 'spiral' } });
  assert.equal(bad.status, 200);
  const problems = bad.body.problems as { path: string }[];
  assert.ok(
    problems.some((x) => x.path === 'program.holdS'),
    JSON.stringify(problems),
  );
  assert.ok(
    problems.some((x) => x.path === 'program.mode'),
    JSON.stringify(problems),
  );
  assert.equal(bad.body.preview, null);
  // Read-only: a viewer may look too; nobody logged in may not.
  assert.equal(
    (await call(h, h.cookies.viewer, 'POST', '/api/programs/preview', { stationId: 'bay-1', program }))
      .status,
    200,
  );
  assert.equal(
    (await call(h, null, 'POST', '/api/programs/preview', { stationId: 'bay-1', program })).status,
    401,
  );
  assert.equal((await preview({ program, stationId: 'bay-9' })).status, 404);
});

test('history and audit filters', async (t) => {
  const h = await startHarness(t);
  const base = { programVersion: 1, startedBy: 'sam', durationMin: 20 } as const;
  const day = Date.parse('2026-03-10T10:00:00Z');
  h.store.putSession({
    ...base,
    id: 'a',
    stationId: 'bay-1',
    programId: 'leg-circulation',
    client: 'Anna Berg',
    startedAtEpochMs: day,
    status: 'completed',
  });
  h.store.putSession({
    ...base,
    id: 'b',
    stationId: 'bay-2',
    programId: 'leg-relaxation',
    client: 'walk-up',
    startedAtEpochMs: day + 3600_000,
    status: 'stopped',
  });
  h.store.putSession({
    ...base,
    id: 'c',
    stationId: 'bay-1',
    programId: 'leg-relaxation',
    client: 'Carl Anders',
    startedAtEpochMs: day + 86_400_000,
    status: 'completed',
  });
  await h.store.flush();
  // Filtering by name is for roles that see names (issue 14, docs/privacy.md): staff here; a viewer is refused.
  const ids = async (q: string) =>
    (
      (await call(h, q.includes('client=') ? h.cookies.staff : h.cookies.viewer, 'GET', `/api/sessions?${q}`))
        .body.sessions as { id: string }[]
    ).map((s) => s.id);
  assert.deepEqual(await ids('station=bay-1'), ['c', 'a']);
  assert.deepEqual(await ids('program=leg-relaxation'), ['c', 'b']);
  assert.deepEqual(await ids('status=stopped'), ['b']);
  assert.deepEqual(await ids('client=AND'), ['c'], 'part of the name, any case');
  assert.deepEqual(await ids('client=an&status=completed&station=bay-1'), ['c', 'a']);
  assert.deepEqual(await ids(`from=2026-03-10T00:00:00Z&to=2026-03-10T23:59:59Z`), ['b', 'a']);
  assert.equal((await call(h, h.cookies.viewer, 'GET', '/api/sessions?client=AND')).status, 403);
  const bad = await call(h, h.cookies.viewer, 'GET', '/api/sessions?status=exploded');
  assert.equal(bad.status, 400);
  assert.match(String(bad.body.message), /querystring.status/);
  const csv = await fetch(`${h.base}/api/sessions?format=csv&program=leg-relaxation`, {
    headers: { cookie: h.cookies.viewer },
  }).then((r) => r.text());
  assert.equal(csv.trim().split('\r\n').length, 3, 'header and the two filtered rows');

  await call(h, h.cookies.staff, 'POST', '/api/stations/bay-3/stop', {});
  await call(h, h.cookies.admin, 'POST', '/api/stations/bay-4/stop', {});
  const audit = async (q: string) =>
    (await call(h, h.cookies.support, 'GET', `/api/audit?${q}`)).body.audit as {
      who: string;
      what: string;
    }[];
  const bySam = await audit('user=sam');
  assert.ok(bySam.length > 0 && bySam.every((e) => e.who === 'sam'));
  assert.ok((await audit('action=bay-3/stop')).every((e) => e.what.includes('bay-3/stop')));
  assert.equal((await audit('to=2000-01-01T00:00:00Z')).length, 0);
  assert.equal((await call(h, h.cookies.staff, 'GET', '/api/audit')).status, 403);
});
