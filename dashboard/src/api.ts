/**
 * REST calls to the web process (same origin; the login is an HttpOnly cookie). Every shape that
 * crosses the wire is defined once, as a schema that is also its type, in gateway/ (the protocol in
 * gateway/ipc/schemas.ts, the REST answers beside their routes); imported here type-only, so no
 * schema library enters the bundle. The few shapes only the web process makes are declared here.
 */
import type { Program } from '../../gateway/control-loop/programs/schema.js';
import type { CeilingSource } from '../../gateway/limits.js';
import type { LiveFrame, LiveZone } from '../../gateway/ipc/views.js';
import type { CentreGateway, CentreStatus } from '../../gateway/centre/schemas.js';
import type {
  AlarmInfo,
  AlarmMessage,
  ControllerInfo,
  MaintenanceCounters,
  SelfTestResult,
  SessionMessage,
  SubscribeMessage,
} from '../../gateway/protocol.js';

export type {
  AlarmInfo,
  AlarmMessage,
  CentreGateway,
  CentreStatus,
  ControllerInfo,
  LiveFrame,
  LiveZone,
  MaintenanceCounters,
  Program,
  SelfTestResult,
  SessionMessage,
  SubscribeMessage,
};

/** The server's error shape (gateway/server/errors.ts). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The input at fault as the server names it (`body.secret`), for showing the error beside it. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export async function api<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  // Every request that changes something goes as JSON, an empty one as {}: the server may insist
  // on the JSON content type for those (it is what a cross-site form cannot send).
  const changes = method !== 'GET';
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: changes ? { 'content-type': 'application/json' } : {},
    ...(changes ? { body: JSON.stringify(body ?? {}) } : {}),
  });
  const text = await res.text();
  let data: unknown;
  try {
    data = text.length > 0 ? JSON.parse(text) : null;
  } catch {
    data = { message: text };
  }
  if (!res.ok) {
    const e = (data ?? {}) as { error?: string; message?: string; field?: string };
    throw new ApiError(res.status, e.error ?? 'error', e.message ?? res.statusText, e.field);
  }
  return data as T;
}

export type ActorRole = 'anonymous' | 'viewer' | 'staff' | 'support' | 'admin';
export interface Actor {
  who: string;
  role: ActorRole;
}

/** GET /api/stations: the parts of the REST view the live frames do not carry. */
/** An effective ceiling as the web process reports it (gateway/limits.ts effectiveCeiling). */
export interface CeilingView {
  ceilingMmHg: number;
  /** The highest zone target under it (limits.ts highestTargetMmHg). */
  highestTargetMmHg: number;
  source: CeilingSource;
}

export interface StationView {
  id: string;
  name: string;
  /** What a staff start on this station gets now. */
  startCeiling: CeilingView;
  sessionCeilingMmHg: number | null;
  walkUp: {
    programs: string[];
    maxPressureMmHg: number;
    maxDurationMin: number;
    ceiling: CeilingView;
  } | null;
}

export interface ProgramRecordView {
  program: Program;
  builtIn: boolean;
}

/** GET /api/clients: one row (gateway/server/routes/clients.ts), never the screening answers. */
export interface ClientSummary {
  id: string;
  name: string;
  ceilingMmHg?: number;
  preferredProgramId?: string;
  screeningAtEpochMs?: number;
  screeningDue: boolean;
  screeningDueReason?: string;
}

export interface ScreeningQuestion {
  id: string;
  text: string;
  absolute: boolean;
}

export interface AuditEntry {
  atEpochMs: number;
  who: string;
  role: string;
  what: string;
  from: string;
  ok: boolean;
  detail?: string;
}

/**
 * Marks a stop as the walk-up user's, so the staff board can alert staff. Without a login the
 * server takes only these fixed reasons (gateway/stop-reasons.ts).
 */
export { ANONYMOUS_STOP_REASONS, WALK_UP_STOP_REASON } from '../../gateway/stop-reasons.js';

export const stopStation = (id: string, reason?: string) =>
  api<unknown>(
    'POST',
    `/api/stations/${encodeURIComponent(id)}/stop`,
    reason === undefined ? {} : { reason },
  );
export const stopAll = () => api<unknown>('POST', '/api/stop', {});
/** Another gateway's station, through the centre's broker (docs/centre.md). */
export const stopCentreStation = (gatewayId: string, stationId: string) =>
  api<unknown>(
    'POST',
    `/api/centre/stations/${encodeURIComponent(gatewayId)}/${encodeURIComponent(stationId)}/stop`,
    {},
  );
export const whoAmI = () => api<Actor>('GET', '/api/auth/me');
/** The login answer names the user `user`; /api/auth/me names it `who`. */
export const login = (user: string, secret: string) =>
  api<{ user: string; role: ActorRole }>('POST', '/api/auth/login', { user, secret }).then((r): Actor => ({
    who: r.user,
    role: r.role,
  }));
export const logout = () => api<unknown>('POST', '/api/auth/logout', {});
