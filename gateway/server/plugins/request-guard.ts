/**
 * Cross-site and DNS-rebinding defence, in one onRequest hook that runs before anything else.
 *
 * A page on another site, opened on a clinic tablet, can send a "simple" request to the gateway
 * (`fetch(url, {method: 'POST', mode: 'no-cors'})`, a form post): no cookie goes with it
 * (SameSite=Strict), but stop, pause and a walk-up start need no login. So every state-changing
 * request must:
 *
 * 1. carry `Content-Type: application/json` (a body-less command sends `{}`): a browser will not
 *    send that cross-site without a CORS preflight, which this server never grants;
 * 2. not come from another origin: an `Origin` header, when present, names this very host, and a
 *    `Sec-Fetch-Site` header, when present, says `same-origin` or `none` (typed into the bar).
 *    Tools that are not browsers (presso-ctl talks to the controller's socket; curl, scripts)
 *    send neither header and pass;
 *
 * and every request, reads included, must name an allowed `Host`: a rebinding attack points a
 * name the attacker owns at the gateway's address, and then the browser's own same-origin rule no
 * longer protects it; the Host header still carries the attacker's name, and is refused here.
 * Socket.IO is checked by the same rules in plugins/connection-guard.ts.
 */
import { networkInterfaces, hostname } from 'node:os';
import type { FastifyRequest } from 'fastify';
import { HttpError } from '../errors.js';
import { shared } from './shared.js';
import { isRead } from '../methods.js';

/** Interface addresses change (DHCP, a VPN coming up); looked up again after this long. */
const ADDRESSES_TTL_MS = 10_000;

/** The host name of a Host header or URL host ("[::1]:8080" → "::1"), lower case, no trailing dot. */
export function hostOf(hostHeader: string): string {
  let h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) h = h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  else if (h.split(':').length === 2) h = h.slice(0, h.indexOf(':'));
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

export class AllowedHosts {
  private addresses: Set<string> = new Set();
  private addressesAtMs = -Infinity;
  private readonly names: Set<string>;

  /** `extra`: the configured names and addresses (allowedHosts, PRESSO_ALLOWED_HOSTS). */
  constructor(
    extra: readonly string[],
    private readonly now: () => number = Date.now,
  ) {
    const host = hostname().toLowerCase();
    this.names = new Set(
      ['localhost', '127.0.0.1', '::1', host, `${host}.local`, ...extra].map((x) => hostOf(x)),
    );
  }

  has(hostHeader: string | undefined): boolean {
    if (hostHeader === undefined || hostHeader === '') return false;
    const h = hostOf(hostHeader);
    if (this.names.has(h)) return true;
    return this.interfaceAddresses().has(h);
  }

  /** Names and addresses answered to right now, for the error message and docs. */
  list(): string[] {
    return [...this.names, ...this.interfaceAddresses()];
  }

  private interfaceAddresses(): Set<string> {
    if (this.now() - this.addressesAtMs > ADDRESSES_TTL_MS) {
      const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
      // An IPv6 link-local address may come with its zone ("fe80::1%eth0"); browsers send it without.
      this.addresses = new Set(all.map((a) => a.address.toLowerCase().replace(/%.*$/, '')));
      this.addressesAtMs = this.now();
    }
    return this.addresses;
  }
}

/** Why a browser request comes from another site, or undefined when it does not. */
export function crossSiteReason(headers: FastifyRequest['headers']): string | undefined {
  const origin = headers.origin;
  if (typeof origin === 'string') {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (originHost === undefined || originHost !== (headers.host ?? '').toLowerCase()) {
      return `the request comes from another origin (Origin: ${origin.slice(0, 100)})`;
    }
  }
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') {
    return `the request comes from another site (Sec-Fetch-Site: ${site.slice(0, 20)})`;
  }
  return undefined;
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json';
}

declare module 'fastify' {
  interface FastifyInstance {
    allowedHosts: AllowedHosts;
  }
}

export const requestGuardPlugin = shared('presso-request-guard', async (app) => {
  // The gateway's own name (PRESSO_HOSTNAME, set by the installer) is always answered to.
  const { hostname: own, allowedHosts } = app.config;
  const allowed = new AllowedHosts(own !== undefined ? [own, ...allowedHosts] : allowedHosts);
  app.decorate('allowedHosts', allowed);
  app.addHook('onRequest', async (request) => {
    if (!allowed.has(request.headers.host)) {
      throw new HttpError(
        421,
        'host-not-allowed',
        `this gateway does not answer to the name "${String(request.headers.host ?? '').slice(0, 100)}"; ` +
          'open it by its own name or address (an admin adds names with allowedHosts / PRESSO_ALLOWED_HOSTS)',
      );
    }
    if (isRead(request.method)) return;
    const cross = crossSiteReason(request.headers);
    if (cross !== undefined) {
      throw new HttpError(
        403,
        'cross-site',
        `${cross}: commands are only taken from this gateway's own pages`,
      );
    }
    if (!isJson(request.headers['content-type'])) {
      throw new HttpError(
        415,
        'unsupported-media-type',
        'a command must be sent as JSON (Content-Type: application/json; send {} when there is nothing to add)',
      );
    }
  });
});
