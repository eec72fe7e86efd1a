/**
 * The HTTPS settings (https.ts) and the gateway's name (config.ts): plain HTTP unless both files
 * are named, a clear error naming the setting otherwise, the CA found next to the certificate.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './config.js';
import { loadTlsSettings, readTlsFiles } from './https.js';

test('no TLS settings is plain HTTP; one file without the other is an error that names it', () => {
  assert.equal(loadTlsSettings({}), undefined);
  assert.throws(
    () => loadTlsSettings({ PRESSO_TLS_CERT: '/etc/presso-gateway/tls/server.crt' }),
    (e: unknown) =>
      e instanceof ConfigError &&
      /^PRESSO_TLS_KEY: HTTPS needs both PRESSO_TLS_CERT and PRESSO_TLS_KEY/.test(e.message),
  );
  assert.throws(
    () =>
      loadTlsSettings({ PRESSO_TLS_CERT: '/x.crt', PRESSO_TLS_KEY: '/x.key', PRESSO_HTTP_PORT: 'eighty' }),
    /PRESSO_HTTP_PORT: must be a whole number from 0 to 65535, got "eighty"/,
  );
});

test('the CA next to the certificate is found; an unreadable file names the setting and the path', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'presso-tls-settings-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ca.crt'), 'CA');
  writeFileSync(join(dir, 'server.crt'), 'CERT');
  const s = loadTlsSettings({
    PRESSO_TLS_CERT: join(dir, 'server.crt'),
    PRESSO_TLS_KEY: join(dir, 'server.key'),
    PRESSO_HTTP_PORT: '8080',
  });
  assert.deepEqual(s, {
    certFile: join(dir, 'server.crt'),
    keyFile: join(dir, 'server.key'),
    caFile: join(dir, 'ca.crt'),
    httpPort: 8080,
  });
  assert.ok(s);
  assert.throws(
    () => readTlsFiles(s),
    new RegExp(`^ConfigError: PRESSO_TLS_KEY: cannot read ${join(dir, 'server.key')}: ENOENT`),
  );
});

test('PRESSO_HOSTNAME is the gateway name in the settings; unset on a workstation', () => {
  assert.equal(loadConfig({ PRESSO_DATA_DIR: '/nonexistent-presso' }).hostname, undefined);
  assert.equal(
    loadConfig({ PRESSO_DATA_DIR: '/nonexistent-presso', PRESSO_HOSTNAME: 'presso.local' }).hostname,
    'presso.local',
  );
});
