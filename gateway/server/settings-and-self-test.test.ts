/**
 * The settings file, and self-tests through the API against a real controller process
 * (simulated board).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from '../paths.js';
import type { SelfTestResult } from '../protocol.js';
import { ConfigError, DEFAULT_HOST, DEFAULT_LOGIN_TTL_MIN, DEFAULT_PORT, loadConfig } from './config.js';
import { ADMIN_TOKEN, readyBoard, startHarness } from './test-support/harness.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'presso-settings-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('settings: defaults, then server.json in the data dir, then the environment', (t) => {
  const dir = tempDir(t);
  const defaults = loadConfig({ PRESSO_DATA_DIR: dir });
  assert.equal(defaults.port, DEFAULT_PORT);
  assert.equal(defaults.host, DEFAULT_HOST);
  assert.equal(defaults.loginTtlMin, DEFAULT_LOGIN_TTL_MIN);
  assert.equal(defaults.dataDir, resolve(dir));
  assert.equal(defaults.controllerSocket, join(resolve(dir), 'controller.sock'));

  writeFileSync(join(dir, 'server.json'), JSON.stringify({ port: 9191, host: '0.0.0.0', loginTtlMin: 30 }));
  const fromFile = loadConfig({ PRESSO_DATA_DIR: dir });
  assert.deepEqual(
    { port: fromFile.port, host: fromFile.host, loginTtlMin: fromFile.loginTtlMin },
    { port: 9191, host: '0.0.0.0', loginTtlMin: 30 },
  );
  const env = loadConfig({ PRESSO_DATA_DIR: dir, PORT: '7070', HOST: '127.0.0.2' });
  assert.equal(env.port, 7070, 'PORT wins over the file');
  assert.equal(env.host, '127.0.0.2', 'HOST wins over the file');
  assert.equal(env.loginTtlMin, 30, 'what the environment does not set comes from the file');

  // An explicit file elsewhere.
  const other = join(dir, 'other.json');
  writeFileSync(other, JSON.stringify({ port: 0, loginAttemptsPerMin: 9 }));
  const explicit = loadConfig({ PRESSO_DATA_DIR: dir, PRESSO_SERVER_CONFIG: other });
  assert.equal(explicit.port, 0);
  assert.equal(explicit.loginAttemptsPerMin, 9);
});

test('settings: an unknown key or a bad value is a ConfigError naming the key', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'server.json');
  const cases: { content: string; key: string; env?: NodeJS.ProcessEnv }[] = [
    { content: JSON.stringify({ prot: 8080 }), key: 'prot' },
    { content: JSON.stringify({ port: 'eighty' }), key: 'port' },
    { content: JSON.stringify({ port: 70000 }), key: 'port' },
    { content: JSON.stringify({ loginTtlMin: 0 }), key: 'loginTtlMin' },
    { content: JSON.stringify({ loginTtlMin: 2.5 }), key: 'loginTtlMin' },
    { content: JSON.stringify({ host: '' }), key: 'host' },
    { content: JSON.stringify({ adminToken: 'short' }), key: 'adminToken' },
    { content: '{"port": 80,', key: 'server.json' },
    { content: '{}', key: 'PORT', env: { PORT: 'http' } },
    { content: '{}', key: 'PRESSO_ADMIN_TOKEN', env: { PRESSO_ADMIN_TOKEN: 'too-short' } },
  ];
  for (const c of cases) {
    writeFileSync(file, c.content);
    let caught: unknown;
    try {
      loadConfig({ PRESSO_DATA_DIR: dir, ...c.env });
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof ConfigError, `${c.content}: expected a ConfigError, got ${String(caught)}`);
    assert.ok(caught.field.endsWith(c.key), `${c.content}: field "${caught.field}" names ${c.key}`);
    assert.ok(caught.message.includes(c.key), `${c.content}: message "${caught.message}"`);
  }
  // A file that was named explicitly must exist.
  assert.throws(
    () => loadConfig({ PRESSO_DATA_DIR: dir, PRESSO_SERVER_CONFIG: join(dir, 'missing.json') }),
    (e: unknown) => e instanceof ConfigError && e.message.includes('missing.json'),
  );
});

/** Runs the web process with `env` and resolves with its exit code and stderr (killed after 20 s). */
function runServerProcess(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/server/main.ts'], {
      cwd: PACKAGE_ROOT,
      env: { ...process.env, PORT: '', HOST: '', PRESSO_SERVER_CONFIG: '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stderr });
    });
  });
}

test('settings: the web process with a bad server.json exits non-zero naming the key', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'server.json'), JSON.stringify({ port: 0, loginTTLMin: 30 }));
  const { code, stderr } = await runServerProcess({ PRESSO_DATA_DIR: dir });
  assert.notEqual(code, 0);
  assert.equal(code, 2);
  assert.match(stderr, /settings error: .*loginTTLMin: unknown key/);
});

