/**
 * The audit of what was asked: every request that changes something (any method but
 * GET/HEAD/OPTIONS) under /api/ is recorded once it has been answered, accepted or not: who, what,
 * when, from which address. A read is recorded when its handler says so (`request.auditRead`):
 * reads of health answers and client exports (docs/privacy.md).
 *
 * Anyone on the LAN can send requests, and the store is one file rewritten on each change, so what
 * an anonymous request can write is bounded (docs/security.md has the sizes):
 *
 * - `what` is the route's pattern with its parameters filled in only when they look like ids
 *   ("POST /api/stations/bay-1/stop"), never the raw URL; every stored string is cut to a cap;
 * - a request that matches no route is not recorded by itself: it is counted;
 * - anonymous entries come from a budget (per address a minute, and a bucket for all addresses
 *   together), one for commands and one for failed logins and wrong tokens; what is over it is
 *   counted too;
 * - the counts go into one summary entry a minute at most, so a flood of any size adds at most
 *   one entry a minute beyond the budget.
 *
 * Logged-in users' commands are always recorded one by one.
 */
import type { FastifyRequest } from 'fastify';
import type { AuditEntry, Store } from '../../store/types.js';
import { shared } from './shared.js';
import { isRead } from '../methods.js';

/** Longest stored text per field; an entry is then at most ~700 bytes of JSON. */
export const AUDIT_MAX_CHARS = { who: 64, what: 160, from: 64, detail: 300 } as const;
/**
 * The most one entry can take in the store file: its capped strings (at most 3 bytes a character
 * in UTF-8, 6 as a JSON escape is not needed for text) plus keys, role, booleans and the time.
 */
export const AUDIT_ENTRY_MAX_BYTES =
  3 * (AUDIT_MAX_CHARS.who + AUDIT_MAX_CHARS.what + AUDIT_MAX_CHARS.from + AUDIT_MAX_CHARS.detail) + 120;
/** Anonymous entries one address may add a minute (a walk-up user makes a handful a session). */
export const ANONYMOUS_AUDIT_PER_ADDRESS_PER_MIN = 20;
/** Anonymous entries all addresses together may add, per kind: a burst, refilled at a rate an hour. */
export const ANONYMOUS_AUDIT_BURST = 100;
export const ANONYMOUS_AUDIT_PER_HOUR = 300;
/** At most one summary entry (what was counted, not recorded) per this long. */
export const AUDIT_SUMMARY_EVERY_MS = 60_000;
/**
 * The most audit entries anonymous requests can add in `minutes`, whatever they are: both
 * budgets spent (burst and refill) plus one summary a minute and one at close. Times
 * AUDIT_ENTRY_MAX_BYTES, the most the store file can grow by (docs/security.md).
 */
export function anonymousAuditBound(minutes: number): number {
  const perKind = ANONYMOUS_AUDIT_BURST + Math.ceil((ANONYMOUS_AUDIT_PER_HOUR * minutes) / 60);
  return 2 * perKind + minutes + 1;
}
/** Addresses tracked per minute: beyond this, a new address counts as over its budget. */
const MAX_TRACKED_ADDRESSES = 10_000;
/** A parameter that looks like an id is kept in `what`; anything else shows as its name. */
const SAFE_PARAM = /^[A-Za-z0-9._~-]{1,64}$/;

export function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** "POST /api/stations/:id/stop" with its id filled in when the id looks like one. */
export function routeWhat(request: FastifyRequest): string | undefined {
  const pattern = request.routeOptions.url;
  if (pattern === undefined) return undefined;
  const params = (request.params ?? {}) as Record<string, unknown>;
  const path = pattern.replace(/:([A-Za-z0-9_]+)/g, (whole, name: string) => {
    const v = params[name];
    return typeof v === 'string' && SAFE_PARAM.test(v) ? v : whole;
  });
  return `${request.method} ${path}`;
}

/**
 * What anonymous requests of one kind may add: per address a minute, and a bucket for all
 * addresses together (a burst, refilled at a rate an hour). What is over it is counted.
 */
class AnonymousBudget {
  private windowStartMs = 0;
  private readonly perAddress = new Map<string, number>();
  private tokens = ANONYMOUS_AUDIT_BURST;
  private tokensAtMs: number;
  overBudget = 0;
  readonly overBudgetFrom = new Map<string, number>();

  constructor(private readonly now: () => number) {
    this.tokensAtMs = now();
  }

  take(from: string): boolean {
    if (this.fits(from)) return true;
    this.overBudget++;
    if (this.overBudgetFrom.size < 1000 || this.overBudgetFrom.has(from)) {
      this.overBudgetFrom.set(from, (this.overBudgetFrom.get(from) ?? 0) + 1);
    }
    return false;
  }

  /** "12 … from 3 address(es), most from 10.0.0.7 (9)", or undefined when nothing was over. */
  describe(what: string): string | undefined {
    if (this.overBudget === 0) return undefined;
    const top = this.topAddress();
    return (
      `${this.overBudget} ${what} over the audit budget from ${this.overBudgetFrom.size} address(es)` +
      (top !== undefined ? `, most from ${top[0]} (${top[1]})` : '')
    );
  }

  topAddress(): [string, number] | undefined {
    return [...this.overBudgetFrom.entries()].sort((a, b) => b[1] - a[1])[0];
  }

  reset(): void {
    this.overBudget = 0;
    this.overBudgetFrom.clear();
  }

