/** Maintenance: pump and valve counters, self-tests (support work). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { requireRole } from '../plugins/auth.js';
import { StationParamsSchema } from '../schemas.js';
import { MaintenanceResponseSchema } from '../responses.js';
import { SelfTestResultSchema } from '../../ipc/schemas.js';

const SelfTestBodySchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('valve-click'), Type.Literal('sensor-zero'), Type.Literal('leak')]),
  },
  { additionalProperties: false },
);

/** A self-test moves air and valves for a while; the controller answers when it is done. */
const SELF_TEST_TIMEOUT_MS = 120_000;

export const maintenanceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, link } = app;

  app.get(
    '/api/maintenance',
    {
      schema: { tags: ['maintenance'], response: { 200: MaintenanceResponseSchema } },
      preHandler: requireRole('viewer', 'staff', 'support', 'admin'),
    },
    async () => {
      // The live figures when the controller answers; the store has them as of its last report
      // (every COUNTERS_INTERVAL_MS), which is what it writes to disk: a poll writes nothing.
      const counters = link.connected ? await link.read('counters') : store.counters();
      return { counters, selfTests: store.selfTests() };
    },
  );

  app.post(
    '/api/stations/:id/self-test',
    {
      schema: {
        tags: ['maintenance'],
        params: StationParamsSchema,
        body: SelfTestBodySchema,
        response: { 200: SelfTestResultSchema },
      },
      preHandler: requireRole('support', 'admin'),
    },
    async (request) => {
      const result = await link.client.request(
        'self-test',
        { stationId: request.params.id, kind: request.body.kind },
        SELF_TEST_TIMEOUT_MS,
      );
      store.recordSelfTest(result);
      if (result.kind === 'sensor-zero' && result.ok) store.putZeroOffsets(result.stationId, result.values);
      await store.flush();
      return result;
    },
  );
};
