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
 * Guessing is bounded twice: per address (the login route's rate limit, routes/auth.ts) and per
 * user: LOCKOUT_AFTER_FAILURES wrong secrets in a row lock the user for LOCKOUT_FIRST_MS, doubling
 * with each further lock up to LOCKOUT_MAX_MS, until a right secret after the lock or an admin's
 * unlock (docs/security.md turns this into guessing times). A wrong bearer token is audited, and
 * an address that sends too many is answered 429 (STOP excepted) for the rest of the minute.
 * Failures and locks live in memory: a restart of the web process clears them (and logs everyone
 * out).
 *
 * The audit of what was asked (and of reads that must be audited) is plugins/audit.ts.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { routeWhat } from './audit.js';
import type { Role, UserRecord } from '../../store/types.js';
import { HttpError } from '../errors.js';
import { sameSecret, verifySecret } from '../secrets.js';
import { shared } from './shared.js';
import { isRead } from '../methods.js';

export const LOGIN_COOKIE = 'presso_login';
const SWEEP_INTERVAL_MS = 60_000;
/** Wrong secrets in a row before a user is locked, and how long the locks last. */
export const LOCKOUT_AFTER_FAILURES = 10;
export const LOCKOUT_FIRST_MS = 15 * 60_000;
export const LOCKOUT_MAX_MS = 4 * 60 * 60_000;
/** Wrong bearer tokens one address may send a minute before its token requests are refused. */
export const BEARER_FAILURES_PER_MIN = 10;
/** Addresses tracked for wrong tokens per minute; beyond, a new address is refused at once. */
const MAX_TRACKED_ADDRESSES = 10_000;
/** STOP is never refused, whatever the caller did before (DESIGN.md). */
const STOP_ROUTES = new Set(['/api/stop', '/api/stations/:id/stop']);

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

export interface LockState {
  /** Wrong secrets since the last right one (or the last unlock). */
  failedLogins: number;
  /** Set while the user is locked. */
  lockedUntilEpochMs?: number;
}

export type LoginOutcome =
  { ok: true; id: string; login: Login } | { ok: false; lockedUntilEpochMs?: number };

export class Auth {
  private readonly logins = new Map<string, Login>();
  private readonly failures = new Map<string, { count: number; lockedUntilMs: number }>();
  private bearerWindowStartMs = 0;
  private readonly bearerFailures = new Map<string, number>();

  constructor(
    private readonly adminToken: string | undefined,
    private readonly ttlMs: number,
    readonly now: () => number,
  ) {}

  /**
   * Checks a PIN or password; a wrong one and an unknown user get the same answer. A locked user
   * is refused without checking (the right secret too: that is what a lock is).
   */
  async login(user: UserRecord | undefined, secret: string): Promise<LoginOutcome> {
    if (user !== undefined) {
      const lockedUntilEpochMs = this.lockState(user.id).lockedUntilEpochMs;
      if (lockedUntilEpochMs !== undefined) return { ok: false, lockedUntilEpochMs };
    }
    // Hash even for an unknown user, so the answer time does not reveal which names exist.
    const ok = await verifySecret(secret, user?.secretHash ?? DUMMY_HASH);
    if (user === undefined) return { ok: false };
    if (!ok) {
      const f = this.failures.get(user.id) ?? { count: 0, lockedUntilMs: 0 };
      f.count++;
      if (f.count % LOCKOUT_AFTER_FAILURES === 0) {
        const locks = f.count / LOCKOUT_AFTER_FAILURES;
        f.lockedUntilMs = this.now() + Math.min(LOCKOUT_MAX_MS, LOCKOUT_FIRST_MS * 2 ** (locks - 1));
      }
      this.failures.set(user.id, f);
      return f.lockedUntilMs > this.now()
        ? { ok: false, lockedUntilEpochMs: f.lockedUntilMs }
        : { ok: false };
    }
    if (user.disabled) return { ok: false };
    this.failures.delete(user.id);
    const id = randomBytes(32).toString('base64url');
    const login: Login = { userId: user.id, role: user.role, expiresAtEpochMs: this.now() + this.ttlMs };
    this.logins.set(id, login);
    return { ok: true, id, login };
  }

  lockState(userId: string): LockState {
    const f = this.failures.get(userId);
    if (f === undefined) return { failedLogins: 0 };
    return {
      failedLogins: f.count,
      ...(f.lockedUntilMs > this.now() ? { lockedUntilEpochMs: f.lockedUntilMs } : {}),
    };
  }

  /** An admin's unlock: the count starts again from zero. */
  unlock(userId: string): void {
    this.failures.delete(userId);
  }

  /** Counts a wrong bearer token from `from`. */
  bearerFailed(from: string): void {
    this.rollBearerWindow();
    const n = this.bearerFailures.get(from);
    if (n === undefined && this.bearerFailures.size >= MAX_TRACKED_ADDRESSES) return;
    this.bearerFailures.set(from, (n ?? 0) + 1);
  }

  bearerBlocked(from: string): boolean {
    this.rollBearerWindow();
    const n = this.bearerFailures.get(from);
    if (n === undefined) return this.bearerFailures.size >= MAX_TRACKED_ADDRESSES;
    return n >= BEARER_FAILURES_PER_MIN;
  }

  private rollBearerWindow(): void {
    if (this.now() - this.bearerWindowStartMs < 60_000) return;
    this.bearerWindowStartMs = this.now();
    this.bearerFailures.clear();
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
    this.failures.delete(userId);
    for (const [id, l] of this.logins) if (l.userId === userId) this.logins.delete(id);
  }

  /** The bearer token a request presents, if any. */
  static bearerOf(request: FastifyRequest): string | undefined {
    const header = request.headers.authorization;
    return typeof header === 'string' && header.startsWith('Bearer ')
      ? header.slice('Bearer '.length).trim()
      : undefined;
  }

  isAdminToken(token: string): boolean {
    return this.adminToken !== undefined && sameSecret(token, this.adminToken);
  }

  /** Who the login cookie names (anonymous when none, or expired). */
  actorOf(request: FastifyRequest): Actor {
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

export const authPlugin = shared<{ now: () => number }>('presso-auth', async (app, opts) => {
  const auth = new Auth(app.config.adminToken, app.config.loginTtlMin * 60_000, opts.now);
  app.decorate('auth', auth);
  app.decorateRequest('actor', null as unknown as Actor);
  app.addHook('onRequest', async (request) => {
    const token = Auth.bearerOf(request);
    if (token !== undefined) {
      const isStop = STOP_ROUTES.has(request.routeOptions.url ?? '');
      if (auth.bearerBlocked(request.ip) && !isStop) {
        throw new HttpError(
          429,
          'rate-limited',
          `too many wrong tokens from ${request.ip}: token requests are refused for the rest of the minute`,
        );
      }
      if (auth.isAdminToken(token)) {
        request.actor = { who: 'token', role: 'admin' };
        return;
      }
      auth.bearerFailed(request.ip);
      // A wrong token is nobody; it is audited (within the anonymous budget) whatever the method:
      // a command by its own entry once answered, a read here.
      if (!isRead(request.method)) {
        request.auditDetail = 'wrong bearer token';
        request.auditKind = 'failed-auth';
      } else {
        app.auditLog.record(
          {
            atEpochMs: opts.now(),
            who: 'anonymous',
            role: 'anonymous',
            what: routeWhat(request) ?? `${request.method} (no route)`,
            from: request.ip,
            ok: false,
            detail: 'wrong bearer token',
          },
          'failed-auth',
        );
      }
    }
    request.actor = auth.actorOf(request);
  });
  const sweeper = setInterval(() => auth.sweep(), SWEEP_INTERVAL_MS);
  sweeper.unref();
  app.addHook('onClose', async () => clearInterval(sweeper));
});
