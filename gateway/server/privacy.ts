/**
 * Who sees what about people (docs/privacy.md): staff and admin read client records, names and
 * screening answers; viewers and support see sessions without names; anonymous users never see a
 * client. Lists never carry screening answers, so every read of them is a single-record read the
 * route can audit.
 */
import { ANONYMISED_CLIENT, neutralReason } from '../store/anonymise.js';
import type { ClientRecord, PrivacySettings, SessionRecord } from '../store/types.js';
import type { Actor } from './plugins/auth.js';

/** Remote support is a vendor over a VPN: it needs pressures and faults, not who was treated. */
export const CLIENT_READERS = ['staff', 'admin'] as const;
/** What a session shows instead of a name to roles that may not see names. */
export const HIDDEN_CLIENT = '(hidden)';
const DAY_MS = 24 * 60 * 60 * 1000;

export function canSeeClients(actor: Actor): boolean {
  return (CLIENT_READERS as readonly string[]).includes(actor.role);
}

/**
 * A session as `actor` may see it; `withScreening` keeps the answers (single reads by readers).
 * Roles that may not see names do not see a stop reason a person typed either: it may name them.
 */
export function sessionFor(actor: Actor, s: SessionRecord, withScreening = false): SessionRecord {
  const reader = canSeeClients(actor);
  const { screening, clientId, ...rest } = reader
    ? s
    : neutralReason(s.status, s, 'stopped (the reason given is shown to staff only)');
  const named = s.client !== 'walk-up' && s.client !== ANONYMISED_CLIENT;
  return {
    ...rest,
    client: reader || !named ? s.client : HIDDEN_CLIENT,
    ...(reader && clientId !== undefined ? { clientId } : {}),
    ...(reader && withScreening && screening !== undefined ? { screening } : {}),
  };
}

/** Why the client must answer the screening again before this start, or undefined when not. */
export function screeningDue(
  client: ClientRecord,
  settings: PrivacySettings,
  nowEpochMs: number,
): string | undefined {
  const s = client.screening;
  if (s === undefined) return 'the client has no screening on record';
  if (s.blocked) return 'the last screening found a contraindication';
  const ageDays = Math.floor((nowEpochMs - s.atEpochMs) / DAY_MS);
  if (ageDays > settings.screeningMaxAgeDays) {
    return `the last screening is ${ageDays} days old (asked again after ${settings.screeningMaxAgeDays})`;
  }
  return undefined;
}
