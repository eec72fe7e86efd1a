import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, DEFAULT_CENTRE_ID, loadConfig } from '../server/config.js';

test('no PRESSO_MQTT_URL, no centre; the settings file and the environment configure it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'presso-centre-settings-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(loadConfig({ PRESSO_DATA_DIR: dir }).centre, undefined);

  const fromEnv = loadConfig({ PRESSO_DATA_DIR: dir, PRESSO_MQTT_URL: 'mqtt://broker.local:1883' }).centre;
  assert.equal(fromEnv?.centreId, DEFAULT_CENTRE_ID);
  assert.match(fromEnv?.gatewayId ?? '', /^[A-Za-z0-9_.-]{1,64}$/, 'the host name, made a topic level');

  writeFileSync(
    join(dir, 'server.json'),
    JSON.stringify({
      centre: {
        url: 'mqtts://broker:8883',
        username: 'gw-a',
        gatewayId: 'gw-a',
        centreId: 'spa',
        keepaliveS: 5,
      },
    }),
  );
  const fromFile = loadConfig({ PRESSO_DATA_DIR: dir, PRESSO_CENTRE_ID: 'chain' }).centre;
  assert.equal(fromFile?.url, 'mqtts://broker:8883');
  assert.equal(fromFile?.gatewayId, 'gw-a');
  assert.equal(fromFile?.centreId, 'chain', 'the environment wins over the file');
  assert.equal(fromFile?.keepaliveS, 5);

  const refused = (env: Record<string, string>, field: RegExp) =>
    assert.throws(
      () => loadConfig({ PRESSO_DATA_DIR: dir, ...env }),
      (e: unknown) => e instanceof ConfigError && field.test(e.message),
    );
  refused({ PRESSO_MQTT_URL: 'http://broker' }, /^PRESSO_MQTT_URL: must be mqtt:\/\//);
  refused({ PRESSO_GATEWAY_ID: 'room 1/#' }, /^PRESSO_GATEWAY_ID: "room 1\/#" must be/);
  refused({ PRESSO_MQTT_CA: join(dir, 'missing.pem') }, /^PRESSO_MQTT_CA: no file/);
  writeFileSync(join(dir, 'server.json'), JSON.stringify({ centre: { url: 'mqtt://b', retries: 3 } }));
  refused({}, /centre\.retries/);
});
