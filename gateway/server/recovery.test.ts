/**
 * The web process as a real process on a real data dir, for what only a process shows:
 *
 * - a corrupt, empty or truncated presso.json at start is moved aside, the last good backup (or
 *   the defaults) restored, and a latched 'database-recovered' alarm raised, which GET /api/alarms
 *   lists and GET /api/health reports as degraded until staff acknowledge it; the process stays up;
 * - the web process killed with SIGKILL while sessions are being started: every start it answered
 *   2xx is in the history after a restart, and the file on disk always parses.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ControllerClient } from '../ipc/client.js';
import type { AlarmInfo } from '../protocol.js';
import { STORE_FILE_NAME } from '../store/store.js';
import { dayKey } from '../store/store-file.js';
import type { SessionRecord } from '../store/types.js';
import { DAY_MS, damageFile, goodDataDir } from '../../test/support/damaged-files.js';
import { call, REQUEST_TIMEOUT_MS } from '../../test/support/http.js';
import { readyBoard, spawnController, type Controller, waitFor } from './test-support/harness.js';
import { spawnWeb, type WebProcess } from './test-support/web-process.js';

const ADMIN_TOKEN = 'recovery-test-admin-token-0123';
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const VIEWER = { id: 'vic', secret: 'viewer-password' };

interface Health {
  status: 'ok' | 'degraded';
  controller: 'connected' | 'disconnected';
  unacknowledged: string[];
}
interface AlarmsBody {
  active: AlarmInfo[] | null;
  history: AlarmInfo[];
}

/** Starts a controller and the web process on `dir`, both stopped (SIGKILL if need be) in t.after. */
async function startBoth(
  t: TestContext,
  dir: string,
): Promise<{
  controller: Controller;
  web: () => WebProcess;
  restart: (signal?: NodeJS.Signals) => Promise<void>;
}> {
  const controller = spawnController(dir);
  let web: WebProcess | undefined;
  t.after(async () => {
    await web?.kill('SIGKILL');
    await controller.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const env = { PRESSO_ADMIN_TOKEN: ADMIN_TOKEN };
  web = await spawnWeb(dir, env);
  const current = () => {
    if (web === undefined) throw new Error('web process not running');
    return web;
  };
  // Wait for the controller link, so that "degraded" can only mean the alarm and starts can work.
  const linked = () =>
    waitFor(async () => {
      const h = await call<Health>(current().base, '/api/health');
      return h.body.controller === 'connected' ? true : undefined;
    }, 20_000);
  await linked();
  return {
    controller,
    web: current,
    async restart(signal: NodeJS.Signals = 'SIGTERM') {
      await web?.kill(signal);
      web = undefined;
      web = await spawnWeb(dir, env);
      await linked();
    },
  };
}

for (const how of ['truncated', 'empty', 'nul-bytes'] as const) {
  test(`a ${how} database file at start: moved aside, last backup restored, alarm until acknowledged`, async (t) => {
    const { dir, inBackup, inJournal } = await goodDataDir({
      withBackup: true,
      user: { ...VIEWER, role: 'viewer' },
    });
    const file = join(dir, STORE_FILE_NAME);
    const what = damageFile(file, how);
    const bad = readFileSync(file);
    const both = await startBoth(t, dir);
    const base = both.web().base;

    const alarms = await call<AlarmsBody>(base, '/api/alarms', { headers: ADMIN });
    assert.equal(alarms.status, 200);
    const alarm = alarms.body.active?.find((a) => a.code === 'database-recovered');
    assert.ok(alarm, `${what}: active alarms: ${JSON.stringify(alarms.body.active)}`);
    assert.equal(alarm.priority, 'medium');
    assert.equal(alarm.stationId, null);
    assert.equal(alarm.latched, true);
    assert.equal(alarm.active, false);
    // Backups are named by the local calendar day (store-file.ts dayKey), like the reason.
    const backupDate = dayKey(Date.now() - DAY_MS);
    assert.match(alarm.reason, /could not be read/);
    assert.match(alarm.reason, new RegExp(`the last backup from ${backupDate}`), alarm.reason);
    assert.ok(
      alarms.body.history.some((a) => a.id === alarm.id),
      'recorded in the alarm history',
    );

    const health = await call<Health>(base, '/api/health');
    assert.equal(health.body.status, 'degraded');
    assert.equal(health.body.controller, 'connected');
    assert.deepEqual(health.body.unacknowledged, ['database-recovered']);

    // The bad file was moved aside unchanged, and named in the reason.
    const aside = readdirSync(dir).filter((n) => n.startsWith(`${STORE_FILE_NAME}.corrupt-`));
    assert.equal(aside.length, 1, readdirSync(dir).join(', '));
    assert.ok(alarm.reason.includes(join(dir, aside[0] ?? '')), alarm.reason);
    assert.deepEqual(readFileSync(join(dir, aside[0] ?? '')), bad);
    // The live file is good again.
    JSON.parse(readFileSync(file, 'utf8'));

    // The backup's session, and the one acknowledged after the backup (the journal), are back.
    const sessions = await call<{ sessions: SessionRecord[] }>(base, '/api/sessions?limit=5000', {
      headers: ADMIN,
    });
    const ids = new Set(sessions.body.sessions.map((s) => s.id));
    assert.ok(ids.has(inBackup), 'the backup session is restored');
    assert.ok(ids.has(inJournal), 'the session acknowledged after the backup is replayed');

    if (how === 'truncated') {
      // Unacknowledged, the alarm survives a restart of the web process (the file is good now).
      await both.restart();
      const again = await call<AlarmsBody>(both.web().base, '/api/alarms', { headers: ADMIN });
      assert.deepEqual(
        again.body.active?.filter((a) => a.code === 'database-recovered').map((a) => a.id),
        [alarm.id],
        'still waiting after a restart, and raised once only',
      );
    }
    const b = both.web().base;

    // Acknowledging needs staff or above: anonymous 401, viewer 403.
    const ackPath = `/api/alarms/${encodeURIComponent(alarm.id)}/acknowledge`;
    assert.equal((await call(b, ackPath, { method: 'POST' })).status, 401);
    const login = await fetch(`${b}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: VIEWER.id, secret: VIEWER.secret }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    assert.equal(login.status, 200, 'the viewer user came back with the backup');
    const viewerCookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    assert.equal((await call(b, ackPath, { method: 'POST', headers: { cookie: viewerCookie } })).status, 403);

    const ack = await call<{ acknowledged: AlarmInfo[] }>(b, ackPath, { method: 'POST', headers: ADMIN });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    assert.equal(ack.body.acknowledged[0]?.id, alarm.id);
    assert.equal((await call(b, ackPath, { method: 'POST', headers: ADMIN })).status, 404, 'only once');

    const after = await call<AlarmsBody>(b, '/api/alarms', { headers: ADMIN });
    assert.ok(!(after.body.active ?? []).some((a) => a.code === 'database-recovered'));
    const healthAfter = await call<Health>(b, '/api/health');
    assert.equal(healthAfter.body.status, 'ok');
    assert.deepEqual(healthAfter.body.unacknowledged, []);
    assert.ok(both.web().child.exitCode === null, 'the web process is still up');
  });
}

test('a damaged database file and no backup: the defaults, and the alarm says so', async (t) => {
  const { dir } = await goodDataDir({ withBackup: false });
  damageFile(join(dir, STORE_FILE_NAME), 'truncated');
  const both = await startBoth(t, dir);
  const alarms = await call<AlarmsBody>(both.web().base, '/api/alarms', { headers: ADMIN });
  const alarm = alarms.body.active?.find((a) => a.code === 'database-recovered');
  assert.ok(alarm, JSON.stringify(alarms.body.active));
  assert.match(
    alarm.reason,
    /empty defaults: programs are the built-ins, users and settings must be set again/,
  );
  assert.equal((await call<Health>(both.web().base, '/api/health')).body.status, 'degraded');
});

test('the web process killed with SIGKILL while starting sessions loses no acknowledged session', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'presso-sigkill-'));
  const file = join(dir, STORE_FILE_NAME);
  const both = await startBoth(t, dir);
  const client = new ControllerClient({ log: { info: () => {}, warn: () => {}, error: () => {} } });
  t.after(() => client.close());
  await client.connect(both.controller.socketPath, { retry: true });

  const acknowledged = new Set<string>();
  const deadline = Date.now() + 90_000;
  const ITERATIONS = 15;
  let iterations = 0;
  let inFlightAtKill = 0;
  for (let i = 0; i < ITERATIONS && Date.now() < deadline; i++) {
    iterations++;
    const base = both.web().base;
    // A board left running (or vented by a loop stall) by the previous round starts idle again.
    await call(base, '/api/stop', { method: 'POST', headers: ADMIN });
    await readyBoard(client);

    let stopped = false;
    let inFlight = 0;
    // One worker per station: start, and on success stop again so the next start is accepted.
    const worker = async (stationId: string) => {
      while (!stopped) {
        inFlight++;
        try {
          const res = await call<{ session?: SessionRecord }>(base, `/api/stations/${stationId}/start`, {
            method: 'POST',
            headers: ADMIN,
            body: { programId: 'leg-circulation', client: `Kill ${i}`, pressureMmHg: 40, durationMin: 5 },
          });
          // Only a 2xx is a promise to the user; anything else may or may not be stored.
          if (res.status >= 200 && res.status < 300 && res.body.session !== undefined) {
            acknowledged.add(res.body.session.id);
          } else {
            // Refused (the station still venting from the last stop, or the link not up yet).
            await new Promise((r) => setTimeout(r, 50));
          }
          await call(base, `/api/stations/${stationId}/stop`, { method: 'POST', headers: ADMIN });
        } catch {
          // The process died under the request: nothing was acknowledged.
          if (stopped) return;
          await new Promise((r) => setTimeout(r, 20));
        } finally {
          inFlight--;
        }
      }
    };
    const workers = ['bay-1', 'bay-2'].map(worker);
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 2000));
    inFlightAtKill += inFlight;
    stopped = true;
    await both.web().kill('SIGKILL');
    await Promise.all(workers);

    // Written by rename of a fsync'd temp file: whatever the moment, the file is whole.
    assert.doesNotThrow(() => JSON.parse(readFileSync(file, 'utf8')), `round ${i}: presso.json parses`);
    await both.restart();
    const after = await call<{ sessions: SessionRecord[] }>(both.web().base, '/api/sessions?limit=5000', {
      headers: ADMIN,
    });
    const ids = new Set(after.body.sessions.map((s) => s.id));
    const missing = [...acknowledged].filter((id) => !ids.has(id));
    assert.deepEqual(missing, [], `round ${i}: acknowledged sessions missing after SIGKILL`);
    const health = await call<Health>(both.web().base, '/api/health');
    assert.deepEqual(health.body.unacknowledged, [], 'no recovery was needed');
  }
  t.diagnostic(
    `${iterations} kills, ${acknowledged.size} acknowledged sessions, ${inFlightAtKill} requests in flight at the kills`,
  );
  assert.ok(iterations >= 3, 'enough rounds ran');
  assert.ok(acknowledged.size >= iterations, 'sessions were acknowledged in most rounds');
  assert.ok(inFlightAtKill > 0, 'some kills hit requests in flight');
  await both.web().kill('SIGTERM');
});
