/**
 * Session history (who, when, program version, delivered pressures) as JSON or CSV. Names show
 * only to roles that may see clients (privacy.ts); screening answers only in a single session's
 * read by those roles, and that read is audited.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { SessionRecord } from '../../store/types.js';
import { HttpError } from '../errors.js';
import { requireRole } from '../plugins/auth.js';
import { canSeeClients, sessionFor } from '../privacy.js';
import { ProgramIdSchema, StationIdSchema } from '../schemas.js';
import { SessionListSchema, SessionRecordSchema } from '../responses.js';

const READERS = ['viewer', 'staff', 'support', 'admin'] as const;
const DEFAULT_LIMIT = 200;
const MAX_LIMIT = 5000;

const STATUSES = ['running', 'completed', 'stopped', 'fault', 'interrupted', 'refused'] as const;

const QuerySchema = Type.Object(
  {
    station: Type.Optional(StationIdSchema),
    program: Type.Optional(ProgramIdSchema),
    status: Type.Optional(
      Type.Union(
        STATUSES.map((x) => Type.Literal(x)),
        { description: 'how the session ended, or running' },
      ),
    ),
    client: Type.Optional(
      Type.String({ minLength: 1, maxLength: 80, description: 'part of the client name, any case' }),
    ),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601, inclusive' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601, inclusive' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT })),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
  },
  { additionalProperties: false },
);

const CSV_COLUMNS = [
  'id',
  'stationId',
  'programId',
  'programVersion',
  'client',
  'startedBy',
  'startedAt',
  'endedAt',
  'status',
  'reason',
  'pressureMmHg',
  'durationMin',
  'deliveredMin',
  'cyclesDone',
  'adjustments',
] as const;

/** RFC 4180 quoting, and a leading ' for cells a spreadsheet would run as a formula. */
function csvCell(v: unknown): string {
  let s = v === undefined || v === null ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** "2026-01-05T10:03:00.000Z sam 40→60 mmHg 20→25 min": one adjustment in a CSV cell. */
function adjustmentText(a: NonNullable<SessionRecord['adjustments']>[number]): string {
  return [
    new Date(a.atEpochMs).toISOString(),
    a.by,
    a.pressureMmHg ? `${a.pressureMmHg.from}→${a.pressureMmHg.to} mmHg` : '',
    a.durationMin ? `${a.durationMin.from}→${a.durationMin.to} min` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

function csvRow(s: SessionRecord): string {
  const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString());
  const row: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    id: s.id,
    stationId: s.stationId,
    programId: s.programId,
    programVersion: s.programVersion,
    client: s.client,
    startedBy: s.startedBy,
    startedAt: iso(s.startedAtEpochMs),
    endedAt: iso(s.endedAtEpochMs),
    status: s.status,
    reason: s.reason,
    pressureMmHg: s.pressureMmHg,
    durationMin: s.durationMin,
    deliveredMin: s.deliveredMs === undefined ? '' : (s.deliveredMs / 60_000).toFixed(1),
    cyclesDone: s.cyclesDone,
    adjustments: (s.adjustments ?? []).map(adjustmentText).join('; '),
  };
  return CSV_COLUMNS.map((c) => csvCell(row[c])).join(',');
}

export const sessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store } = app;

  app.get(
    '/api/sessions',
    {
      schema: {
        tags: ['sessions'],
        querystring: QuerySchema,
        response: {
          200: {
            content: {
              'application/json': { schema: SessionListSchema },
              'text/csv': { schema: Type.String({ description: 'format=csv: one row per session' }) },
            },
          },
        },
      },
      preHandler: requireRole(...READERS),
    },
    async (request, reply) => {
      const q = request.query;
      const fromEpochMs = q.from === undefined ? undefined : Date.parse(q.from);
      const toEpochMs = q.to === undefined ? undefined : Date.parse(q.to);
      if (fromEpochMs !== undefined && toEpochMs !== undefined && fromEpochMs > toEpochMs) {
        throw new HttpError(
          400,
          'bad-request',
          'querystring.from: must not be after querystring.to',
          'querystring.from',
        );
      }
      if (q.client !== undefined && !canSeeClients(request.actor)) {
        // Filtering by a name would tell a role that may not see names which sessions are whose.
        throw new HttpError(
          403,
          'forbidden',
          `querystring.client: the ${request.actor.role} role does not see client names`,
          'querystring.client',
        );
      }
      const limit = q.limit ?? DEFAULT_LIMIT;
      const filtered = q.program !== undefined || q.status !== undefined || q.client !== undefined;
      const client = q.client?.toLowerCase();
      const sessions = (
        await store.sessions({
          ...(q.station !== undefined ? { stationId: q.station } : {}),
          ...(fromEpochMs !== undefined ? { fromEpochMs } : {}),
          ...(toEpochMs !== undefined ? { toEpochMs } : {}),
          // The store filters by station and time; the other filters apply to what it returns.
          limit: filtered ? MAX_LIMIT : limit,
        })
      )
        .filter(
          (s) =>
            (q.program === undefined || s.programId === q.program) &&
            (q.status === undefined || s.status === q.status) &&
            (client === undefined || s.client.toLowerCase().includes(client)),
        )
        .slice(0, limit)
        .map((s) => sessionFor(request.actor, s));
      if (q.format === 'csv') {
        void reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="sessions.csv"');
        return [CSV_COLUMNS.join(','), ...sessions.map(csvRow)].join('\r\n') + '\r\n';
      }
      return { sessions };
    },
  );

  app.get(
    '/api/sessions/:id',
    {
      schema: {
        tags: ['sessions'],
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: { 200: SessionRecordSchema },
      },
      preHandler: requireRole(...READERS),
    },
    async (request) => {
      const session = await store.session(request.params.id);
      if (session === undefined)
        throw new HttpError(404, 'not-found', `no session "${request.params.id}"`, 'params.id');
      if (session.screening !== undefined && canSeeClients(request.actor))
        request.auditRead = `screening answers of session ${session.id}`;
      return sessionFor(request.actor, session, true);
    },
  );
};
