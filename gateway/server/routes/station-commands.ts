/**
 * The commands on a running station: pause, resume, adjust, stop (one station or all) and
 * acknowledge an alarm. Who may do what is in the table at the top of routes/stations.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ANONYMOUS_STOP_REASONS } from '../../stop-reasons.js';
import { HttpError } from '../errors.js';
import { requireRole } from '../plugins/auth.js';
import { DurationSchema, PressureSchema, StationParamsSchema } from '../schemas.js';
import { AcknowledgedSchema, StationListSchema, StationViewSchema } from '../responses.js';
import { stationFrame, stationView } from '../station-view.js';

const StopBodySchema = Type.Object(
  {
    reason: Type.Optional(
      Type.String({
        maxLength: 200,
        description: `staff: free text; anonymous: one of ${ANONYMOUS_STOP_REASONS.map((r) => `"${r}"`).join(', ')}`,
      }),
    ),
  },
  { additionalProperties: false },
);

/** The reason as it goes to the controller; an anonymous caller's must be one of the fixed choices. */
function stopReason(reason: string | undefined, actor: { who: string; role: string }): string {
  if (reason === undefined || reason === '') return `stopped by ${actor.who}`;
  if (actor.role === 'anonymous' && !(ANONYMOUS_STOP_REASONS as readonly string[]).includes(reason)) {
    throw new HttpError(
      400,
      'bad-request',
      `body.reason: without a login the reason is one of ${ANONYMOUS_STOP_REASONS.map((r) => `"${r}"`).join(', ')} (or none)`,
      'body.reason',
    );
  }
  return `${reason} (${actor.who})`;
}
const AckBodySchema = Type.Object(
  { alarmId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
  { additionalProperties: false },
);

const NoBodySchema = Type.Object({}, { additionalProperties: false });

/** Pause and resume: a command on one station with nothing to add, answered with the station. */
const BODYLESS_STATION_COMMAND = {
  schema: {
    tags: ['stations'],
    params: StationParamsSchema,
    body: NoBodySchema,
    response: { 200: StationViewSchema },
  },
};

const AdjustBodySchema = Type.Object(
  {
    pressureMmHg: Type.Optional(PressureSchema),
    durationMin: Type.Optional({ ...DurationSchema, description: "[min] the session's new total length" }),
  },
  { additionalProperties: false, minProperties: 1 },
);

const STAFF_ROLES = ['staff', 'support', 'admin'] as const;

export const stationCommandRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, link } = app;
  const frameOf = (id: string) => stationFrame(link, id);

  /** Staff hear at once when a walk-up user stopped their session (the lounge may be unwatched). */
  async function notifyWalkUpStops(stopped: [string, string][]): Promise<void> {
    for (const [stationId, sessionId] of stopped) {
      if ((await store.session(sessionId))?.client === 'walk-up') app.notifications.walkUpStop(stationId);
    }
  }

  app.post('/api/stations/:id/pause', BODYLESS_STATION_COMMAND, async (request) => {
    const { actor } = request;
    if (actor.role === 'viewer') throw new HttpError(403, 'forbidden', 'the viewer role is read-only');
    const frame = await link.client.request('pause', { stationId: request.params.id });
    // Who paused decides who may resume (a session staff paused stays paused for a passer-by).
    const rec = frame.session ? await store.session(frame.session.id) : undefined;
    if (rec?.status === 'running') store.putSession({ ...rec, pausedBy: actor.who });
    return stationView(frame, store.stationSettings(frame.id));
  });

  app.post('/api/stations/:id/resume', BODYLESS_STATION_COMMAND, async (request) => {
    const { role } = request.actor;
    if (role === 'viewer') throw new HttpError(403, 'forbidden', 'the viewer role is read-only');
    const current = await frameOf(request.params.id);
    const rec = current.session ? await store.session(current.session.id) : undefined;
    if (role === 'anonymous') {
      // Keyed on who started it, not on the client name (which staff type freely).
      if (rec?.startedBy !== 'anonymous') {
        throw new HttpError(401, 'unauthorized', 'only staff may resume a session that staff started');
      }
      if (rec.pausedBy !== undefined && rec.pausedBy !== 'anonymous') {
        throw new HttpError(401, 'unauthorized', 'staff paused this session: only staff may resume it');
      }
    }
    const frame = await link.client.request('resume', { stationId: request.params.id });
    const after = await store.session(rec?.id ?? '');
    if (after?.status === 'running' && after.pausedBy !== undefined) {
      const { pausedBy: _resumed, ...rest } = after;
      store.putSession(rest);
    }
    return stationView(frame, store.stationSettings(frame.id));
  });

  app.post(
    '/api/stations/:id/adjust',
    {
      schema: {
        tags: ['stations'],
        params: StationParamsSchema,
        body: AdjustBodySchema,
        response: { 200: StationViewSchema },
      },
    },
    async (request) => {
      const { actor } = request;
      const { pressureMmHg, durationMin } = request.body;
      if (actor.role === 'viewer') throw new HttpError(403, 'forbidden', 'the viewer role is read-only');
      const frame = await frameOf(request.params.id);
      const current = frame.session;
      if (current === null || (frame.state !== 'running' && frame.state !== 'paused')) {
        throw new HttpError(409, 'refused', `station ${frame.id} is ${frame.state}: no session to adjust`);
      }
      const walkUp = actor.role === 'anonymous';
      if (walkUp) {
        // Softer only lowers pressure, as pausing does, so any visitor may; everything else is staff's.
        if (pressureMmHg !== undefined && pressureMmHg > current.pressureMmHg) {
          throw new HttpError(
            403,
            'forbidden',
            `body.pressureMmHg: a walk-up user may only make it softer (now ${current.pressureMmHg} mmHg); ask staff for more`,
            'body.pressureMmHg',
          );
        }
        if (durationMin !== undefined) {
          const settings = store.stationSettings(frame.id);
          const rec = await store.session(current.id);
          // Keyed on who started it, not on the client name staff type (as resume is).
          if (rec?.startedBy !== 'anonymous' || !settings?.walkUpEnabled) {
            throw new HttpError(
              403,
              'forbidden',
              'body.durationMin: only staff may change the length of a session that staff started',
              'body.durationMin',
            );
          }
          if (durationMin > settings.walkUpMaxDurationMin) {
            throw new HttpError(
              403,
              'forbidden',
              `body.durationMin: at most ${settings.walkUpMaxDurationMin} min for walk-up use`,
              'body.durationMin',
            );
          }
        }
      }
      const by = walkUp ? 'walk-up' : actor.who;
      const next = await link.client.request('adjust', {
        stationId: frame.id,
        ...(pressureMmHg !== undefined ? { pressureMmHg } : {}),
        ...(durationMin !== undefined ? { durationMin } : {}),
        by,
      });
      const change = [
        pressureMmHg !== undefined ? `pressure ${current.pressureMmHg} → ${pressureMmHg} mmHg` : '',
        durationMin !== undefined ? `length ${current.durationMin} → ${durationMin} min` : '',
      ]
        .filter(Boolean)
        .join(', ');
      request.auditDetail = `session ${current.id}: ${change}`;
      await link.recordAdjustment(current.id, {
        atEpochMs: Date.now(),
        by,
        ...(pressureMmHg !== undefined
          ? { pressureMmHg: { from: current.pressureMmHg, to: pressureMmHg } }
          : {}),
        ...(durationMin !== undefined ? { durationMin: { from: current.durationMin, to: durationMin } } : {}),
      });
      return stationView(next, store.stationSettings(next.id));
    },
  );

  app.post(
    '/api/stations/:id/stop',
    {
      schema: {
        tags: ['stations'],
        params: StationParamsSchema,
        body: StopBodySchema,
        response: { 200: StationViewSchema },
      },
    },
    async (request) => {
      // Staff learn of a walk-up user's STOP at once (notifications): the lounge may be unwatched.
      // The session comes from the latest frame in memory: the stop waits for nothing.
      const sessionId =
        request.actor.role === 'anonymous' ? link.runningSession(request.params.id) : undefined;
      const [frame] = await link.client.request('stop', {
        stationId: request.params.id,
        reason: stopReason(request.body.reason, request.actor),
      });
      if (frame === undefined)
        throw new HttpError(404, 'not-found', `no station "${request.params.id}"`, 'params.id');
      if (sessionId !== undefined) await notifyWalkUpStops([[frame.id, sessionId]]);
      return stationView(frame, store.stationSettings(frame.id));
    },
  );

  const stopAll = { tags: ['stations'], body: StopBodySchema, response: { 200: StationListSchema } };
  app.post('/api/stop', { schema: stopAll }, async (request) => {
    const running = request.actor.role === 'anonymous' ? link.runningSessions() : [];
    const frames = await link.client.request('stop', {
      reason: `all stations stopped by ${request.actor.who}`,
    });
    await notifyWalkUpStops(running);
    return { stations: frames.map((f) => stationView(f, store.stationSettings(f.id))) };
  });

  app.post(
    '/api/stations/:id/acknowledge',
    {
      schema: {
        tags: ['stations'],
        params: StationParamsSchema,
        body: AckBodySchema,
        response: { 200: AcknowledgedSchema },
      },
      preHandler: requireRole(...STAFF_ROLES),
    },
    async (request) => {
      const cleared = await link.client.request('acknowledge', {
        stationId: request.params.id,
        ...(request.body.alarmId !== undefined ? { alarmId: request.body.alarmId } : {}),
      });
      for (const a of cleared) store.recordAlarm(a, 'acknowledged');
      return { acknowledged: cleared };
    },
  );
};
