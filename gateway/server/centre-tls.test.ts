/**
 * The whole web process on a TLS broker (issue 15, docs/centre.md "TLS"): PRESSO_MQTT_URL=mqtts://
 * with PRESSO_MQTT_CA, PRESSO_MQTT_CERT and PRESSO_MQTT_KEY from the environment, as an
 * installation sets them, against a real Mosquitto that requires client certificates. One gateway
 * has them all and gets on the broker; one has none, is refused, logs why, and goes on serving
 * its own board. (gateway/centre/tls.test.ts covers the link's cases one by one.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CentreStationsResponse } from '../centre/schemas.js';
import { retained, startBroker, type Broker } from '../centre/test-support/broker.js';
import { makePki } from '../centre/test-support/pki.js';
import { spawnWeb, type WebProcess } from './test-support/web-process.js';

const CENTRE = 'spa';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startWeb(
  t: TestContext,
  broker: Broker,
  id: string,
  tls: Record<string, string>,
): Promise<WebProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), `presso-${id}-`));
  // No controller: the centre link does not wait for one, and health answers without it.
  const web = await spawnWeb(dataDir, {
    PRESSO_MQTT_URL: broker.url,
    PRESSO_GATEWAY_ID: id,
    PRESSO_CENTRE_ID: CENTRE,
    PRESSO_MQTT_RECONNECT_MAX_MS: '1000',
    ...tls,
  });
  t.after(async () => {
    await web.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return web;
}

async function centre(web: WebProcess): Promise<CentreStationsResponse> {
  const res = await fetch(`${web.base}/api/centre/stations`);
  assert.equal(res.status, 200);
  return (await res.json()) as CentreStationsResponse;
}

test('a web process with PRESSO_MQTT_CA/CERT/KEY gets on a TLS broker that requires client certificates; one without is refused, logs why and keeps serving', async (t) => {
  const pki = makePki(t, 'gw-a');
  const broker = await startBroker({
    tls: { caFile: pki.ca, ...pki.server, requireCertificate: true, toolCert: pki.client },
  });
  t.after(async () => {
    await broker.kill();
    broker.remove();
  });

  const [a, b] = await Promise.all([
    startWeb(t, broker, 'gw-a', {
      PRESSO_MQTT_CA: pki.ca,
      PRESSO_MQTT_CERT: pki.client.certFile,
      PRESSO_MQTT_KEY: pki.client.keyFile,
    }),
    startWeb(t, broker, 'gw-b', {}),
  ]);

  for (const end = Date.now() + 10_000; (await centre(a)).broker !== 'connected'; await sleep(100)) {
    assert.ok(Date.now() < end, `gw-a never connected:\n${a.output()}`);
  }
  assert.match(a.output(), /centre: connected to mqtts:\/\/127\.0\.0\.1:\d+ as gw-a/);
  const status = retained(broker, `presso/${CENTRE}/gw-a/status`).get(`presso/${CENTRE}/gw-a/status`);
  assert.equal(
    (JSON.parse(status ?? '{}') as { online?: boolean }).online,
    true,
    `retained status: ${status}`,
  );

  const untrusted =
    /centre: broker \w+: the broker's TLS certificate is not trusted \(SELF_SIGNED_CERT_IN_CHAIN: [^)]*\); set PRESSO_MQTT_CA to the CA that signed it/g;
  for (const end = Date.now() + 10_000; (b.output().match(untrusted) ?? []).length < 2; await sleep(100)) {
    assert.ok(Date.now() < end, `gw-b did not log two refusals:\n${b.output()}`);
  }
  assert.equal(b.child.exitCode, null, 'gw-b is still running');
  assert.notEqual((await centre(b)).broker, 'connected');
  const health = await fetch(`${b.base}/api/health`);
  assert.equal(health.status, 200, 'gw-b still serves its own board');
  assert.equal(
    retained(broker, `presso/${CENTRE}/gw-b/status`).size,
    0,
    'nothing of gw-b reached the broker',
  );
});
