/**
 * Who is asking, and the audit of what they asked.
 *
 * - staff log in with a PIN, support/admin/viewer with a password: a random login id goes into an
 *   HttpOnly, SameSite=Strict cookie and expires after `loginTtlMin` (kept in memory: a restart of
 *   the web process logs everyone out, which is the safe direction);
 * - `Authorization: Bearer <PRESSO_ADMIN_TOKEN>` acts as admin (support tools, scripts);
 * - nobody logged in is 'anonymous': may read station state, use a station as a walk-up user
 *   within its limits, and stop anything (DESIGN.md: stop needs no login).
 *
 * Every request that changes something (any method but GET/HEAD/OPTIONS) is audited once it has
 * been answered, accepted or not: who, what, when, from which address. A read is audited when its
 * handler says so (`request.auditRead`): reads of health answers and client exports
 * (docs/privacy.md).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Role, UserRecord } from '../../store/types.js';
import { HttpError } from '../errors.js';
import { sameSecret, verifySecret } from '../secrets.js';
import { shared } from './shared.js';

export const LOGIN_COOKIE = 'presso_login';
const SWEEP_INTERVAL_MS = 60_000;

export interface Actor {
  /** User id, "token" or "anonymous". */
  who: string;
  role: Role | 'anonymous';
}

const ANONYMOUS: Actor = { who: 'anonymous', role: 'anonymous' };

interface Login {
  userId: string;
  role: UserRecord['role'];
  expiresAtEpochMs: number;
}

export class Auth {
  private readonly logins = new Map<string, Login>();

  constructor(
    private readonly adminToken: string | undefined,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** Checks a PIN or password; a wrong one and an unknown user get the same answer. */
  async login(user: UserRecord | undefined, secret: string): Promise<{ id: string; login: Login } | null> {
    // Hash even for an unknown user, so the answer time does not reveal which names exist.
    const ok = await verifySecret(secret, user?.secretHash ?? DUMMY_HASH);
    if (!ok || user === undefined || user.disabled) return null;
    const id = randomBytes(32).toString('base64url');
    const login: Login = { userId: user.id, role: user.role, expiresAtEpochMs: this.now() + this.ttlMs };
    this.logins.set(id, login);
    return { id, login };
  }

  /** The admin token as a login (the admin pages' first sign-in); null when it is wrong or unset. */
  tokenLogin(token: string): { id: string; login: Login } | null {
    if (this.adminToken === undefined || !sameSecret(token, this.adminToken)) return null;
    const id = randomBytes(32).toString('base64url');
    const login: Login = { userId: 'token', role: 'admin', expiresAtEpochMs: this.now() + this.ttlMs };
    this.logins.set(id, login);
    return { id, login };
  }

  logout(id: string | undefined): void {
    if (id !== undefined) this.logins.delete(id);
  }

  /** Ends every login of a user (disabled or deleted account). */
  forget(userId: string): void {
    for (const [id, l] of this.logins) if (l.userId === userId) this.logins.delete(id);
  }

  actorOf(request: FastifyRequest): Actor {
    const header = request.headers.authorization;
    if (this.adminToken !== undefined && typeof header === 'string' && header.startsWith('Bearer ')) {
      if (sameSecret(header.slice('Bearer '.length).trim(), this.adminToken))
        return { who: 'token', role: 'admin' };
    }
    const id = request.cookies[LOGIN_COOKIE];
    if (id === undefined) return ANONYMOUS;
    const login = this.logins.get(id);
    if (login === undefined) return ANONYMOUS;
    if (login.expiresAtEpochMs <= this.now()) {
      this.logins.delete(id);
      return ANONYMOUS;
    }
    return { who: login.userId, role: login.role };
  }

  sweep(): void {
    const now = this.now();
    for (const [id, l] of this.logins) if (l.expiresAtEpochMs <= now) this.logins.delete(id);
  }
}

/** A valid hash of a random secret: what an unknown user's attempt is checked against. */
const DUMMY_HASH = `scrypt$16384$8$1$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`;

declare module 'fastify' {
  interface FastifyInstance {
    auth: Auth;
  }
  interface FastifyRequest {
    actor: Actor;
    /** What the audit entry says beyond the route (an error's message, a session id). */
    auditDetail?: string;
    /** Set by a GET handler whose answer must be audited (screening answers, an export): what was read. */
    auditRead?: string;
  }
}

/** A preHandler that lets only the given roles through: 401 when not logged in, 403 otherwise. */
export function requireRole(...roles: Role[]): preHandlerAsyncHookHandler {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const { role } = request.actor;
    if (role === 'anonymous') {
      throw new HttpError(401, 'unauthorized', `log in first: this needs the ${roles.join(' or ')} role`);
    }
    if (!(roles as string[]).includes(role)) {
      throw new HttpError(403, 'forbidden', `the ${role} role may not do this (needs ${roles.join(' or ')})`);
    }
  };
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const authPlugin = shared<{ now: () => number }>('presso-auth', async (app, opts) => {
  const auth = new Auth(app.config.adminToken, app.config.loginTtlMin * 60_000, opts.now);
  app.decorate('auth', auth);
  app.decorateRequest('actor', null as unknown as Actor);
  app.decorateRequest('auditDetail', undefined);
  app.decorateRequest('auditRead', undefined);
  app.addHook('onRequest', async (request) => {
    request.actor = auth.actorOf(request);
  });
  app.addHook('onError', async (request, _reply, error) => {
    request.auditDetail ??= error.message.slice(0, 300);
  });
  app.addHook('onResponse', async (request, reply) => {
    const read = READ_METHODS.has(request.method);
    if ((read && request.auditRead === undefined) || !request.url.startsWith('/api/')) return;
    try {
      app.store.recordAudit({
        atEpochMs: opts.now(),
        who: request.actor?.who ?? 'anonymous',
        role: request.actor?.role ?? 'anonymous',
        what: `${request.method} ${request.url.split('?')[0] ?? request.url}`,
        from: request.ip,
        ok: reply.statusCode < 400,
        ...(read ? { detail: `read: ${request.auditRead}` } : {}),
        ...(!read && request.auditDetail !== undefined ? { detail: request.auditDetail } : {}),
      });
    } catch (e) {
      request.log.error(`audit entry lost: ${String(e)}`);
    }
  });
  const sweeper = setInterval(() => auth.sweep(), SWEEP_INTERVAL_MS);
  sweeper.unref();
  app.addHook('onClose', async () => clearInterval(sweeper));
});
