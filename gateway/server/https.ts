/**
 * HTTPS for the LAN. Staff PINs and the admin token must not cross the clinic Wi-Fi in clear
 * text, so an installed gateway serves HTTPS with a certificate from its own small certificate
 * authority (scripts/make-tls.sh; a tablet trusts the authority once, docs/deploy.md), and its
 * plain-HTTP port only redirects there and hands out that authority's certificate.
 *
 * Settings (environment, written by scripts/install-pi.sh into gateway.env):
 *   PRESSO_TLS_CERT, PRESSO_TLS_KEY   PEM files: both set = HTTPS on PORT; neither = plain HTTP
 *   PRESSO_TLS_CA                     the authority's certificate, offered at /ca.crt on the
 *                                     plain port (default: ca.crt next to PRESSO_TLS_CERT)
 *   PRESSO_HTTP_PORT                  the plain port that redirects (unset: none)
 *
 * Without them nothing changes: plain HTTP, which the simulator and the tests use on loopback.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { ConfigError } from './config.js';

export interface TlsSettings {
  certFile: string;
  keyFile: string;
  caFile?: string;
  /** Plain-HTTP port that redirects to HTTPS; undefined = no such listener. */
  httpPort?: number;
}

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

export function loadTlsSettings(env: NodeJS.ProcessEnv = process.env): TlsSettings | undefined {
  const certFile = env.PRESSO_TLS_CERT || undefined;
  const keyFile = env.PRESSO_TLS_KEY || undefined;
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    const missing = certFile === undefined ? 'PRESSO_TLS_CERT' : 'PRESSO_TLS_KEY';
    throw new ConfigError(
      missing,
      'HTTPS needs both PRESSO_TLS_CERT and PRESSO_TLS_KEY (or neither, for plain HTTP)',
    );
  }
  const settings: TlsSettings = { certFile, keyFile };
  const ca = env.PRESSO_TLS_CA || join(dirname(certFile), 'ca.crt');
  if (existsSync(ca)) settings.caFile = ca;
  const raw = env.PRESSO_HTTP_PORT;
  if (raw !== undefined && raw !== '') {
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ConfigError('PRESSO_HTTP_PORT', `must be a whole number from 0 to 65535, got "${raw}"`);
    }
    settings.httpPort = port;
  }
  return settings;
}

export function readTlsFiles(s: TlsSettings): TlsFiles {
  const read = (field: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new ConfigError(field, `cannot read ${file}: ${(e as Error).message}`);
    }
  };
  return { cert: read('PRESSO_TLS_CERT', s.certFile), key: read('PRESSO_TLS_KEY', s.keyFile) };
}

/** A host name or address as a browser sends it in Host, without the port; anything else is refused. */
const HOST_RE =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;

/**
 * The plain-HTTP listener: GET /ca.crt hands out the authority's certificate (a tablet needs it
 * before it can trust HTTPS; compare its fingerprint with the one the installer printed), every
 * other request is redirected with 308 (method and body kept) to the same path over HTTPS on
 * the name the browser used, or on `fallbackHost` when that name is not a plain host name.
 */
export async function startHttpRedirect(opts: {
  host: string;
  port: number;
  httpsPort: number;
  fallbackHost: string;
  caFile?: string;
}): Promise<Server> {
  const ca = opts.caFile !== undefined ? readFileSync(opts.caFile) : undefined;
  const server = createServer((req, res) => {
    const path = req.url?.startsWith('/') ? req.url : '/';
    if (ca !== undefined && req.method === 'GET' && path === '/ca.crt') {
      res.writeHead(200, {
        'content-type': 'application/x-x509-ca-cert',
        'content-disposition': 'attachment; filename="presso-gateway-ca.crt"',
      });
      res.end(ca);
      return;
    }
    const sent = (req.headers.host ?? '').replace(/:\d+$/, '');
    const name = HOST_RE.test(sent) ? sent : opts.fallbackHost;
    const port = opts.httpsPort === 443 ? '' : `:${opts.httpsPort}`;
    res.writeHead(308, { location: `https://${name}${port}${path}`, 'content-type': 'text/plain' });
    res.end('This gateway answers over HTTPS.\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
