/**
 * The centre board's REST side (docs/centre.md): every station seen on the centre's broker, and
 * STOP for a station of another gateway. STOP needs no login, as a local STOP; nothing else is
 * offered for another gateway's stations (a start opens that gateway's own board).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import {
  CentreStationsResponseSchema,
  CentreStopParamsSchema,
  CentreStopResponseSchema,
} from '../../centre/schemas.js';
import { HttpError } from '../errors.js';

const NoBodySchema = Type.Object({}, { additionalProperties: false });

export const centreRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const centre = () => {
    if (app.centre === null) {
      throw new HttpError(
        404,
        'centre-off',
        'this gateway is not in a centre (no PRESSO_MQTT_URL; docs/centre.md)',
      );
    }
    return app.centre;
  };

  app.get(
    '/api/centre/stations',
    { schema: { tags: ['centre'], response: { 200: CentreStationsResponseSchema } } },
    async () => {
      const c = centre();
      return { ...c.status(), stations: c.registry.stations() };
    },
  );

  app.post(
    '/api/centre/stations/:gatewayId/:stationId/stop',
    {
      schema: {
        tags: ['centre'],
        params: CentreStopParamsSchema,
        body: NoBodySchema,
        response: { 200: CentreStopResponseSchema },
      },
    },
    async (request) => {
      const c = centre();
      const { gatewayId, stationId } = request.params;
      const by = `${c.selfId}: ${request.actor.who}`;
      if (gatewayId === c.selfId) {
        // One of ours: the local STOP, through the controller link.
        const [frame] = await app.link.client.request('stop', {
          stationId,
          reason: `stopped from the centre board by ${by}`,
        });
        if (frame === undefined)
          throw new HttpError(404, 'not-found', `no station "${stationId}"`, 'params.stationId');
        c.onFrame(frame);
        return { gatewayId, station: c.stateNow(frame) };
      }
      request.auditDetail = `centre STOP of ${gatewayId}/${stationId}`;
      return { gatewayId, station: await c.stopRemote(gatewayId, stationId, by) };
    },
  );
};
