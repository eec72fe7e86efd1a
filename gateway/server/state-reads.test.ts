/**
 * REST reads of station state come from the frames the web process already receives (plugins/
 * controller-link.ts state()), not from one controller request per poll; a read after a command
 * still shows what the command did.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startHarness } from './test-support/harness.js';

test('polls are served from the frame stream; a read after a command asks the controller and shows it', async (t) => {
  const h = await startHarness(t);
  let asked = 0;
  const request = h.client.request.bind(h.client);
  h.client.request = ((cmd, args, timeoutMs) => {
    if (cmd === 'state') asked++;
    return request(cmd, args, timeoutMs);
  }) as typeof h.client.request;
  const get = async (path: string) => {
    const res = await fetch(`${h.base}${path}`, { headers: { cookie: h.cookies.staff } });
    assert.equal(res.status, 200, path);
    return (await res.json()) as { state: string; session: { id: string } | null };
  };

  await get('/api/stations');
  // Let the stream overtake that answer's samples (20 frames a second).
  await new Promise((r) => setTimeout(r, 300));
  const before = asked;
  for (let i = 0; i < 20; i++) {
    await get('/api/stations');
    await get('/api/stations/bay-2');
  }
  assert.ok(asked - before <= 1, `40 polls asked the controller ${asked - before} times`);

  const started = await fetch(`${h.base}/api/stations/bay-1/start`, {
    method: 'POST',
    headers: { cookie: h.cookies.staff, 'content-type': 'application/json' },
    body: JSON.stringify({ programId: 'leg-circulation', client: 'Ann Example' }),
  });
  assert.equal(started.status, 201, await started.clone().text());
  const { session } = (await started.json()) as { session: { id: string } };
  const afterStart = asked;
  const view = await get('/api/stations/bay-1');
  assert.equal(asked, afterStart + 1, 'the first read after a command asks the controller');
  assert.equal(view.state, 'running');
  assert.equal(view.session?.id, session.id);

  const stopped = await fetch(`${h.base}/api/stations/bay-1/stop`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(stopped.status, 200);
  const afterStop = await get('/api/stations/bay-1');
  assert.notEqual(afterStop.state, 'running', 'a read right after STOP never shows the session running');
  assert.equal(afterStop.session, null);
});