  private fits(from: string): boolean {
    const now = this.now();
    if (now - this.windowStartMs >= 60_000 || now < this.windowStartMs) {
      this.windowStartMs = now;
      this.perAddress.clear();
    }
    const used = this.perAddress.get(from);
    if (used === undefined && this.perAddress.size >= MAX_TRACKED_ADDRESSES) return false;
    if ((used ?? 0) >= ANONYMOUS_AUDIT_PER_ADDRESS_PER_MIN) return false;
    this.tokens = Math.min(
      ANONYMOUS_AUDIT_BURST,
      // A clock set back refills nothing (and takes nothing away).
      this.tokens + (Math.max(0, now - this.tokensAtMs) * ANONYMOUS_AUDIT_PER_HOUR) / 3_600_000,
    );
    this.tokensAtMs = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    this.perAddress.set(from, (used ?? 0) + 1);
    return true;
  }
}

/**
 * Anonymous entries of two kinds, each with its own budget: a flood of commands does not hide
 * the guessing that may follow it, nor the other way round.
 */
export type AuditKind = 'command' | 'failed-auth';

export class AuditLog {
  private readonly budgets: Record<AuditKind, AnonymousBudget>;
  private unmatched = 0;
  private lastSummaryMs = -Infinity;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {
    this.budgets = { command: new AnonymousBudget(now), 'failed-auth': new AnonymousBudget(now) };
  }

  /** Records an entry (capped); an anonymous one only within its budget. Returns whether it was. */
  record(entry: AuditEntry, kind: AuditKind = 'command'): boolean {
    const written = entry.role !== 'anonymous' || this.budgets[kind].take(entry.from);
    if (written) this.store.recordAudit(capped(entry));
    this.summarizeIfDue();
    return written;
  }

  /** A request that matched no route. */
  countUnmatched(): void {
    this.unmatched++;
    this.summarizeIfDue();
  }

  /** Writes the summary of what was counted since the last one, if anything was and one is due. */
  summarizeIfDue(force = false): void {
    const now = this.now();
    const { command, 'failed-auth': failedAuth } = this.budgets;
    if (command.overBudget === 0 && failedAuth.overBudget === 0 && this.unmatched === 0) return;
    if (!force && now - this.lastSummaryMs < AUDIT_SUMMARY_EVERY_MS) return;
    const parts = [
      command.describe('anonymous commands'),
      failedAuth.describe('failed logins and wrong tokens'),
      this.unmatched > 0 ? `${this.unmatched} requests to no route` : undefined,
    ].filter((p): p is string => p !== undefined);
    const top = failedAuth.topAddress() ?? command.topAddress();
    this.store.recordAudit(
      capped({
        atEpochMs: now,
        who: 'anonymous',
        role: 'anonymous',
        what: 'requests counted, not recorded one by one',
        from: top?.[0] ?? '-',
        ok: false,
        detail: parts.join('; '),
      }),
    );
    this.lastSummaryMs = now;
    command.reset();
    failedAuth.reset();
    this.unmatched = 0;
  }
}

function capped(e: AuditEntry): AuditEntry {
  return {
    atEpochMs: e.atEpochMs,
    who: cut(e.who, AUDIT_MAX_CHARS.who),
    role: e.role,
    what: cut(e.what, AUDIT_MAX_CHARS.what),
    from: cut(e.from, AUDIT_MAX_CHARS.from),
    ok: e.ok,
    ...(e.detail !== undefined ? { detail: cut(e.detail, AUDIT_MAX_CHARS.detail) } : {}),
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    auditLog: AuditLog;
  }
  interface FastifyRequest {
    /** What the audit entry says beyond the route (an error's message, a session id). */
    auditDetail?: string;
    /** Which anonymous budget the entry draws on (a failed login, a wrong token: 'failed-auth'). */
    auditKind?: AuditKind;
    /** Set by a GET handler whose answer must be audited (screening answers, an export): what was read. */
    auditRead?: string;
  }
}

export const auditPlugin = shared<{ now: () => number }>('presso-audit', async (app, opts) => {
  const audit = new AuditLog(app.store, opts.now);
  app.decorate('auditLog', audit);
  app.decorateRequest('auditDetail', undefined);
  app.decorateRequest('auditKind', undefined);
  app.decorateRequest('auditRead', undefined);
  app.addHook('onError', async (request, _reply, error) => {
    request.auditDetail ??= error.message;
  });
  app.addHook('onResponse', async (request, reply) => {
    try {
      const what = routeWhat(request);
      if (what === undefined) {
        audit.countUnmatched();
        return;
      }
      const read = isRead(request.method);
      if ((read && request.auditRead === undefined) || !request.routeOptions.url?.startsWith('/api/')) return;
      audit.record(
        {
          atEpochMs: opts.now(),
          who: request.actor?.who ?? 'anonymous',
          role: request.actor?.role ?? 'anonymous',
          what,
          from: request.ip,
          ok: reply.statusCode < 400,
          ...(read ? { detail: `read: ${request.auditRead}` } : {}),
          ...(!read && request.auditDetail !== undefined ? { detail: request.auditDetail } : {}),
        },
        request.auditKind,
      );
    } catch (e) {
      request.log.error(`audit entry lost: ${String(e)}`);
    }
  });
  const timer = setInterval(() => audit.summarizeIfDue(), AUDIT_SUMMARY_EVERY_MS);
  timer.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    try {
      audit.summarizeIfDue(true);
    } catch {
      // The store may already be closing; the counts are only counts.
    }
  });
});
