/**
 * Client records through the API against the real controller: created, found by name, used at a
 * start (their ceiling reaches the controller), screening asked again when old, exported, erased
 * (their name gone from history and the CSV and from every file); who sees names and answers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StartArgs } from '../protocol.js';
import type { AuditEntry, SessionRecord } from '../store/types.js';
import { filesContaining } from '../store/test-support/privacy-fixture.js';
import { HIDDEN_CLIENT } from './privacy.js';
import { SCREENING_QUESTIONS } from './screening.js';
import {
  ADMIN_TOKEN,
  readyBoard,
  startHarness,
  startOnReadyBoard,
  waitFor,
  type Harness,
} from './test-support/harness.js';

const noAnswers = Object.fromEntries(SCREENING_QUESTIONS.map((q) => [q.id, false]));
const JSON_TYPE = { 'content-type': 'application/json' };

function as(h: Harness, who: 'staff' | 'viewer' | 'support' | 'admin' | 'token' | 'anonymous') {
  if (who === 'anonymous') return { ...JSON_TYPE };
  if (who === 'token') return { ...JSON_TYPE, authorization: `Bearer ${ADMIN_TOKEN}` };
  return { ...JSON_TYPE, cookie: h.cookies[who] };
}

function captureStarts(h: Harness): StartArgs[] {
  const seen: StartArgs[] = [];
  const request = h.client.request.bind(h.client);
  h.client.request = (async (cmd, args, timeout) => {
    if (cmd === 'start') seen.push(args as StartArgs);
    return request(cmd, args, timeout);
  }) as typeof h.client.request;
  return seen;
}

test('a client is created, found, started with their ceiling, seen by role, exported and erased', async (t) => {
  const h = await startHarness(t);
  const starts = captureStarts(h);
  const created = await h.app.inject({
    method: 'POST',
    url: '/api/clients',
    headers: as(h, 'staff'),
    payload: {
      name: 'Ann Example',
      ceilingMmHg: 45,
      preferredProgramId: 'leg-circulation',
      notes: 'left knee replaced 2019',
      consentTextVersion: '2025-01',
      screening: { ...noAnswers, pacemaker: true },
    },
  });
  assert.equal(created.statusCode, 201, created.body);
  const ann = created.json<{ id: string; screeningDue: boolean; screening?: unknown }>();
  assert.equal(ann.screeningDue, false);
  assert.equal(ann.screening, undefined, 'answers are not echoed in a summary');

  const found = await h.app.inject({ url: '/api/clients?q=ANN', headers: as(h, 'staff') });
  assert.equal(found.statusCode, 200, found.body);
  const list = found.json<{ clients: { id: string; name: string }[] }>().clients;
  assert.deepEqual(
    list.map((c) => c.name),
    ['Ann Example'],
  );
  assert.doesNotMatch(found.body, /pacemaker/, 'a list never carries screening answers');
  assert.equal(
    (await h.app.inject({ url: '/api/clients?q=zzz', headers: as(h, 'staff') })).json<{
      clients: unknown[];
    }>().clients.length,
    0,
  );
  for (const [who, status] of [
    ['viewer', 403],
    ['support', 403],
    ['anonymous', 401],
  ] as const)
    assert.equal((await h.app.inject({ url: '/api/clients', headers: as(h, who) })).statusCode, status, who);

  // A start for the record: the client's ceiling goes to the controller with the session.
  const start = await startOnReadyBoard(h.client, () =>
    h.app.inject({
      method: 'POST',
      url: '/api/stations/bay-1/start',
      headers: as(h, 'staff'),
      payload: {
        programId: 'leg-circulation',
        clientId: ann.id,
        pressureMmHg: 35,
        durationMin: 5,
        screening: noAnswers,
      },
    }),
  );
  assert.equal(start.statusCode, 201, start.body);
  const { session } = start.json<{ session: SessionRecord }>();
  assert.equal(session.client, 'Ann Example');
  assert.equal(session.clientId, ann.id);
  assert.equal(starts.at(-1)?.clientCeilingMmHg, 45, 'the client ceiling is sent with the start');
  const stop = await h.app.inject({
    method: 'POST',
    url: '/api/stations/bay-1/stop',
    headers: as(h, 'staff'),
    payload: { reason: 'Ann felt dizzy' },
  });
  assert.equal(stop.statusCode, 200, stop.body);
  await waitFor(
    async () => ((await h.store.session(session.id))?.status === 'stopped' ? true : undefined),
    10_000,
  );
  await readyBoard(h.client);

  // Above the client's own limit the start is refused (refused rather than clamped), before
  // anything is stored or the controller is asked.
  const startsBefore = starts.length;
  const tooHigh = await startOnReadyBoard(h.client, () =>
    h.app.inject({
      method: 'POST',
      url: '/api/stations/bay-1/start',
      headers: as(h, 'staff'),
      payload: { programId: 'leg-circulation', clientId: ann.id, pressureMmHg: 60, durationMin: 5 },
    }),
  );
  assert.equal(tooHigh.statusCode, 409, tooHigh.body);
  assert.match(tooHigh.json<{ message: string }>().message, /the client's own limit \(45 mmHg\)/);
  assert.equal(starts.length, startsBefore, 'the controller was not asked');

  // Roles: a viewer sees the session without the name; staff see the name, and the answers only
  // in a single read, which is audited.
  const viewerList = await h.app.inject({ url: '/api/sessions', headers: as(h, 'viewer') });
  assert.doesNotMatch(viewerList.body, /Ann/);
  assert.ok(
    viewerList.json<{ sessions: SessionRecord[] }>().sessions.every((s) => s.client === HIDDEN_CLIENT),
  );
  const viewerCsv = await h.app.inject({ url: '/api/sessions?format=csv', headers: as(h, 'viewer') });
  assert.doesNotMatch(viewerCsv.body, /Ann/);
  const viewerOne = await h.app.inject({ url: `/api/sessions/${session.id}`, headers: as(h, 'viewer') });
  assert.equal(viewerOne.json<SessionRecord>().screening, undefined);
  const staffList = await h.app.inject({ url: '/api/sessions', headers: as(h, 'staff') });
  assert.match(staffList.body, /Ann Example/);
  assert.doesNotMatch(staffList.body, /"answers"/);
  const staffOne = await h.app.inject({ url: `/api/sessions/${session.id}`, headers: as(h, 'staff') });
  assert.equal(staffOne.json<SessionRecord>().screening?.blocked, false);
  const record = await h.app.inject({ url: `/api/clients/${ann.id}`, headers: as(h, 'staff') });
  assert.equal(
    record.json<{ screening: { answers: Record<string, boolean> } }>().screening.answers.pacemaker,
    false,
    'the start re-screened',
  );
  const reads = h.store.audit(1000).filter((a) => a.what.startsWith('GET '));
  assert.ok(
    reads.some(
      (a) =>
        a.who === 'sam' && a.what === `GET /api/sessions/${session.id}` && /screening/.test(a.detail ?? ''),
    ),
  );
  assert.ok(reads.some((a) => a.who === 'sam' && a.what === `GET /api/clients/${ann.id}`));
  assert.ok(!reads.some((a) => a.who === 'vic'), 'a viewer read no answers, so nothing to audit');

  const exported = await h.app.inject({ url: `/api/clients/${ann.id}/export`, headers: as(h, 'admin') });
  assert.equal(exported.statusCode, 200, exported.body);
  const dump = exported.json<{ client: { name: string }; sessions: SessionRecord[]; audit: AuditEntry[] }>();
  assert.equal(dump.client.name, 'Ann Example');
  assert.deepEqual(
    dump.sessions.map((s) => s.status),
    ['stopped'],
  );
  assert.ok(dump.sessions.some((s) => s.screening !== undefined && s.report !== undefined));
  assert.ok(
    dump.audit.some((a) => a.what === 'POST /api/clients'),
    'the creation is in the export',
  );

  const erased = await h.app.inject({
    method: 'DELETE',
    url: `/api/clients/${ann.id}`,
    headers: as(h, 'staff'),
    payload: {},
  });
  assert.equal(erased.statusCode, 200, erased.body);
  assert.equal(erased.json<{ sessionsAnonymised: number }>().sessionsAnonymised, 1);
  const csv = await h.app.inject({ url: '/api/sessions?format=csv', headers: as(h, 'staff') });
  assert.doesNotMatch(csv.body, /Ann|dizzy/);
  assert.match(csv.body, /\(anonymised\)/);
  assert.equal(
    (await h.app.inject({ url: `/api/clients/${ann.id}`, headers: as(h, 'staff') })).statusCode,
    404,
  );
  await h.store.flush();
  assert.deepEqual(await filesContaining(h.store.dataDir, 'Ann Example'), [], 'no file names her');
  assert.deepEqual(await filesContaining(h.store.dataDir, 'dizzy'), []);
  const erasure = h.store.audit(1000).find((a) => a.what === `DELETE /api/clients/${ann.id}`);
  assert.match(erasure?.detail ?? '', /erased client .*1 session\(s\) anonymised/);
});

test('a screening older than the setting is asked again; a contraindication is kept and blocks; bad input is named', async (t) => {
  const h = await startHarness(t);
  const admin = as(h, 'token');
  const privacy = await h.app.inject({
    method: 'PUT',
    url: '/api/settings/privacy',
    headers: admin,
    payload: { screeningMaxAgeDays: 1 },
  });
  assert.equal(privacy.statusCode, 200, privacy.body);
  assert.deepEqual(privacy.json(), { retentionDays: 365, screeningMaxAgeDays: 1, consentTextVersion: '1' });
  for (const [payload, field] of [
    [{ retentionDays: 0 }, 'body.retentionDays'],
    [{ retentionDays: 30, typo: 1 }, 'body.typo'],
  ] as const) {
    const bad = await h.app.inject({ method: 'PUT', url: '/api/settings/privacy', headers: admin, payload });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.equal(bad.json<{ field: string }>().field, field);
  }
  assert.equal(
    (
      await h.app.inject({
        method: 'PUT',
        url: '/api/settings/privacy',
        headers: as(h, 'staff'),
        payload: { retentionDays: 30 },
      })
    ).statusCode,
    403,
  );

  const c = (
    await h.app.inject({
      method: 'POST',
      url: '/api/clients',
      headers: admin,
      payload: { name: 'Bo Due', consentTextVersion: 'v1', screening: noAnswers },
    })
  ).json<{ id: string }>();
  const start = (payload: Record<string, unknown>, headers = admin) =>
    h.app.inject({
      method: 'POST',
      url: '/api/stations/bay-2/start',
      headers,
      payload: { programId: 'leg-circulation', clientId: c.id, durationMin: 5, ...payload },
    });

  h.clock.offsetMs = 2 * 24 * 60 * 60_000;
  await readyBoard(h.client);
  const due = await start({});
  assert.equal(due.statusCode, 400, due.body);
  assert.equal(due.json<{ error: string; field: string }>().error, 'screening-due');
  assert.match(due.json<{ message: string }>().message, /2 days old/);
  const blocked = await start({ screening: { ...noAnswers, dvt: true } });
  assert.equal(blocked.statusCode, 403, blocked.body);
  assert.equal(blocked.json<{ field: string }>().field, 'body.screening.dvt');
  assert.equal(h.store.client(c.id)?.screening?.blocked, true, 'the answer is kept for staff to see');
  assert.equal((await start({})).statusCode, 400, 'a blocked screening is asked again');

  assert.equal(
    (await start({ screening: noAnswers }, as(h, 'anonymous'))).statusCode,
    403,
    'walk-up users never name a client',
  );
  const both = await start({ client: 'Someone', screening: noAnswers });
  assert.equal(both.json<{ field: string }>().field, 'body.client');
  const unknown = await h.app.inject({
    method: 'POST',
    url: '/api/stations/bay-2/start',
    headers: admin,
    payload: { programId: 'leg-circulation', clientId: 'nope' },
  });
  assert.equal(unknown.statusCode, 404);
  const ok = await startOnReadyBoard(h.client, () => start({ screening: noAnswers }));
  assert.equal(ok.statusCode, 201, ok.body);
  await h.app.inject({ method: 'POST', url: '/api/stations/bay-2/stop', payload: {} });
});
