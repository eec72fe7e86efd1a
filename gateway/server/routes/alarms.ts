/** Alarms: the controller's active list (the truth now) and the store's history. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { requireRole } from '../plugins/auth.js';

const QuerySchema = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })) },
  { additionalProperties: false },
);

export const alarmRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/alarms',
    {
      schema: { tags: ['alarms'], querystring: QuerySchema },
      preHandler: requireRole('viewer', 'staff', 'support', 'admin'),
    },
    async (request) => {
      // History must stay readable while the controller is away; active is then unknown (null).
      const active = app.link.connected ? await app.link.client.request('alarms', {}) : null;
      return { active, history: app.store.alarms(request.query.limit ?? 200) };
    },
  );

  app.get(
    '/api/audit',
    { schema: { tags: ['alarms'], querystring: QuerySchema }, preHandler: requireRole('support', 'admin') },
    async (request) => ({ audit: app.store.audit(request.query.limit ?? 200) }),
  );
};
