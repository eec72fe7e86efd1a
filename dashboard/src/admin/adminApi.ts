/**
 * The calls and shapes of the admin pages (`/admin`). The transport is `api()` from ../api.ts;
 * every answer's shape comes from the gateway's own modules (types only: no TypeBox in the bundle).
 */
import type { ProgramPreview } from '../../../gateway/control-loop/programs/preview.js';
import type { ProgramProblem } from '../../../gateway/control-loop/programs/cross-checks.js';
import type { ProgramMode } from '../../../gateway/control-loop/programs/schema.js';
import type { SessionAdjustment, SessionReport } from '../../../gateway/protocol.js';
import type { LoginAnswer, SessionRecord, SetupInfo } from '../../../gateway/server/responses.js';
import { api, type Actor, type ActorRole } from '../api.js';

export type { ProgramPreview, ProgramProblem, SessionAdjustment, SessionReport };

export type UserRole = Exclude<ActorRole, 'anonymous'>;

/** The REST answers (gateway/server/responses.ts), by the names the admin pages use. */
export type {
  ChannelStatus,
  ChannelView,
  ClientDetail,
  NotificationSettingsView,
  PreviewAnswer,
  PrivacySettings,
  ProgramRecord,
  Range,
  SessionRecord as SessionRow,
  SettingRanges,
  StationSettings as StationSettingsView,
  UserView,
} from '../../../gateway/server/responses.js';

export type SessionStatus = SessionRecord['status'];
export const SESSION_STATUSES: SessionStatus[] = [
  'running',
  'completed',
  'stopped',
  'fault',
  'interrupted',
  'refused',
];

export const setupInfo = () => api<SetupInfo>('GET', '/api/auth/setup');
export const tokenLogin = (token: string) =>
  api<LoginAnswer>('POST', '/api/auth/token', { token }).then((r): Actor => ({
    who: r.user,
    role: r.role,
  }));

/** Query string of the set values only. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** A date input's value (local day) as the ISO instant of that day's start or end. */
export function dayBound(day: string, end: boolean): string | undefined {
  if (!day) return undefined;
  const d = new Date(`${day}T${end ? '23:59:59.999' : '00:00:00'}`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The roles that may use each admin page (what the API allows; read-only where it does not). */
export const PAGE_ROLES = {
  users: ['admin'],
  stations: ['viewer', 'staff', 'support', 'admin'],
  programs: ['viewer', 'staff', 'support', 'admin'],
  history: ['viewer', 'staff', 'support', 'admin'],
  audit: ['support', 'admin'],
  clients: ['staff', 'admin'],
  privacy: ['admin'],
  notifications: ['admin'],
} as const satisfies Record<string, readonly UserRole[]>;
export type AdminPage = keyof typeof PAGE_ROLES;

export const canEditStations = (r: ActorRole) => r === 'staff' || r === 'admin';
export const canEditPrograms = (r: ActorRole) => r === 'staff' || r === 'support' || r === 'admin';

/** schema.ts's PROGRAM_MODES, without pulling the schema (and TypeBox) into the bundle. */
export const MODES = [
  'sequential',
  'gradient',
  'wave',
  'pulse',
  'lymphatic',
] as const satisfies readonly ProgramMode[];
