/**
 * Certificates for the TLS tests of the centre (issue 15), made in a temporary directory removed
 * after the test: the CA and the broker's certificate (localhost, 127.0.0.1) by
 * scripts/make-tls.sh, as for the gateway's HTTPS, and a gateway's client certificate signed by the
 * same CA with openssl.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { PACKAGE_ROOT } from '../../paths.js';

export interface Pki {
  dir: string;
  ca: string;
  server: { certFile: string; keyFile: string };
  client: { certFile: string; keyFile: string };
}

/** A throwaway CA, the broker's certificate and a client certificate for `clientName`. */
export function makePki(t: TestContext, clientName: string): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'presso-mqtt-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('bash', [join(PACKAGE_ROOT, 'scripts/make-tls.sh'), dir, 'broker'], { stdio: 'ignore' });
  // make-tls.sh's certificate is a server's (serverAuth); a client's needs clientAuth.
  const key = join(dir, 'client.key');
  const csr = join(dir, 'client.csr');
  const ext = join(dir, 'client.ext');
  writeFileSync(
    ext,
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
  );
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl(
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    `/CN=${clientName}`,
    '-keyout',
    key,
    '-out',
    csr,
  );
  const crt = join(dir, 'client.crt');
  openssl(
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(dir, 'ca.crt'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    crt,
  );
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    server: { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') },
    client: { certFile: crt, keyFile: key },
  };
}
