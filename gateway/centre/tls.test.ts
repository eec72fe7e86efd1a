/**
 * The centre link over TLS (issue 15, docs/centre.md "TLS"): a real Mosquitto with a TLS listener
 * on a free loopback port, with certificates made for the test in a temporary directory: the CA
 * and the broker's certificate (localhost, 127.0.0.1) by scripts/make-tls.sh, as for the gateway's
 * HTTPS, and a gateway's client certificate signed by the same CA with openssl.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { CentreLink, type BrokerState, type CentreSettings } from './link.js';
import { StatusPayloadSchema } from './schemas.js';
import { retained, startBroker, type Broker, type BrokerTls } from './test-support/broker.js';
import { makePki } from './test-support/pki.js';
import { Compile } from 'typebox/compile';

const CENTRE = 'spa';
const Status = Compile(StatusPayloadSchema);

async function tlsBroker(t: TestContext, tls: BrokerTls): Promise<Broker> {
  const broker = await startBroker({ tls });
  t.after(async () => {
    await broker.kill();
    broker.remove();
  });
  return broker;
}

interface Watched {
  link: CentreLink;
  states: BrokerState[];
  /** Every error detail the link reported (what the web process logs). */
  details: string[];
}

function startLink(t: TestContext, broker: Broker, gatewayId: string, tls: Partial<CentreSettings>): Watched {
  const states: BrokerState[] = [];
  const details: string[] = [];
  const link = new CentreLink(
    { url: broker.url, gatewayId, centreId: CENTRE, keepaliveS: 5, reconnectMaxMs: 1000, ...tls },
    {
      onMessage: () => {},
      onBrokerState: (state, detail) => {
        states.push(state);
        if (detail !== undefined) details.push(detail);
      },
    },
    () => undefined,
  );
  const w: Watched = { link, states, details };
  w.link.start();
  // stop() bounds its waits with unref'd timers, fine in a web process that has its server to
  // keep it alive; a test has nothing else once the broker is gone, so it keeps its own bound.
  t.after(() => Promise.race([w.link.stop(), sleep(2000)]));
  return w;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ms: number, probe: () => boolean): Promise<void> {
  for (const end = Date.now() + ms; !probe(); await sleep(50)) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
  }
}

function retainedStatus(broker: Broker, gatewayId: string): unknown {
  const raw = retained(broker, `presso/${CENTRE}/${gatewayId}/status`).get(
    `presso/${CENTRE}/${gatewayId}/status`,
  );
  return raw === undefined ? undefined : JSON.parse(raw);
}

test("over mqtts:// a link with the broker's CA connects and publishes its status; without it or with another CA the broker is not trusted, said so, and retried", async (t) => {
  const pki = makePki(t, 'gw-a');
  const broker = await tlsBroker(t, { caFile: pki.ca, ...pki.server });
  assert.match(broker.url, /^mqtts:\/\/127\.0\.0\.1:\d+$/);

  const trusted = startLink(t, broker, 'gw-a', { caFile: pki.ca });
  const untrusted = startLink(t, broker, 'gw-b', {});
  // A CA of its own, not the one that signed the broker's certificate.
  const otherCa = makePki(t, 'gw-c').ca;
  const wrongCa = startLink(t, broker, 'gw-c', { caFile: otherCa });
  await until('the link with the CA connected', 10_000, () => trusted.link.connected());
  const status = retainedStatus(broker, 'gw-a');
  assert.ok(Status.Check(status), `retained status: ${JSON.stringify(status)}`);
  assert.equal((status as { online: boolean }).online, true);

  // Two refusals: the link goes on trying by its own back-off, nothing threw.
  await until('the link without the CA was refused twice', 10_000, () => untrusted.details.length >= 2);
  for (const d of untrusted.details) {
    assert.match(
      d,
      /^the broker's TLS certificate is not trusted \(SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain\); set PRESSO_MQTT_CA to the CA that signed it$/,
    );
  }
  assert.equal(untrusted.link.connected(), false);
  assert.ok(!untrusted.states.includes('connected'), `states: ${untrusted.states.join(', ')}`);
  assert.equal(retainedStatus(broker, 'gw-b'), undefined, 'nothing of gw-b reached the broker');
  await until('the link with another CA was refused', 10_000, () => wrongCa.details.length >= 1);
  const [refused] = wrongCa.details;
  assert.ok(
    refused?.startsWith("the broker's TLS certificate is not trusted (SELF_SIGNED_CERT_IN_CHAIN: ") ===
      true && refused.endsWith(`; it is not signed by the CA in ${otherCa} (PRESSO_MQTT_CA)`),
    refused,
  );
  assert.ok(!wrongCa.states.includes('connected'), `states: ${wrongCa.states.join(', ')}`);
  assert.ok(trusted.link.connected(), 'the trusted link is unaffected');
});

test('a broker that requires client certificates accepts the link with its certificate and key, and refuses it without', async (t) => {
  const pki = makePki(t, 'gw-a');
  const broker = await tlsBroker(t, {
    caFile: pki.ca,
    ...pki.server,
    requireCertificate: true,
    toolCert: pki.client,
  });

  const withCert = startLink(t, broker, 'gw-a', { caFile: pki.ca, ...pki.client });
  const without = startLink(t, broker, 'gw-b', { caFile: pki.ca });
  await until('the link with a client certificate connected', 10_000, () => withCert.link.connected());
  const status = retainedStatus(broker, 'gw-a');
  assert.equal((status as { online?: boolean } | undefined)?.online, true, JSON.stringify(status));

  await until(
    'the link without a client certificate was refused twice',
    10_000,
    () => without.details.length >= 2,
  );
  for (const d of without.details) {
    assert.match(
      d,
      /^the broker refused the TLS connection \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\): it requires a client certificate \(PRESSO_MQTT_CERT and PRESSO_MQTT_KEY\) and none was given$/,
    );
  }
  assert.equal(without.link.connected(), false);
  assert.ok(!without.states.includes('connected'), `states: ${without.states.join(', ')}`);
  assert.equal(retainedStatus(broker, 'gw-b'), undefined, 'nothing of gw-b reached the broker');
});
