/**
 * Fault injection on a simulated board (support training, demos, tests). The controller refuses
 * it on real hardware, so the web process needs no flag of its own.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { MAX_ZONES } from '../../limits.js';
import { SIM_FAULT_KINDS } from '../../sim/faults.js';
import { requireRole } from '../plugins/auth.js';
import { StationParamsSchema } from '../schemas.js';
import { SimFaultsSchema } from '../responses.js';

const KindSchema = Type.Union(SIM_FAULT_KINDS.map((f) => Type.Literal(f.kind)));
const InjectBodySchema = Type.Object(
  { kind: KindSchema, zone: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ZONES })) },
  { additionalProperties: false },
);
const ClearQuerySchema = Type.Object({ kind: Type.Optional(KindSchema) }, { additionalProperties: false });

export const simRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const client = app.link.client;
  app.post(
    '/api/sim/stations/:id/faults',
    {
      schema: {
        tags: ['simulator'],
        params: StationParamsSchema,
        body: InjectBodySchema,
        response: { 200: SimFaultsSchema },
      },
      preHandler: requireRole('support', 'admin'),
    },
    async (request) =>
      client.request('sim-inject', {
        stationId: request.params.id,
        kind: request.body.kind,
        ...(request.body.zone !== undefined ? { zone: request.body.zone } : {}),
      }),
  );

  app.delete(
    '/api/sim/stations/:id/faults',
    {
      schema: {
        tags: ['simulator'],
        params: StationParamsSchema,
        querystring: ClearQuerySchema,
        response: { 200: SimFaultsSchema },
      },
      preHandler: requireRole('support', 'admin'),
    },
    async (request) =>
      client.request('sim-clear', {
        stationId: request.params.id,
        ...(request.query.kind !== undefined ? { kind: request.query.kind } : {}),
      }),
  );
};
