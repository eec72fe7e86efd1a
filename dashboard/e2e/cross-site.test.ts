/**
 * Cross-site commands in real Chromium (issue 17): a page from another origin (a second loopback
 * address, 127.0.0.2, standing for any website a staff tablet opens) tries every way a browser
 * lets it send a command without the gateway's consent: body-less `no-cors` fetches, a text/plain
 * "JSON" body, a JSON fetch that needs a CORS preflight, a form post. None of them stops, pauses
 * or starts anything; the board's own STOP, on the gateway's page, still stops at once.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { browserMissing, readyBoard, startGateway, waitShown } from './gateway.js';

const skip = browserMissing();

interface AuditEntry {
  atEpochMs: number;
  who: string;
  what: string;
  ok: boolean;
  detail?: string;
}

/** What the other site's page does, against `gateway` (its base URL). */
function attackPage(gateway: string): string {
  return `<!doctype html><title>free coupons</title>
<iframe name="sink" style="display:none"></iframe>
<form id="f" method="POST" action="${gateway}/api/stop" enctype="text/plain" target="sink">
  <input name='{"x":"' value='"}'>
</form>
<script>
const gw = ${JSON.stringify(gateway)};
const tries = [
  fetch(gw + '/api/stop', { method: 'POST', mode: 'no-cors' }),
  fetch(gw + '/api/stations/bay-1/pause', { method: 'POST', mode: 'no-cors' }),
  fetch(gw + '/api/stations/bay-1/stop', { method: 'POST', mode: 'no-cors', body: '{}', headers: { 'content-type': 'text/plain' } }),
  fetch(gw + '/api/stations/lounge-1/start', {
    method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({ programId: 'leg-relaxation', screening: { dvt: false } }),
  }),
  fetch(gw + '/api/stations/bay-1/pause', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
];
document.getElementById('f').submit();
Promise.allSettled(tries).then((r) => {
  window.outcome = r.map((x) => x.status);
  // The form's post has had time to go out once the fetches settled; give it a moment more.
  setTimeout(() => { window.done = true; }, 1500);
});
</script>`;
}

test(
  'a page on another site cannot stop, pause or start anything; the board’s own STOP works',
  { skip: skip ?? false },
  async (t) => {
    const gw = await startGateway();
    t.after(() => gw.close());
    const other: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(attackPage(gw.base));
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.2', resolve));
    t.after(() => new Promise<void>((resolve) => other.close(() => resolve())));
    const otherBase = `http://127.0.0.2:${(other.address() as AddressInfo).port}`;

    await gw.admin('PUT', '/api/stations/lounge-1/settings', {
      walkUpEnabled: true,
      walkUpPrograms: ['leg-relaxation'],
      walkUpMaxPressureMmHg: 35,
      walkUpMaxDurationMin: 15,
    });
    await readyBoard(gw);
    const started = await gw.admin<{ session: { id: string } }>('POST', '/api/stations/bay-1/start', {
      programId: 'leg-circulation',
      client: 'Cross Site',
      pressureMmHg: 30,
      durationMin: 10,
    });
    const since = Date.now();

    // A staff tablet opens the other site's page.
    const context = await gw.browser.newContext();
    t.after(() => context.close());
    const page = await context.newPage();
    await page.goto(`${otherBase}/`);
    await page.waitForFunction(() => (window as unknown as { done?: boolean }).done === true, undefined, {
      timeout: 20_000,
    });

    // The gateway refused every one of them: no anonymous command succeeded since.
    const { audit: entries } = await gw.admin<{ audit: AuditEntry[] }>('GET', '/api/audit?limit=200');
    const attempts = entries.filter((a) => a.atEpochMs >= since && a.who === 'anonymous');
    assert.ok(attempts.length >= 5, `the attempts reached the gateway and were audited: ${attempts.length}`);
    assert.deepEqual(
      attempts.filter((a) => a.ok),
      [],
      'no command from the other site was accepted',
    );
    const session = await gw.admin<{ status: string; reason?: string }>(
      'GET',
      `/api/sessions/${started.session.id}`,
    );
    // A loop-stall on this loaded machine may vent the board ('fault'); never a stop or pause by them.
    assert.notEqual(session.status, 'stopped', `session ended: ${session.reason ?? ''}`);
    const bay1 = await gw.admin<{ state: string }>('GET', '/api/stations/bay-1');
    assert.notEqual(bay1.state, 'paused', 'not paused by the other site');
    const lounge = await gw.admin<{ state: string; session: unknown }>('GET', '/api/stations/lounge-1');
    assert.equal(lounge.session, null, 'nothing started by the other site');

    // The gateway's own board, in the same browser, stops the station with one tap.
    if (bay1.state === 'running') {
      const board = await gw.page('/');
      const tile = board.locator('.tile[data-station="bay-1"]');
      await waitShown(gw, tile.getByRole('button', { name: 'Stop Bay 1' }));
      await tile.getByRole('button', { name: 'Stop Bay 1' }).click();
      await board
        .locator('.tile[data-station="bay-1"]:is([data-state="venting"], [data-state="idle"])')
        .waitFor({ timeout: 10_000 });
      const ended = await gw.admin<{ status: string; reason?: string }>(
        'GET',
        `/api/sessions/${started.session.id}`,
      );
      assert.equal(ended.status, 'stopped');
      assert.match(ended.reason ?? '', /anonymous/, 'stopped from the board, without a login');
    } else {
      t.diagnostic(`bay-1 was ${bay1.state} (a loop-stall vented it); the board STOP step needs a run`);
      assert.fail('bay-1 was vented by a loop-stall before the board STOP step; rerun');
    }
  },
);
