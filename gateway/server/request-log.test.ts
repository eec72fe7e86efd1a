/**
 * What the web process writes to the journal per request (app.ts RequestLog): one line for a
 * command, a refusal or an error, nothing for an ordinary read; the support page's ring still has
 * every request.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN_TOKEN, startHarness } from './test-support/harness.js';

test('reads are not logged, commands and refusals are, each in one line; every answer has the security headers', async (t) => {
  const lines: { msg?: string; req?: { method?: string; url?: string }; res?: { statusCode?: number } }[] =
    [];
  const h = await startHarness(t, { logStream: { write: (l: string) => void lines.push(JSON.parse(l)) } });
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const requests = () => lines.filter((l) => l.msg === 'request completed' || l.msg === 'incoming request');
  lines.length = 0;

  for (let i = 0; i < 5; i++) {
    assert.equal((await fetch(`${h.base}/api/stations`, { headers: auth })).status, 200);
  }
  assert.deepEqual(requests(), [], 'an ordinary read writes no line');

  const stop = await fetch(`${h.base}/api/stations/bay-1/stop`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(stop.status, 200);
  const missing = await fetch(`${h.base}/api/stations/no-such-bay`, { headers: auth });
  assert.equal(missing.status, 404);

  const logged = requests().map((l) => `${l.req?.method} ${l.req?.url} ${l.res?.statusCode}`);
  assert.deepEqual(logged, ['POST /api/stations/bay-1/stop 200', 'GET /api/stations/no-such-bay 404']);

  // Helmet's headers on every answer (app.ts builds them once).
  const headers = (await fetch(`${h.base}/api/health`)).headers;
  assert.match(headers.get('content-security-policy') ?? '', /script-src 'self'/);
  assert.doesNotMatch(headers.get('content-security-policy') ?? '', /upgrade-insecure-requests/);
  assert.equal(headers.get('x-content-type-options'), 'nosniff');
  assert.equal(headers.get('x-frame-options'), 'SAMEORIGIN');
  assert.match(headers.get('strict-transport-security') ?? '', /max-age=/);

  const ring = h.app.recentLog.all().join('\n');
  assert.match(ring, /GET \/api\/stations 200/, 'the support ring still has the reads');
});
