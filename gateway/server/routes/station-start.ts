/**
 * Starting a session on a station: a walk-up preset within the station's limits after the
 * screening, or a staff start (optionally for a client record, whose own ceiling and screening
 * apply). Who may start is in the table at the top of routes/stations.ts.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { peakTargetMmHg } from '../../control-loop/programs/profile.js';
import { effectiveCeiling, highestTargetMmHg, LIMITS, type CeilingSource } from '../../limits.js';
import type { StartArgs } from '../../protocol.js';
import type { SessionRecord } from '../../store/types.js';
import { HttpError } from '../errors.js';
import {
  DurationSchema,
  PressureSchema,
  ProgramIdSchema,
  StationParamsSchema,
  ZoneListSchema,
} from '../schemas.js';
import { StartResponseSchema } from '../responses.js';
import { screeningDue } from '../privacy.js';
import { evaluateScreening } from '../screening.js';
import { startCeilingSources, stationFrame, stationView } from '../station-view.js';
import { screeningNow } from './clients.js';

const StartBodySchema = Type.Object(
  {
    programId: ProgramIdSchema,
    pressureMmHg: Type.Optional(PressureSchema),
    durationMin: Type.Optional(DurationSchema),
    skipZones: Type.Optional(ZoneListSchema),
    client: Type.Optional(
      Type.String({ minLength: 1, maxLength: 80, description: 'client name (staff start)' }),
    ),
    clientId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'a client record (GET /api/clients) instead of a name: their ceiling applies',
      }),
    ),
    screening: Type.Optional(
      Type.Record(Type.String({ maxLength: 40 }), Type.Boolean(), {
        maxProperties: 32,
        description: 'question id → answer (GET /api/screening lists them)',
      }),
    ),
  },
  { additionalProperties: false },
);

const SOURCE_WORDS: Record<CeilingSource, string> = {
  board: "the station's ceiling",
  station: 'the ceiling staff set for this station',
  'walk-up': 'the walk-up maximum',
  client: "the client's own limit",
};

export const stationStartRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, link } = app;
  const frameOf = (id: string) => stationFrame(link, id);

  app.post(
    '/api/stations/:id/start',
    {
      schema: {
        tags: ['stations'],
        params: StationParamsSchema,
        body: StartBodySchema,
        response: { 201: StartResponseSchema },
      },
    },
    async (request, reply) => {
      const { actor } = request;
      const body = request.body;
      if (actor.role === 'viewer') throw new HttpError(403, 'forbidden', 'the viewer role is read-only');
      const frame = await frameOf(request.params.id);
      const record = store.program(body.programId);
      if (record === undefined || record.deleted) {
        throw new HttpError(
          404,
          'not-found',
          `body.programId: no program "${body.programId}"`,
          'body.programId',
        );
      }
      const program = record.program;
      const settings = store.stationSettings(frame.id);
      const walkUp = actor.role === 'anonymous';
      let pressureMmHg = body.pressureMmHg;
      let durationMin = body.durationMin ?? program.durationMin;

      if (walkUp) {
        if (!settings?.walkUpEnabled) {
          throw new HttpError(
            403,
            'forbidden',
            `walk-up use is not enabled on station ${frame.id}: please ask staff`,
          );
        }
        if (!settings.walkUpPrograms.includes(program.id)) {
          throw new HttpError(
            403,
            'forbidden',
            `body.programId: "${program.id}" is not offered for walk-up use here (offered: ${settings.walkUpPrograms.join(', ') || 'none'})`,
            'body.programId',
          );
        }
        const maxP = settings.walkUpMaxPressureMmHg;
        if (pressureMmHg !== undefined && pressureMmHg > maxP) {
          throw new HttpError(
            403,
            'forbidden',
            `body.pressureMmHg: at most ${maxP} mmHg for walk-up use`,
            'body.pressureMmHg',
          );
        }
        if (body.durationMin !== undefined && body.durationMin > settings.walkUpMaxDurationMin) {
          throw new HttpError(
            403,
            'forbidden',
            `body.durationMin: at most ${settings.walkUpMaxDurationMin} min for walk-up use`,
            'body.durationMin',
          );
        }
        pressureMmHg ??= Math.min(program.pressureMmHg, maxP);
        durationMin = Math.min(durationMin, settings.walkUpMaxDurationMin);
      }
      const client = body.clientId === undefined ? undefined : store.client(body.clientId);
      if (body.clientId !== undefined) {
        if (walkUp || (actor.role !== 'staff' && actor.role !== 'admin')) {
          throw new HttpError(
            403,
            'forbidden',
            'body.clientId: only staff start a session for a client record',
            'body.clientId',
          );
        }
        if (body.client !== undefined) {
          throw new HttpError(
            400,
            'bad-request',
            'body.client: give a client name or a clientId, not both',
            'body.client',
          );
        }
        if (client === undefined) {
          throw new HttpError(
            404,
            'not-found',
            `body.clientId: no client "${body.clientId}"`,
            'body.clientId',
          );
        }
      }
      // One effective ceiling (gateway/limits.ts): the board's, the staff setting, for a walk-up
      // start the walk-up maximum, which bounds every zone's target (boosts, gradients), and the
      // client record's own limit. The controller gets the lowest of what it does not know itself
      // as the client ceiling.
      const limit = effectiveCeiling({
        ...startCeilingSources(frame, settings, walkUp),
        clientMmHg: client?.ceilingMmHg,
      });
      const clientCeilingMmHg = limit.source === 'board' ? undefined : limit.ceilingMmHg;
      const highest = highestTargetMmHg(limit.ceilingMmHg);
      const peak = peakTargetMmHg(
        program,
        frame.zones.length,
        pressureMmHg ?? program.pressureMmHg,
        body.skipZones ?? [],
      );
      if (peak > highest) {
        throw new HttpError(
          409,
          'refused',
          `program "${program.name}" needs ${peak} mmHg in its highest zone, above the ${highest} mmHg that ${SOURCE_WORDS[limit.source]} (${limit.ceilingMmHg} mmHg) allows on station ${frame.id}`,
          body.pressureMmHg !== undefined ? 'body.pressureMmHg' : 'body.programId',
        );
      }

      let screening: SessionRecord['screening'];
      if (client !== undefined) {
        if (body.screening !== undefined) {
          // Kept on the record even when it blocks: staff must see why the next start is refused too.
          const answered = screeningNow(body.screening, app.clock());
          store.putClient({ ...client, screening: answered.record, updatedAtEpochMs: app.clock() });
          await store.flush();
          if (answered.blockedMessage !== undefined)
            throw new HttpError(403, 'screening-blocked', answered.blockedMessage, answered.field);
          screening = { answers: answered.record.answers, blocked: false };
        } else {
          const due = screeningDue(client, store.privacySettings(), app.clock());
          if (due !== undefined) {
            throw new HttpError(
              400,
              'screening-due',
              `body.screening: ask the screening questions again before this start (${due})`,
              'body.screening',
            );
          }
        }
      } else if (walkUp || body.screening !== undefined) {
        // An answered screening binds staff as well: an absolute contraindication is not a staff call.
        const outcome = evaluateScreening(body.screening);
        if (!outcome.ok) {
          const blocked = outcome.record?.blocked === true;
          // The message names health conditions: it goes to the person who answered, not the audit.
          request.auditDetail = blocked
            ? 'screening: an answer rules this start out'
            : 'screening: not answered in full';
          throw new HttpError(
            blocked ? 403 : 400,
            blocked ? 'screening-blocked' : 'bad-request',
            outcome.message,
            outcome.field,
          );
        }
        screening = outcome.record;
      }

      // Refusals the controller would make anyway are answered before anything is persisted.
      if (durationMin > LIMITS.sessionMaxMin.default) {
        throw new HttpError(
          409,
          'refused',
          `durationMin ${durationMin} is above the maximum session of ${LIMITS.sessionMaxMin.default} minutes`,
          'body.durationMin',
        );
      }
      if (frame.state !== 'idle') {
        throw new HttpError(409, 'refused', `station ${frame.id} is ${frame.state}, not idle`);
      }
      if (!program.garments.includes(frame.garment)) {
        throw new HttpError(
          409,
          'refused',
          `program "${program.name}" is for ${program.garments.join('/')} garments; station ${frame.id} has a ${frame.garment} garment`,
          'body.programId',
        );
      }

      const session: SessionRecord = {
        id: randomUUID(),
        stationId: frame.id,
        programId: program.id,
        programVersion: program.version,
        client: walkUp ? 'walk-up' : (client?.name ?? body.client ?? ''),
        ...(client !== undefined ? { clientId: client.id } : {}),
        startedBy: actor.who,
        startedAtEpochMs: Date.now(),
        ...(pressureMmHg !== undefined ? { pressureMmHg } : {}),
        durationMin,
        ...(body.skipZones !== undefined ? { skipZones: body.skipZones } : {}),
        ...(screening !== undefined ? { screening } : {}),
        status: 'running',
      };
      const args: StartArgs = {
        stationId: frame.id,
        sessionId: session.id,
        program,
        durationMin,
        ...(pressureMmHg !== undefined ? { pressureMmHg } : {}),
        ...(body.skipZones !== undefined ? { skipZones: body.skipZones } : {}),
        ...(clientCeilingMmHg !== undefined ? { clientCeilingMmHg } : {}),
      };
      request.auditDetail = `session ${session.id}, program ${program.id} v${program.version}`;
      const started = await link.startSession(session, args);
      return reply.code(201).send({ session, station: stationView(started, settings) });
    },
  );
};