test('self-test through the API: sensor-zero by support is run, returned, stored; others are refused', async (t) => {
  const h = await startHarness(t);
  await readyBoard(h.client);

  const anonymous = await h.app.inject({
    method: 'POST',
    url: '/api/stations/bay-1/self-test',
    payload: { kind: 'sensor-zero' },
  });
  assert.equal(anonymous.statusCode, 401, anonymous.body);
  for (const role of ['viewer', 'staff'] as const) {
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/stations/bay-1/self-test',
      headers: { cookie: h.cookies[role] },
      payload: { kind: 'sensor-zero' },
    });
    assert.equal(res.statusCode, 403, `${role}: ${res.body}`);
  }
  const unknownKind = await h.app.inject({
    method: 'POST',
    url: '/api/stations/bay-1/self-test',
    headers: { cookie: h.cookies.support },
    payload: { kind: 'pressure-party' },
  });
  assert.equal(unknownKind.statusCode, 400, unknownKind.body);
  const err = unknownKind.json<{ error: string; message: string; field?: string }>();
  assert.ok(
    err.field === 'kind' || err.message.includes('kind'),
    `the error names the field: ${unknownKind.body}`,
  );
  const extraKey = await h.app.inject({
    method: 'POST',
    url: '/api/stations/bay-1/self-test',
    headers: { cookie: h.cookies.support },
    payload: { kind: 'sensor-zero', zones: [1] },
  });
  assert.equal(extraKey.statusCode, 400, extraKey.body);
  assert.equal(h.store.selfTests('bay-1').length, 0, 'nothing refused was run or stored');

  const t0 = performance.now();
  const res = await fetch(`${h.base}/api/stations/bay-1/self-test`, {
    method: 'POST',
    headers: { cookie: h.cookies.support, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'sensor-zero' }),
    signal: AbortSignal.timeout(20_000),
  });
  const ms = performance.now() - t0;
  assert.equal(res.status, 200);
  const result = (await res.json()) as SelfTestResult;
  assert.ok(ms >= 3000 && ms < 15_000, `sensor-zero took ${Math.round(ms)} ms`);
  assert.equal(result.stationId, 'bay-1');
  assert.equal(result.kind, 'sensor-zero');
  assert.equal(result.ok, true, result.details.join('; '));
  const frame = (await h.client.request('state', { stationId: 'bay-1' }))[0];
  assert.ok(frame);
  assert.equal(result.values.length, frame.zones.length, 'one value per zone');
  assert.equal(result.details.length, frame.zones.length);
  assert.ok(
    result.values.every((v) => Number.isFinite(v) && Math.abs(v) <= 10),
    `${result.values.join(', ')}`,
  );

  const maint = await h.app.inject({ url: '/api/maintenance', headers: { cookie: h.cookies.viewer } });
  assert.equal(maint.statusCode, 200, maint.body);
  const { selfTests } = maint.json<{ selfTests: SelfTestResult[] }>();
  assert.deepEqual(
    selfTests.filter((s) => s.stationId === 'bay-1'),
    [result],
  );
  assert.deepEqual(h.store.zeroOffsets('bay-1'), result.values, 'the zero offsets are stored');
  assert.equal(h.store.zeroOffsets('bay-2'), undefined);

  // The admin token may run one too.
  const byToken = await h.app.inject({
    method: 'POST',
    url: '/api/stations/bay-2/self-test',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: { kind: 'sensor-zero' },
  });
  assert.equal(byToken.statusCode, 200, byToken.body);
  assert.equal(byToken.json<SelfTestResult>().stationId, 'bay-2');
  assert.equal(h.store.selfTests().length, 2);
  assert.ok(h.store.zeroOffsets('bay-2'));
});

test('a ceiling staff set is the effective ceiling of a start: shown, and a program above it refused before anything is stored', async (t) => {
  const h = await startHarness(t);
  await readyBoard(h.client);
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const settings = {
    walkUpEnabled: true,
    walkUpPrograms: ['leg-relaxation', 'leg-body-contouring'],
    walkUpMaxPressureMmHg: 40,
    walkUpMaxDurationMin: 20,
    ceilingMmHg: 50,
  };
  const put = await h.app.inject({
    method: 'PUT',
    url: '/api/stations/lounge-1/settings',
    headers: auth,
    payload: settings,
  });
  assert.equal(put.statusCode, 200, put.body);

  const view = (await h.app.inject({ method: 'GET', url: '/api/stations/lounge-1' })).json<{
    startCeiling: unknown;
    walkUp: { ceiling: unknown };
  }>();
  assert.deepEqual(view.startCeiling, { ceilingMmHg: 50, highestTargetMmHg: 45, source: 'station' });
  assert.deepEqual(view.walkUp.ceiling, { ceilingMmHg: 45, highestTargetMmHg: 40, source: 'walk-up' });

  const refused = await h.app.inject({
    method: 'POST',
    url: '/api/stations/lounge-1/start',
    headers: auth,
    payload: { programId: 'leg-body-contouring' },
  });
  assert.equal(refused.statusCode, 409, refused.body);
  assert.match(
    refused.json<{ message: string }>().message,
    /needs 60 mmHg in its highest zone, above the 45 mmHg that the ceiling staff set for this station \(50 mmHg\) allows/,
  );
  assert.equal((await h.store.sessions()).length, 0, 'nothing stored');

  // Within it, the controller takes it and the session carries the effective ceiling.
  const ok = await h.app.inject({
    method: 'POST',
    url: '/api/stations/lounge-1/start',
    headers: auth,
    payload: { programId: 'leg-body-contouring', pressureMmHg: 45 },
  });
  assert.equal(ok.statusCode, 201, ok.body);
  const [frame] = await h.client.request('state', { stationId: 'lounge-1' });
  assert.equal(frame?.session?.ceilingMmHg, 50);
  await h.client.request('stop', { stationId: 'lounge-1' });
});
