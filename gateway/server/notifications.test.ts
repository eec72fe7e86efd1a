/**
 * Staff notifications against real local peers: an HTTP receiver on 127.0.0.1 for webhooks and
 * ntfy's JSON publish format, and an SMTP server (smtp-server) for e-mail. A walk-up STOP and a
 * high alarm from the real controller reach all three within seconds, in the centre's language,
 * while one receiver hangs and another refuses; each message arrives once; secrets never come back.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { SCREENING_QUESTIONS } from './screening.js';
import { ADMIN_TOKEN, startHarness, startOnReadyBoard, waitFor } from './test-support/harness.js';

const noAnswers = Object.fromEntries(SCREENING_QUESTIONS.map((q) => [q.id, false]));
const TOKEN = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` };

interface Received {
  path: string;
  auth: string | undefined;
  idempotencyKey: string | undefined;
  body: Record<string, unknown>;
  atMs: number;
}

async function listen(server: Server | SMTPServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = (server as { server?: Server }).server?.address() ?? (server as Server).address();
  return (address as AddressInfo).port;
}

/** Webhook and ntfy receiver: /hook answers 200, /flaky 500 the first time, /hang never answers. */
async function httpReceiver(t: { after: (fn: () => Promise<void>) => void }) {
  const got: Received[] = [];
  const hanging: ServerResponse[] = [];
  let flakyCalls = 0;
  const flaky = { refusedKey: undefined as string | undefined };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      if (req.url === '/hang') {
        hanging.push(res);
        return;
      }
      if (req.url === '/flaky' && flakyCalls++ === 0) {
        flaky.refusedKey = req.headers['idempotency-key'] as string | undefined;
        res.writeHead(500).end('try later');
        return;
      }
      got.push({
        path: req.url ?? '',
        auth: req.headers.authorization,
        idempotencyKey: req.headers['idempotency-key'] as string | undefined,
        body: JSON.parse(text) as Record<string, unknown>,
        atMs: Date.now(),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await listen(server);
  t.after(async () => {
    for (const r of hanging) r.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return { got, port, hanging, flaky };
}

/** The mail as a person reads it: quoted-printable body and encoded-word subject decoded. */
function readable(raw: string): string {
  // Whitespace between adjacent encoded words is not part of the text (RFC 2047 §6.2).
  const words = raw
    .replace(/\?=\s+=\?UTF-8\?Q\?/gi, '')
    .replace(/=\?UTF-8\?Q\?(.*?)\?=/gi, (_m, w: string) => w.replace(/_/g, ' '));
  const bytes = words
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

async function smtpReceiver(t: { after: (fn: () => Promise<void>) => void }) {
  const mails: { text: string; atMs: number }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      let text = '';
      stream.on('data', (c: Buffer) => (text += c.toString()));
      stream.on('end', () => {
        mails.push({ text: readable(text), atMs: Date.now() });
        callback();
      });
    },
  });
  const port = await listen(server);
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { mails, port };
}

/** A port nothing listens on: the "refusing" receiver. */
async function closedPort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

test('a walk-up STOP and a high alarm reach a webhook, ntfy and an e-mail inbox within seconds, once each', async (t) => {
  const http = await httpReceiver(t);
  const smtp = await smtpReceiver(t);
  const dead = await closedPort();
  const h = await startHarness(t, {
    notifications: { sendTimeoutMs: 1000, backoffMs: 100, controllerLostAfterMs: 500 },
  });
  const base = `http://127.0.0.1:${http.port}`;
  const channels = [
    {
      id: 'hook',
      kind: 'webhook',
      enabled: true,
      internal: false,
      events: ['alarm-high', 'walk-up-stop', 'session-end'],
      url: `${base}/hook`,
      secret: 's3cret-bearer',
    },
    {
      id: 'flaky',
      kind: 'webhook',
      enabled: true,
      internal: false,
      events: ['alarm-high'],
      url: `${base}/flaky`,
    },
    {
      id: 'hang',
      kind: 'webhook',
      enabled: true,
      internal: false,
      events: ['alarm-high', 'walk-up-stop'],
      url: `${base}/hang`,
    },
    {
      id: 'dead',
      kind: 'webhook',
      enabled: true,
      internal: false,
      events: ['alarm-high', 'walk-up-stop'],
      url: `http://127.0.0.1:${dead}/x`,
    },
    {
      id: 'phones',
      kind: 'ntfy',
      enabled: true,
      internal: false,
      events: ['alarm', 'walk-up-stop'],
      server: `${base}/ntfy`,
      topic: 'presso-lounge',
    },
    {
      id: 'desk',
      kind: 'email',
      enabled: true,
      internal: true,
      events: ['alarm-high', 'walk-up-stop', 'session-end', 'controller-lost'],
      host: '127.0.0.1',
      port: smtp.port,
      tls: false,
      from: 'gateway@centre.example',
      to: ['desk@centre.example'],
    },
  ];
  const put = await h.app.inject({
    method: 'PUT',
    url: '/api/settings/notifications',
    headers: TOKEN,
    payload: { language: 'de', channels },
  });
  assert.equal(put.statusCode, 200, put.body);
  assert.doesNotMatch(put.body, /s3cret/, 'the answer to PUT holds no secret');
  // Sent again without the secret (as the admin page does): the stored one is kept.
  const again = await h.app.inject({
    method: 'PUT',
    url: '/api/settings/notifications',
    headers: TOKEN,
    payload: { language: 'de', channels: channels.map(({ secret: _s, ...c }) => c) },
  });
  assert.equal(again.statusCode, 200, again.body);
  const read = await h.app.inject({ url: '/api/settings/notifications', headers: TOKEN });
  assert.doesNotMatch(read.body, /s3cret/);
  assert.equal(
    read.json<{ channels: { id: string; secretSet: boolean }[] }>().channels.find((c) => c.id === 'hook')
      ?.secretSet,
    true,
  );
  for (const who of [{ cookie: h.cookies.staff }, { cookie: h.cookies.support }, {}])
    assert.ok(
      [401, 403].includes(
        (await h.app.inject({ url: '/api/settings/notifications', headers: who })).statusCode,
      ),
    );
  const bad = await h.app.inject({
    method: 'PUT',
    url: '/api/settings/notifications',
    headers: TOKEN,
    payload: { language: 'de', channels: [channels[0], channels[0]] },
  });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json<{ field: string }>().field, 'body.channels[1].id');

  // The test button: an answer from the receiver, or the reason it failed.
  const testHook = await h.app.inject({
    method: 'POST',
    url: '/api/settings/notifications/test',
    headers: TOKEN,
    payload: { channelId: 'hook' },
  });
  assert.equal(testHook.statusCode, 200, testHook.body);
  assert.equal(http.got.find((r) => r.path === '/hook')?.body.event, 'test');
  const testDead = await h.app.inject({
    method: 'POST',
    url: '/api/settings/notifications/test',
    headers: TOKEN,
    payload: { channelId: 'dead' },
  });
  assert.equal(testDead.statusCode, 502);
  assert.match(testDead.json<{ message: string }>().message, /ECONNREFUSED/);
  http.got.length = 0;

  // A walk-up user presses STOP.
  await h.app.inject({
    method: 'PUT',
    url: '/api/stations/lounge-1/settings',
    headers: TOKEN,
    payload: {
      walkUpEnabled: true,
      walkUpPrograms: ['leg-relaxation'],
      walkUpMaxPressureMmHg: 35,
      walkUpMaxDurationMin: 15,
    },
  });
  const walkUp = await startOnReadyBoard(h.client, () =>
    h.app.inject({
      method: 'POST',
      url: '/api/stations/lounge-1/start',
      payload: { programId: 'leg-relaxation', screening: noAnswers },
    }),
  );
  assert.equal(walkUp.statusCode, 201, walkUp.body);
  await waitFor(() => (h.app.link.runningSession('lounge-1') !== undefined ? true : undefined));
  const stopAt = Date.now();
  const stop = await h.app.inject({ method: 'POST', url: '/api/stations/lounge-1/stop', payload: {} });
  assert.equal(stop.statusCode, 200);
  const hookStop = await waitFor(
    () => http.got.find((r) => r.path === '/hook' && r.body.event === 'walk-up-stop'),
    10_000,
  );
  const ntfyStop = await waitFor(
    () => http.got.find((r) => r.path === '/ntfy' && /STOP/.test(String(r.body.title))),
    10_000,
  );
  const mailStop = await waitFor(() => smtp.mails.find((m) => /STOP an/.test(m.text)), 10_000);
  t.diagnostic(
    `walk-up STOP → webhook ${hookStop.atMs - stopAt} ms, ntfy ${ntfyStop.atMs - stopAt} ms, e-mail ${mailStop.atMs - stopAt} ms`,
  );
  assert.equal(hookStop.auth, 'Bearer s3cret-bearer', 'the kept secret is used');
  assert.match(String(hookStop.body.title), /STOP an .* gedrückt/, 'in the centre’s language');
  assert.deepEqual(
    { topic: ntfyStop.body.topic, priority: ntfyStop.body.priority },
    { topic: 'presso-lounge', priority: 5 },
  );
  // STOP ALL pressed by a walk-up user is a walk-up STOP too.
  const secondWalkUp = await startOnReadyBoard(h.client, () =>
    h.app.inject({
      method: 'POST',
      url: '/api/stations/lounge-1/start',
      payload: { programId: 'leg-relaxation', screening: noAnswers },
    }),
  );
  assert.equal(secondWalkUp.statusCode, 201, secondWalkUp.body);
  await waitFor(() => (h.app.link.runningSession('lounge-1') !== undefined ? true : undefined));
  assert.equal((await h.app.inject({ method: 'POST', url: '/api/stop', payload: {} })).statusCode, 200);
  await waitFor(
    () =>
      http.got.filter((r) => r.path === '/hook' && r.body.event === 'walk-up-stop').length === 2
        ? true
        : undefined,
    10_000,
  );

  // A high alarm on a staff session for a named client.
  const start = await startOnReadyBoard(h.client, () =>
    h.app.inject({
      method: 'POST',
      url: '/api/stations/bay-1/start',
      headers: { cookie: h.cookies.staff },
      payload: { programId: 'leg-circulation', client: 'Ann Example', pressureMmHg: 40, durationMin: 5 },
    }),
  );
  assert.equal(start.statusCode, 201, start.body);
  const faultAt = Date.now();
  const fault = await h.app.inject({
    method: 'POST',
    url: '/api/sim/stations/bay-1/faults',
    headers: TOKEN,
    payload: { kind: 'sensor-disconnected', zone: 1 },
  });
  assert.equal(fault.statusCode < 300, true, fault.body);
  const hookAlarm = await waitFor(
    () =>
      http.got.find(
        (r) =>
          r.path === '/hook' &&
          r.body.event === 'alarm-high' &&
          (r.body.alarm as { code?: string } | undefined)?.code === 'sensor-implausible',
      ),
    15_000,
  );
  const ntfyAlarm = await waitFor(
    () =>
      http.got.find(
        (r) =>
          r.path === '/ntfy' &&
          r.body.priority === 5 &&
          /Hoher Alarm.*Drucksensor gestört/.test(String(r.body.title)),
      ),
    15_000,
  );
  const mailAlarm = await waitFor(
    () => smtp.mails.find((m) => /Hoher Alarm an .*: Drucksensor gestört/.test(m.text)),
    15_000,
  );
  t.diagnostic(
    `high alarm (from the fault) → webhook ${hookAlarm.atMs - faultAt} ms, ntfy ${ntfyAlarm.atMs - faultAt} ms, e-mail ${mailAlarm.atMs - faultAt} ms`,
  );
  await waitFor(() => http.got.find((r) => r.path === '/flaky'), 10_000);
  // The session ended on the fault: the internal inbox may name the client, the webhook never.
  const mailEnd = await waitFor(
    () => smtp.mails.find((m) => /Sitzung an/.test(m.text) && !/Lounge/.test(m.text)),
    15_000,
  );
  assert.match(mailEnd.text, /\(Ann Example\) wurde wegen einer Störung beendet/);
  await waitFor(() => http.got.find((r) => r.path === '/hook' && r.body.event === 'session-end'), 15_000);
  assert.ok(
    http.got.every((r) => !JSON.stringify(r.body).includes('Ann')),
    'no client name on channels that are not internal',
  );

  // Once each: every notice id reached /hook exactly once, the flaky receiver once after its 500.
  await new Promise((r) => setTimeout(r, 500));
  const ids = http.got.filter((r) => r.path === '/hook').map((r) => r.idempotencyKey);
  assert.equal(new Set(ids).size, ids.length, `repeated ids at /hook: ${ids.join(', ')}`);
  const flakyIds = http.got.filter((r) => r.path === '/flaky').map((r) => r.idempotencyKey);
  assert.equal(new Set(flakyIds).size, flakyIds.length, `repeated ids at /flaky: ${flakyIds.join(', ')}`);
  assert.ok(
    http.flaky.refusedKey !== undefined && flakyIds.includes(http.flaky.refusedKey),
    'the refused message came through on a retry',
  );
  assert.ok(http.hanging.length >= 1, 'the hanging receiver was tried');

  // The support view names the dead channel and why.
  const status = await waitFor(async () => {
    const res = await h.app.inject({
      url: '/api/support/notifications',
      headers: { cookie: h.cookies.support },
    });
    const list = res.json<{ channels: { id: string; state: string; lastError?: string }[] }>().channels;
    const d = list.find((c) => c.id === 'dead');
    return d?.state === 'failing' ? list : undefined;
  });
  assert.match(status.find((c) => c.id === 'dead')?.lastError ?? '', /ECONNREFUSED/);
  assert.equal(status.find((c) => c.id === 'hook')?.state, 'ok');
  assert.equal(status.find((c) => c.id === 'hang')?.state, 'failing');

  // The controller goes away and stays away.
  await h.controller.kill('SIGKILL');
  const lost = await waitFor(() => smtp.mails.find((m) => /Steuerung nicht erreichbar/.test(m.text)), 10_000);
  assert.ok(lost);
});
