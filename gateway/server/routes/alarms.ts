/**
 * Alarms: the controller's active list (the truth now) merged with the web process's own alarms
 * (plugins/store.ts: a recovered database), the store's history, and acknowledging one by id.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { AlarmInfo } from '../../protocol.js';
import { HttpError } from '../errors.js';
import { requireRole } from '../plugins/auth.js';
import { AcknowledgedSchema, AlarmsResponseSchema, AuditListSchema } from '../responses.js';
import { WEB_ALARM_PREFIX } from '../plugins/store.js';

const QuerySchema = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })) },
  { additionalProperties: false },
);
const AuditQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 60, description: 'exact user id' })),
    action: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: 'part of the request, e.g. "adjust" or "POST"',
      }),
    ),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601, inclusive' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601, inclusive' })),
  },
  { additionalProperties: false },
);
/** The audit the web process keeps live (older months are in the archive files). */
const AUDIT_SCAN_MAX = 5000;
const AlarmParamsSchema = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);
const NoBodySchema = Type.Object({}, { additionalProperties: false });

/** Same rule as acknowledging on a station (routes/station-commands.ts): staff and above. */
const ACKNOWLEDGERS = ['staff', 'support', 'admin'] as const;

export const alarmRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/alarms',
    {
      schema: { tags: ['alarms'], querystring: QuerySchema, response: { 200: AlarmsResponseSchema } },
      preHandler: requireRole('viewer', 'staff', 'support', 'admin'),
    },
    async (request) => {
      // History must stay readable while the controller is away; its part of active is then
      // unknown. The web-side alarms are known either way, so they are listed even then, and
      // active is null only when nothing at all is known to be waiting.
      const fromController = app.link.connected ? await app.link.read('alarms') : null;
      const web = app.webAlarms.active();
      const active: AlarmInfo[] | null =
        fromController === null ? (web.length > 0 ? web : null) : [...web, ...fromController];
      return {
        active,
        controller: app.link.connected ? ('connected' as const) : ('disconnected' as const),
        history: app.store.alarms(request.query.limit ?? 200),
      };
    },
  );

  app.post(
    '/api/alarms/:id/acknowledge',
    {
      schema: {
        tags: ['alarms'],
        params: AlarmParamsSchema,
        body: NoBodySchema,
        response: { 200: AcknowledgedSchema },
      },
      preHandler: requireRole(...ACKNOWLEDGERS),
    },
    async (request) => {
      const { id } = request.params;
      if (id.startsWith(WEB_ALARM_PREFIX)) {
        const done = app.webAlarms.acknowledge(id);
        if (done === undefined) {
          throw new HttpError(404, 'not-found', `no alarm "${id}" waiting for acknowledgement`, 'params.id');
        }
        // Acknowledged means on disk: a crash right after the answer must not bring it back.
        await app.store.flush();
        return { acknowledged: [done] };
      }
      if (!app.link.connected) {
        throw new HttpError(503, 'controller-unavailable', 'the controller is not connected; try again');
      }
      const cleared = await app.link.client.request('acknowledge', { alarmId: id });
      if (cleared.length === 0) {
        throw new HttpError(404, 'not-found', `no alarm "${id}" waiting for acknowledgement`, 'params.id');
      }
      for (const a of cleared) app.store.recordAlarm(a, 'acknowledged');
      return { acknowledged: cleared };
    },
  );

  app.get(
    '/api/audit',
    {
      schema: { tags: ['alarms'], querystring: AuditQuerySchema, response: { 200: AuditListSchema } },
      preHandler: requireRole('support', 'admin'),
    },
    async (request) => {
      const q = request.query;
      const from = q.from === undefined ? -Infinity : Date.parse(q.from);
      const to = q.to === undefined ? Infinity : Date.parse(q.to);
      if (from > to) {
        throw new HttpError(
          400,
          'bad-request',
          'querystring.from: must not be after querystring.to',
          'querystring.from',
        );
      }
      const action = q.action?.toLowerCase();
      const filtered =
        q.user !== undefined || action !== undefined || q.from !== undefined || q.to !== undefined;
      const audit = app.store
        .audit(filtered ? AUDIT_SCAN_MAX : (q.limit ?? 200))
        .filter(
          (e) =>
            (q.user === undefined || e.who === q.user) &&
            (action === undefined || e.what.toLowerCase().includes(action)) &&
            e.atEpochMs >= from &&
            e.atEpochMs <= to,
        )
        .slice(0, q.limit ?? 200);
      return { audit };
    },
  );
};
