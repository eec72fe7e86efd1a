/**
 * The calls and shapes of the admin pages (`/admin`). The transport is `api()` from ../api.ts;
 * program, preview and report shapes come from the gateway's own modules (types only).
 */
import type { ProgramPreview } from '../../../gateway/control-loop/programs/preview.js';
import type { ProgramProblem } from '../../../gateway/control-loop/programs/cross-checks.js';
import type { ProgramMode } from '../../../gateway/control-loop/programs/schema.js';
import type { SessionAdjustment, SessionReport } from '../../../gateway/protocol.js';
import { api, type Actor, type ActorRole, type Program } from '../api.js';

export type { ProgramPreview, ProgramProblem, SessionAdjustment, SessionReport };

export type UserRole = Exclude<ActorRole, 'anonymous'>;

export interface UserView {
  id: string;
  name: string;
  role: UserRole;
  createdAtEpochMs: number;
  disabled: boolean;
}

export interface StationSettingsView {
  stationId: string;
  walkUpEnabled: boolean;
  walkUpPrograms: string[];
  walkUpMaxPressureMmHg: number;
  walkUpMaxDurationMin: number;
  ceilingMmHg?: number;
}

export interface Range {
  min: number;
  max: number;
}

export interface SettingRanges {
  ceilingMmHg: Range;
  walkUpMaxPressureMmHg: Range;
  walkUpMaxDurationMin: Range;
}

export interface ProgramRecord {
  program: Program;
  builtIn: boolean;
  createdAtEpochMs: number;
  createdBy: string;
}

export interface PreviewAnswer {
  problems: ProgramProblem[];
  preview: ProgramPreview | null;
  station?: { id: string; garment: string; ceilingMmHg: number };
}

export type SessionStatus = 'running' | 'completed' | 'stopped' | 'fault' | 'interrupted' | 'refused';
export const SESSION_STATUSES: SessionStatus[] = [
  'running',
  'completed',
  'stopped',
  'fault',
  'interrupted',
  'refused',
];

export interface SessionRow {
  id: string;
  stationId: string;
  programId: string;
  programVersion: number;
  client: string;
  startedBy: string;
  startedAtEpochMs: number;
  endedAtEpochMs?: number;
  pressureMmHg?: number;
  durationMin: number;
  status: SessionStatus;
  reason?: string;
  deliveredMs?: number;
  cyclesDone?: number;
  screening?: { answers: Record<string, boolean>; blocked: boolean };
  adjustments?: SessionAdjustment[];
  report?: SessionReport;
}

export const setupInfo = () => api<{ firstRun: boolean; adminToken: boolean }>('GET', '/api/auth/setup');
export const tokenLogin = (token: string) =>
  api<{ user: string; role: ActorRole }>('POST', '/api/auth/token', { token }).then((r): Actor => ({
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
