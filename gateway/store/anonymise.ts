/**
 * What "anonymised" means for each kind of record, as pure functions the store applies to the live
 * file, backups, the session journal, archive files and report files alike (docs/privacy.md).
 *
 * A session keeps what statistics need (station, program, times, set and delivered pressures,
 * how it ended) and loses what names or describes the person: the client's name and record id, the
 * screening answers, and a stop reason a person typed (it may say who and why).
 */
import type { SessionReport } from '../protocol.js';
import type { StoreFile } from './store-file.js';
import type { ClientRecord, SessionRecord } from './types.js';

/** What an anonymised session shows instead of the client's name. */
export const ANONYMISED_CLIENT = '(anonymised)';
/** A walk-up session names no one; it stays "walk-up" so statistics can tell the two apart. */
const WALK_UP_CLIENT = 'walk-up';
const REASON_REMOVED = 'stopped (the reason given was removed when the session was anonymised)';

/** Which records a scrub pass anonymises. */
export interface Scrub {
  atEpochMs: number;
  /** Erased clients: their record goes, their sessions are anonymised. */
  erasedClientIds?: ReadonlySet<string>;
  /** Sessions of erased clients by id (reports do not carry the client id). */
  erasedSessionIds?: ReadonlySet<string>;
  /** Retention: sessions that started before this, and client screenings given before it. */
  beforeEpochMs?: number;
}

/** Why `s` must be anonymised by `scrub`, or undefined when it stays as it is. */
export function scrubReason(s: SessionRecord, scrub: Scrub): 'erasure' | 'retention' | undefined {
  if (
    (s.clientId !== undefined && scrub.erasedClientIds?.has(s.clientId) === true) ||
    scrub.erasedSessionIds?.has(s.id) === true
  ) {
    if (s.anonymised?.why === 'erasure') return undefined;
    return 'erasure';
  }
  if (
    scrub.beforeEpochMs !== undefined &&
    s.startedAtEpochMs < scrub.beforeEpochMs &&
    // Even one still marked running (in a backup, or the web process was down when it ended): the
    // retention period is at least a day, and no session runs longer than an hour.
    s.anonymised === undefined
  )
    return 'retention';
  return undefined;
}

/**
 * A stop's reason may hold words a person typed ("Ann felt dizzy (sam)"). Every other end's reason
 * is the controller's or the gateway's own text.
 */
export function neutralReason<T extends { reason?: string }>(status: string, x: T, text = REASON_REMOVED): T {
  return status === 'stopped' && x.reason !== undefined ? { ...x, reason: text } : x;
}

export function anonymiseSession(
  s: SessionRecord,
  why: 'erasure' | 'retention',
  atEpochMs: number,
): SessionRecord {
  const { clientId, screening, ...rest } = s;
  void clientId;
  void screening;
  const out: SessionRecord = {
    ...neutralReason(s.status, rest),
    client: s.client === WALK_UP_CLIENT ? WALK_UP_CLIENT : ANONYMISED_CLIENT,
    anonymised: { atEpochMs, why },
  };
  if (out.report !== undefined) out.report = anonymiseReport(out.report);
  return out;
}

export function anonymiseReport(r: SessionReport): SessionReport {
  return neutralReason(r.end, r);
}

/** Whether a report belongs to a session `scrub` anonymises (reports carry no client id). */
export function reportNeedsScrub(r: SessionReport, scrub: Scrub): boolean {
  if (scrub.erasedSessionIds?.has(r.sessionId) === true) return true;
  return scrub.beforeEpochMs !== undefined && r.startedAtEpochMs < scrub.beforeEpochMs;
}

/** Applies `scrub` to sessions; returns the new list and how many changed. */
export function scrubSessions(
  list: SessionRecord[],
  scrub: Scrub,
): { list: SessionRecord[]; changed: number } {
  let changed = 0;
  const out = list.map((s) => {
    const why = scrubReason(s, scrub);
    if (why === undefined) return s;
    changed++;
    return anonymiseSession(s, why, scrub.atEpochMs);
  });
  return { list: out, changed };
}

/** Erased clients go; screenings given before the retention cutoff are removed from the others. */
export function scrubClients(list: ClientRecord[], scrub: Scrub): { list: ClientRecord[]; changed: number } {
  let changed = 0;
  const out: ClientRecord[] = [];
  for (const c of list) {
    if (scrub.erasedClientIds?.has(c.id) === true) {
      changed++;
      continue;
    }
    if (
      scrub.beforeEpochMs !== undefined &&
      c.screening !== undefined &&
      c.screening.atEpochMs < scrub.beforeEpochMs
    ) {
      const { screening, ...rest } = c;
      void screening;
      out.push(rest);
      changed++;
      continue;
    }
    out.push(c);
  }
  return { list: out, changed };
}

/** A whole store file (the live data or a backup), scrubbed; `changed` counts records touched. */
export function scrubStoreFile(data: StoreFile, scrub: Scrub): { data: StoreFile; changed: number } {
  const sessions = scrubSessions(data.sessions, scrub);
  const clients = scrubClients(data.clients, scrub);
  return {
    data: { ...data, sessions: sessions.list, clients: clients.list },
    changed: sessions.changed + clients.changed,
  };
}
