/**
 * Hostile-LAN campaign (issue 17): each attack that once worked is replayed against the real
 * processes (compiled, as in production) over real loopback HTTP and WebSockets, and its defence
 * is the verdict:
 *
 * 1. flood: `flood` requests with 15,000-character URLs; the store file grows by less than the
 *    documented bound (docs/security.md) and the support log download stays bounded;
 * 2. cross-site: what a no-cors fetch, a text/plain body and a rebinding Host send, against stop,
 *    pause and a walk-up start; all refused, the running session untouched, and the gateway's
 *    own same-origin STOP still works;
 * 3. guessing: 100 wrong PINs from 38 loopback addresses lock the user (the right PIN is then
 *    refused) until an admin unlocks; 300 wrong bearer tokens are throttled after a few and
 *    audited;
 * 4. resume: a session staff started (client typed "walk-up") or staff paused is not resumed by
 *    a passer-by;
 * 5. sockets: `sockets` Socket.IO clients from one address, each following the overview and 32
 *    stations; at most the cap is accepted, each refusal says why, /api/health keeps answering;
 * 6. smaller: a free-text anonymous stop reason is refused, a blocked screening leaves no health
 *    text in the audit, a 429 says `rate-limited`.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as ioClient, type Socket } from 'socket.io-client';
import { ControllerClient } from '../../gateway/ipc/client.js';
import { anonymousAuditBound, AUDIT_ENTRY_MAX_BYTES } from '../../gateway/server/plugins/audit.js';
import { BEARER_FAILURES_PER_MIN, LOCKOUT_AFTER_FAILURES } from '../../gateway/server/plugins/auth.js';
import { DEFAULT_MAX_SOCKETS_PER_ADDRESS } from '../../gateway/server/config.js';
import { SCREENING_QUESTIONS } from '../../gateway/server/screening.js';
import { readyBoard } from '../../gateway/server/test-support/harness.js';
import type { AuditEntry, SessionRecord } from '../../gateway/store/types.js';
import type { Runner } from './compile.js';
import { sleep } from '../../test/support/http.js';
import { spawnBenchController, spawnListening } from './procs.js';

const TOKEN = 'campaign-admin-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const JSON_TYPE = { 'content-type': 'application/json' };
const STAFF = { id: 'sam', pin: '246813' };
const noAnswers = Object.fromEntries(SCREENING_QUESTIONS.map((q) => [q.id, false]));

export interface HostileCounts {
  failures: string[];
  floodRequests: number;
  floodStoreGrowthBytes: number;
  floodStoreBoundBytes: number;
  supportLogBytes: number;
  crossSiteAttempts: number;
  crossSiteAccepted: number;
  pinGuesses: number;
  pinGuessAddresses: number;
  rightPinAcceptedWhileLocked: number;
  bearerGuesses: number;
  bearerGuessesAnswered: number;
  bearerGuessesAudited: number;
  sockets: number;
  socketsAccepted: number;
  socketsRefusedClearly: number;
  healthMsIdle: number;
  healthMsUnderSockets: number;
  latchedAlarmsAcknowledged: number;
  durationS: number;
}

interface Reply {
  status: number;
  body: string;
  cookie?: string;
  json<T>(): T;
}

/** One HTTP request over loopback, optionally from a given local address (127.0.0.x). */
function send(
  base: string,
  path: string,
  o: { method?: string; headers?: Record<string, string>; body?: string; from?: string } = {},
): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: o.method ?? 'GET',
        headers: o.headers,
        ...(o.from !== undefined ? { localAddress: o.from } : {}),
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        const cookie = /presso_login=[^;]+/.exec(String(res.headers['set-cookie'] ?? ''))?.[0];
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text,
            ...(cookie !== undefined ? { cookie } : {}),
            json: <T>() => JSON.parse(text) as T,
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within 10 s`)));
    req.on('error', reject);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

const command = (base: string, path: string, body: unknown = {}, headers: Record<string, string> = AUTH) =>
  send(base, path, { method: 'POST', headers: { ...JSON_TYPE, ...headers }, body: JSON.stringify(body) });

export async function hostileCampaign(
  n: { flood: number; sockets: number },
  runner: Runner,
  log: (m: string) => void = () => {},
): Promise<HostileCounts> {
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'presso-hostile-'));
  const c: HostileCounts = {
    failures: [],
    floodRequests: 0,
    floodStoreGrowthBytes: 0,
    floodStoreBoundBytes: 0,
    supportLogBytes: 0,
    crossSiteAttempts: 0,
    crossSiteAccepted: 0,
    pinGuesses: 0,
    pinGuessAddresses: 0,
    rightPinAcceptedWhileLocked: 0,
    bearerGuesses: 0,
    bearerGuessesAnswered: 0,
    bearerGuessesAudited: 0,
    sockets: 0,
    socketsAccepted: 0,
    socketsRefusedClearly: 0,
    healthMsIdle: 0,
    healthMsUnderSockets: 0,
    latchedAlarmsAcknowledged: 0,
    durationS: 0,
  };
  const fail = (m: string) => c.failures.push(m);
  const controller = spawnBenchController(dir, 'simulator', {}, runner);
  const web = await spawnListening(
    'gateway/server/main.ts',
    { PRESSO_DATA_DIR: dir, PRESSO_ADMIN_TOKEN: TOKEN },
    runner,
  );
  const client = new ControllerClient({ log: { info: () => {}, warn: () => {}, error: () => {} } });
  const sockets: Socket[] = [];
  try {
    await client.connect(controller.socketPath, { retry: true });
    // Latched alarms (a loop stall or a stale sensor when the machine is overloaded) are counted
    // and acknowledged, as staff would, before each step that needs an idle board.
    const settle = async () => {
      for (const a of await client.request('alarms', {})) {
        if (!a.latched) continue;
        c.latchedAlarmsAcknowledged++;
        await client.request('acknowledge', { alarmId: a.id }).catch(() => undefined);
      }
      await readyBoard(client, 30_000);
    };
    await settle();
    const base = web.base;
    /**
     * A start from an idle board; tried again (at most 3 times) when a loop stall on a loaded
     * machine latched an alarm between the board settling and the start (409 refused).
     */
    const startWhenIdle = async (path: string, body: unknown, headers: Record<string, string>) => {
      for (let attempt = 1; ; attempt++) {
        await settle();
        const r = await command(base, path, body, headers);
        if (r.status !== 409 || attempt === 3) return r;
      }
    };
    const audit = async () =>
      (await send(base, '/api/audit?limit=5000', { headers: AUTH })).json<{ audit: AuditEntry[] }>().audit;
    await command(base, '/api/users', { id: STAFF.id, name: 'Sam', role: 'staff', secret: STAFF.pin });
    await send(base, '/api/stations/lounge-1/settings', {
      method: 'PUT',
      headers: { ...AUTH, ...JSON_TYPE },
      body: JSON.stringify({
        walkUpEnabled: true,
        walkUpPrograms: ['leg-relaxation'],
        walkUpMaxPressureMmHg: 35,
        walkUpMaxDurationMin: 15,
      }),
    });

    // 1. flood
    log(`hostile: flood of ${n.flood} long-URL requests`);
    const storeFile = join(dir, 'presso.json');
    await sleep(1500); // the store's debounced write of the set-up above
    const before = statSync(storeFile).size;
    const long = 'x'.repeat(15_000);
    const floodStart = Date.now();
    for (let i = 0; i < n.flood; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, n.flood - i) }, (_, j) => {
          const k = i + j;
          const path = [
            `/api/${long}${k}`,
            `/${long}${k}`,
            `/api/stations/${'y'.repeat(90)}/pause?${long}`,
            `/api/stations/bay-1/${long}`,
          ][k % 4] as string;
          const method = k % 4 === 0 ? 'GET' : 'POST';
          return send(base, path, {
            method,
            ...(method === 'POST' ? { headers: JSON_TYPE, body: '{}' } : {}),
          }).then(
            () => c.floodRequests++,
            () => undefined,
          );
        }),
      );
    }
    const minutes = Math.ceil((Date.now() - floodStart) / 60_000);
    await sleep(1500);
    c.floodStoreGrowthBytes = statSync(storeFile).size - before;
    const maxEntries = anonymousAuditBound(minutes);
    c.floodStoreBoundBytes = maxEntries * AUDIT_ENTRY_MAX_BYTES;
    if (c.floodStoreGrowthBytes >= c.floodStoreBoundBytes) {
      fail(`flood: the store grew ${c.floodStoreGrowthBytes} bytes (bound ${c.floodStoreBoundBytes})`);
    }
    if (c.floodRequests !== n.flood) fail(`flood: ${n.flood - c.floodRequests} requests got no answer`);
    const logs = await send(base, '/api/support/logs', { headers: AUTH });
    c.supportLogBytes = logs.body.length;
    if (logs.body.includes('x'.repeat(100))) fail('flood: a raw long URL is in the support log');
    if (c.supportLogBytes > 2_000_000) fail(`flood: support log ${c.supportLogBytes} bytes`);

    // 2. cross-site and rebinding
    log('hostile: cross-site commands');
    const started = await startWhenIdle(
      '/api/stations/bay-1/start',
      { programId: 'leg-circulation', client: 'Hostile', durationMin: 10 },
      AUTH,
    );
    if (started.status !== 201) fail(`cross-site: set-up start answered ${started.status} ${started.body}`);
    const sessionId = started.status === 201 ? started.json<{ session: SessionRecord }>().session.id : '';
    const host = new URL(base).host;
    const attacks: { headers: Record<string, string>; body?: string }[] = [
      { headers: { host, origin: 'http://evil.test', 'sec-fetch-site': 'cross-site' } },
      {
        headers: { host, origin: 'http://evil.test', 'content-type': 'text/plain' },
        body: '{}',
      },
      { headers: { host, 'content-type': 'text/plain' }, body: '{}' },
      { headers: { host: 'rebind.evil.test', ...JSON_TYPE }, body: '{}' },
    ];
    for (const path of ['/api/stop', '/api/stations/bay-1/pause', '/api/stations/lounge-1/start']) {
      for (const a of attacks) {
        c.crossSiteAttempts++;
        const body =
          path.endsWith('/start') && a.body !== undefined
            ? JSON.stringify({ programId: 'leg-relaxation', screening: noAnswers })
            : a.body;
        const r = await send(base, path, {
          method: 'POST',
          headers: a.headers,
          ...(body !== undefined ? { body } : {}),
        });
        if (r.status < 400) {
          c.crossSiteAccepted++;
          fail(`cross-site: ${path} with ${JSON.stringify(a.headers)} answered ${r.status}`);
        }
      }
    }
    const bay1 = (await client.request('state', { stationId: 'bay-1' }))[0];
    if (bay1?.state === 'paused') fail('cross-site: bay-1 was paused');
    // A loop-stall on a loaded machine may have vented it ('fault'); a stop would be the attack's.
    const afterAttacks = await send(base, `/api/sessions/${sessionId}`, { headers: AUTH });
    if (afterAttacks.status === 200 && afterAttacks.json<SessionRecord>().status === 'stopped') {
      fail(`cross-site: bay-1 was stopped: ${afterAttacks.json<SessionRecord>().reason}`);
    }
    const stillRunning = bay1?.state === 'running';
    const lounge = (await client.request('state', { stationId: 'lounge-1' }))[0];
    if (lounge?.session) fail('cross-site: lounge-1 was started');
    const own = await send(base, '/api/stations/bay-1/stop', {
      method: 'POST',
      headers: { host, origin: `http://${host}`, 'sec-fetch-site': 'same-origin', ...JSON_TYPE },
      body: '{}',
    });
    if (own.status !== 200) fail(`cross-site: the gateway's own STOP answered ${own.status}`);
    await sleep(500);
    const rec = (await send(base, `/api/sessions/${sessionId}`, { headers: AUTH })).json<SessionRecord>();
    if (stillRunning && (rec.status !== 'stopped' || !/stopped by anonymous/.test(rec.reason ?? ''))) {
      fail(`cross-site: the own STOP did not end bay-1: ${rec.status} ${rec.reason ?? ''}`);
    }

    // 3. guessing
    log('hostile: PIN and token guessing');
    const addresses = Array.from({ length: 38 }, (_, i) => `127.0.1.${i + 1}`);
    c.pinGuessAddresses = addresses.length;
    for (let i = 0; i < 100; i++) {
      const r = await send(base, '/api/auth/login', {
        method: 'POST',
        headers: JSON_TYPE,
        body: JSON.stringify({ user: STAFF.id, secret: String(100_000 + i) }),
        from: addresses[i % addresses.length] as string,
      });
      c.pinGuesses++;
      // 38 addresses × 5 logins a minute each: the per-address limit is not what stops this.
      const want = i < LOCKOUT_AFTER_FAILURES - 1 ? 401 : 429;
      if (r.status !== want) {
        fail(`guessing: wrong PIN ${i + 1} answered ${r.status}, expected ${want}`);
      }
    }
    const right = await send(base, '/api/auth/login', {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ user: STAFF.id, secret: STAFF.pin }),
      from: '127.0.2.1',
    });
    if (right.status === 200) {
      c.rightPinAcceptedWhileLocked++;
      fail('guessing: the right PIN was accepted after 100 wrong ones');
    }
    const users = (await send(base, '/api/users', { headers: AUTH })).json<{
      users: { id: string; lockedUntilEpochMs?: number }[];
    }>().users;
    if (users.find((u) => u.id === STAFF.id)?.lockedUntilEpochMs === undefined) {
      fail('guessing: the admin does not see the lock');
    }
    await command(base, `/api/users/${STAFF.id}/unlock`);
    const unlocked = await send(base, '/api/auth/login', {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ user: STAFF.id, secret: STAFF.pin }),
      from: '127.0.2.2',
    });
    if (unlocked.status !== 200)
      fail(`guessing: after the admin's unlock the PIN answered ${unlocked.status}`);
    const staffCookie = unlocked.cookie;
    const bearerFrom = '127.0.3.1';
    for (let i = 0; i < 300; i++) {
      const r = await send(base, '/api/users', {
        headers: { authorization: `Bearer guess-${i}-0123456789abcdef` },
        from: bearerFrom,
      });
      c.bearerGuesses++;
      if (r.status !== 429) c.bearerGuessesAnswered++;
    }
    if (c.bearerGuessesAnswered > BEARER_FAILURES_PER_MIN * 2) {
      fail(
        `guessing: ${c.bearerGuessesAnswered} wrong tokens were checked (throttle after ${BEARER_FAILURES_PER_MIN})`,
      );
    }
    // Whether each checked wrong token was audited (one by one, or counted in a summary once the
    // failed-login budget was spent by the PIN guessing above) is read from the store file after a
    // graceful stop, below.

    // 4. resume
    log('hostile: walk-up resume rights');
    const staffHeaders = staffCookie !== undefined ? { cookie: staffCookie } : AUTH;
    const named = await startWhenIdle(
      '/api/stations/lounge-1/start',
      { programId: 'leg-circulation', client: 'walk-up' },
      staffHeaders,
    );
    if (named.status !== 201) fail(`resume: staff start answered ${named.status} ${named.body}`);
    await command(base, '/api/stations/lounge-1/pause', {}, {});
    const r1 = await command(base, '/api/stations/lounge-1/resume', {}, {});
    if (r1.status < 400) fail(`resume: a passer-by resumed a staff session named "walk-up" (${r1.status})`);
    await command(base, '/api/stations/lounge-1/stop', {}, {});
    const walkUp = await startWhenIdle(
      '/api/stations/lounge-1/start',
      { programId: 'leg-relaxation', screening: noAnswers },
      {},
    );
    if (walkUp.status !== 201) fail(`resume: walk-up start answered ${walkUp.status} ${walkUp.body}`);
    await command(base, '/api/stations/lounge-1/pause', {}, staffHeaders);
    const r2 = await command(base, '/api/stations/lounge-1/resume', {}, {});
    if (r2.status < 400) fail(`resume: a passer-by resumed a session staff paused (${r2.status})`);

    // 6. smaller findings (before the sockets, while the board is quiet)
    const freeText = await command(
      base,
      '/api/stations/lounge-1/stop',
      { reason: 'a walk-up user says the gateway is on fire' },
      {},
    );
    if (freeText.status !== 400)
      fail(`smaller: a free-text anonymous stop reason answered ${freeText.status}`);
    await command(base, '/api/stations/lounge-1/stop', {}, {});
    await settle();
    const blocked = await command(
      base,
      '/api/stations/lounge-1/start',
      { programId: 'leg-relaxation', screening: { ...noAnswers, dvt: true } },
      {},
    );
    if (blocked.status !== 403) fail(`smaller: a blocked screening answered ${blocked.status}`);
    if ((await audit()).some((a) => /clot|thrombosis/i.test(a.detail ?? ''))) {
      fail('smaller: health text in the audit');
    }
    let limited: Reply | undefined;
    for (let i = 0; i < 8 && limited === undefined; i++) {
      const r = await send(base, '/api/auth/login', {
        method: 'POST',
        headers: JSON_TYPE,
        body: JSON.stringify({ user: 'nobody', secret: 'x' }),
        from: '127.0.4.1',
      });
      if (r.status === 429) limited = r;
    }
    if (limited?.json<{ error: string }>().error !== 'rate-limited') {
      fail(`smaller: a 429 says ${limited?.body ?? '(no 429 after 8 logins from one address)'}`);
    }

    // 5. sockets
    log(`hostile: ${n.sockets} Socket.IO clients from one address`);
    const health = async () => {
      const t = performance.now();
      await send(base, '/api/health');
      return performance.now() - t;
    };
    c.healthMsIdle = await health();
    c.sockets = n.sockets;
    const outcomes = await Promise.all(
      Array.from({ length: n.sockets }, () => {
        const s = ioClient(base, { transports: ['websocket'], reconnection: false, forceNew: true });
        sockets.push(s);
        return new Promise<{ ok: boolean; error?: string }>((resolve) => {
          const timer = setTimeout(() => resolve({ ok: false, error: 'no answer within 20 s' }), 20_000);
          s.once('connect', () => {
            clearTimeout(timer);
            s.emit('subscribe', { overview: true });
            for (let k = 0; k < 32; k++) s.emit('subscribe', { stationId: `station-${k}` });
            resolve({ ok: true });
          });
          s.once('connect_error', (e) => {
            clearTimeout(timer);
            resolve({ ok: false, error: e.message });
          });
        });
      }),
    );
    c.socketsAccepted = outcomes.filter((o) => o.ok).length;
    c.socketsRefusedClearly = outcomes.filter(
      (o) => !o.ok && /too many live connections/.test(o.error ?? ''),
    ).length;
    if (c.socketsAccepted > DEFAULT_MAX_SOCKETS_PER_ADDRESS) {
      fail(
        `sockets: ${c.socketsAccepted} accepted from one address (cap ${DEFAULT_MAX_SOCKETS_PER_ADDRESS})`,
      );
    }
    if (c.socketsAccepted + c.socketsRefusedClearly !== n.sockets) {
      const other = outcomes.find((o) => !o.ok && !/too many live connections/.test(o.error ?? ''));
      fail(
        `sockets: ${n.sockets - c.socketsAccepted - c.socketsRefusedClearly} unclear refusals (${other?.error})`,
      );
    }
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) samples.push(await health());
    c.healthMsUnderSockets = Math.max(...samples);

    // The web process stops as pm2 stops it (SIGTERM): it writes its last summary and the store.
    for (const s of sockets) s.close();
    await web.kill('SIGTERM');
    const stored = JSON.parse(readFileSync(storeFile, 'utf8')) as { audit: AuditEntry[] };
    const oneByOne = stored.audit.filter((a) => a.from === bearerFrom && a.detail === 'wrong bearer token');
    const counted = stored.audit
      .map((a) => /(\d+) failed logins and wrong tokens over the audit budget/.exec(a.detail ?? '')?.[1])
      .reduce((sum, x) => sum + Number(x ?? 0), 0);
    c.bearerGuessesAudited = oneByOne.length + counted;
    if (c.bearerGuessesAudited < c.bearerGuessesAnswered) {
      fail(
        `guessing: ${c.bearerGuessesAnswered} wrong tokens checked, ${oneByOne.length} audited and ${counted} counted`,
      );
    }
  } catch (e) {
    fail(`campaign error: ${(e as Error).message}`);
  } finally {
    for (const s of sockets) s.close();
    // Gone already after a run to the end; killed here after an error.
    await client.close();
    await web.kill();
    await controller.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  c.durationS = (Date.now() - t0) / 1000;
  return c;
}
