/**
 * The staff board as a centre board (issue 15), in Chromium: a real gateway (gw-a) on a real
 * Mosquitto, and another gateway (gw-x) played by an MQTT client that publishes what a gateway
 * publishes and answers a STOP as one does. The board groups the tiles by gateway, STOP on a
 * remote tile reaches gw-x, a remote start is a link to gw-x's own board, a gateway whose last
 * will came is greyed and labelled, and a broker that goes away shows as a stale centre view while
 * the local tiles stay live.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { statePayload } from '../../bench/lib/centre.js';
import type { StopPayload } from '../../gateway/centre/schemas.js';
import { startBroker } from '../../gateway/centre/test-support/broker.js';
import { browserMissing, SCREENSHOTS, startGateway } from './gateway.js';

const skip = browserMissing();
const CENTRE = 'e2e';
const X_URL = 'http://gw-x.example:8080';

test(
  'the staff board shows, stops and greys out another gateway’s stations',
  { skip: skip ?? false, timeout: 120_000 },
  async (t) => {
    const broker = await startBroker();
    t.after(async () => {
      await broker.kill();
      broker.remove();
    });
    const gw = await startGateway({
      env: { PRESSO_MQTT_URL: broker.url, PRESSO_GATEWAY_ID: 'gw-a', PRESSO_CENTRE_ID: CENTRE },
    });
    t.after(() => gw.close());

    // gw-x: one running station; it stops and vents it when asked, as a gateway does.
    const base = `presso/${CENTRE}/gw-x`;
    const x = mqtt.connect(broker.url, {
      clientId: 'e2e-gw-x',
      reconnectPeriod: 0,
      will: {
        topic: `${base}/status`,
        payload: Buffer.from('{"online":false,"gatewayId":"gw-x"}'),
        qos: 1,
        retain: true,
      },
    });
    t.after(() => x.end(true));
    await new Promise<void>((resolve) => x.once('connect', () => resolve()));
    const stops: StopPayload[] = [];
    x.on('message', (_topic, payload) => {
      const stop = JSON.parse(payload.toString()) as StopPayload;
      stops.push(stop);
      const s = statePayload('gw-x', 1, 10);
      x.publish(
        `${base}/stations/bay-1/state`,
        JSON.stringify({
          ...s,
          state: 'idle',
          phase: null,
          program: null,
          session: null,
          remainingS: null,
          zones: s.zones.map((z) => ({ ...z, pressureMmHg: 0, targetMmHg: 0 })),
          lastStop: { requestId: stop.requestId ?? '', by: stop.by, atEpochMs: Date.now() },
        }),
        { retain: true },
      );
    });
    await x.subscribeAsync(`${base}/stations/+/stop`);
    x.publish(`${base}/status`, JSON.stringify({ online: true, gatewayId: 'gw-x', url: X_URL }), {
      qos: 1,
      retain: true,
    });
    x.publish(`${base}/stations/bay-1/state`, JSON.stringify(statePayload('gw-x', 1, 10)), {
      qos: 1,
      retain: true,
    });

    const board = await gw.page('/');
    const remote = board.locator('section.gateway-group[data-gateway="gw-x"]');
    await remote.locator('.tile.live[data-state="running"]').waitFor({ timeout: 15_000 });
    assert.match(await remote.locator('h2').innerText(), /Gateway gw-x/);
    assert.match(await board.locator('h2.gateway-head').first().innerText(), /This gateway \(gw-a\)/);
    // The local tiles are there too, live, outside the remote group.
    await board.locator('.tile.live:not([data-gateway])').nth(3).waitFor({ timeout: 10_000 });
    await board.screenshot({ path: join(SCREENSHOTS, 'centre-board.png'), fullPage: true });

    // STOP on the remote tile goes to gw-x, which vents its station; the tile follows.
    await remote.getByRole('button', { name: 'Stop gw-x bay 1' }).click();
    await remote.locator('.tile[data-state="idle"]').waitFor({ timeout: 10_000 });
    assert.equal(stops.length, 1);
    assert.equal(stops[0]?.by, 'gw-a: anonymous');
    // Starting it is for its own staff, on its own board.
    assert.equal(await remote.getByRole('link', { name: 'Start on its board…' }).getAttribute('href'), X_URL);
    assert.equal(await remote.getByRole('button', { name: 'Start…' }).count(), 0);

    // STOP ALL reaches it too (and this gateway's own stations, which are idle).
    x.publish(`${base}/stations/bay-1/state`, JSON.stringify(statePayload('gw-x', 1, 11)), {
      qos: 1,
      retain: true,
    });
    await remote.locator('.tile[data-state="running"]').waitFor({ timeout: 10_000 });
    await board.getByRole('button', { name: 'STOP ALL' }).click();
    await remote.locator('.tile[data-state="idle"]').waitFor({ timeout: 10_000 });
    assert.equal(stops.length, 2);

    // gw-x crashes (its connection drops without a goodbye): the broker publishes its last will,
    // and its group is greyed and labelled offline.
    x.stream.destroy();
    await remote.getByTestId('gateway-offline').waitFor({ timeout: 10_000 });
    assert.match((await remote.getAttribute('class')) ?? '', /is-offline/);
    await remote.locator('.tile.stale').waitFor({ timeout: 5000 });

    // The broker goes away: the centre view says it is stale, the local stations stay live.
    await broker.kill();
    await board.getByTestId('centre-stale').waitFor({ timeout: 10_000 });
    assert.equal(await board.locator('.tile.live:not([data-gateway])').count(), 4);
    const restarted = await broker.restart();
    t.after(() => restarted.kill());
    await board.getByTestId('centre-stale').waitFor({ state: 'detached', timeout: 20_000 });
    assert.equal(await board.locator('.tile.live:not([data-gateway])').count(), 4);
  },
);
