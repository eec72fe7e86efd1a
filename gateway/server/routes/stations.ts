/**
 * Stations: state, and the commands that change it. Who may do what:
 *
 * | command      | anonymous (walk-up)                         | viewer | staff, support, admin |
 * |--------------|---------------------------------------------|--------|-----------------------|
 * | read         | yes                                         | yes    | yes                   |
 * | start        | a walk-up preset within the station's limits, after the screening | no | yes |
 * | pause        | yes (pausing only lowers pressure)          | no     | yes                   |
 * | resume       | only a session an anonymous user started and staff did not pause | no | yes  |
 * | adjust       | pressure down only; length only of a walk-up session, within its maximum | no | yes, within the session's ceiling |
 * | stop         | yes, any station (DESIGN.md: one tap from anywhere, no login), with a fixed reason | yes | yes |
 * | acknowledge  | no                                          | no     | yes                   |
 * | settings     | read only                                   | read   | staff, admin change   |
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { PROGRAM_BOUNDS } from '../../control-loop/programs/bounds.js';
import { peakTargetMmHg } from '../../control-loop/programs/profile.js';
import {
  effectiveCeiling,
  highestTargetMmHg,
  LIMITS,
  type CeilingSource,
  type CeilingSources,
} from '../../limits.js';
import { ANONYMOUS_STOP_REASONS } from '../../stop-reasons.js';
import type { StartArgs, StationFrame } from '../../protocol.js';
import type { SessionRecord, StationSettings } from '../../store/types.js';
import { HttpError } from '../errors.js';
import { requireRole } from '../plugins/auth.js';
import {
  DurationSchema,
  PressureSchema,
  ProgramIdSchema,
  StationParamsSchema,
  ZoneListSchema,
} from '../schemas.js';
import {
  AcknowledgedSchema,
  StartResponseSchema,
  StationListSchema,
  StationViewSchema,
  type StationView,
} from '../responses.js';
import { screeningDue } from '../privacy.js';
import { evaluateScreening, SCREENING_QUESTIONS } from '../screening.js';
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

const SettingsBodySchema = Type.Object(
  {
    walkUpEnabled: Type.Boolean(),
    walkUpPrograms: Type.Array(ProgramIdSchema, { uniqueItems: true, maxItems: 50 }),
    walkUpMaxPressureMmHg: PressureSchema,
    walkUpMaxDurationMin: DurationSchema,
    ceilingMmHg: Type.Optional(
      Type.Number({ minimum: LIMITS.stationCeilingMmHg.min, maximum: LIMITS.stationCeilingMmHg.max }),
    ),
  },
  { additionalProperties: false },
);

/** A ceiling as the dashboard shows it: the number, the highest target under it, and where it comes from. */
function ceilingView(sources: CeilingSources) {
  const e = effectiveCeiling(sources);
  return {
    ceilingMmHg: e.ceilingMmHg,
    highestTargetMmHg: highestTargetMmHg(e.ceilingMmHg),
    source: e.source,
  };
}

/** What limits a new session on this station: the board and the staff setting (and the walk-up maximum). */
function startCeilingSources(frame: StationFrame, settings: StationSettings | undefined, walkUp: boolean) {
  return {
    boardMmHg: frame.ceilingMmHg,
    stationSettingMmHg: settings?.ceilingMmHg,
    ...(walkUp ? { walkUpMaxTargetMmHg: settings?.walkUpMaxPressureMmHg } : {}),
  };
}

const SOURCE_WORDS: Record<CeilingSource, string> = {
  board: "the station's ceiling",
  station: 'the ceiling staff set for this station',
  'walk-up': 'the walk-up maximum',
  client: "the client's own limit",
};

/** What a dashboard shows of a station: the controller's frame, trimmed to what people read. */
export function stationView(frame: StationFrame, settings: StationSettings | undefined): StationView {
  return {
    id: frame.id,
    name: frame.name,
    garment: frame.garment,
    state: frame.state,
    phase: frame.phase,
    program: frame.session
      ? {
          id: frame.session.programId,
          name: frame.session.programName,
          version: frame.session.programVersion,
        }
      : null,
    session: frame.session
      ? {
          id: frame.session.id,
          cycle: frame.session.cycle,
          elapsedS: frame.session.elapsedS,
          remainingS: frame.session.remainingS,
          pressureMmHg: frame.session.pressureMmHg,
          durationMin: frame.session.durationMin,
          adjustPending: frame.session.adjustPending,
        }
      : null,
    remainingS: frame.session?.remainingS ?? null,
    zones: frame.zones.map((z) => ({ zone: z.zone, pressureMmHg: z.pressureMmHg, targetMmHg: z.targetMmHg })),
    ceilingMmHg: frame.ceilingMmHg,
    /** The effective ceiling a staff start gets now (board and station setting). */
    startCeiling: ceilingView(startCeilingSources(frame, settings, false)),
    /** The running session's effective ceiling, which its over-pressure trip enforces. */
    sessionCeilingMmHg: frame.session?.ceilingMmHg ?? null,
    link: frame.link,
    alarms: frame.alarms.filter((a) => a.active || a.latched),
    walkUp: settings?.walkUpEnabled
      ? {
          programs: settings.walkUpPrograms,
          maxPressureMmHg: settings.walkUpMaxPressureMmHg,
          maxDurationMin: settings.walkUpMaxDurationMin,
          ceiling: ceilingView(startCeilingSources(frame, settings, true)),
        }
      : null,
  };
}

const STAFF_ROLES = ['staff', 'support', 'admin'] as const;

/** A station nobody has set up: walk-up off, nothing offered. */
function defaultSettings(stationId: string): StationSettings {
  return {
    stationId,
    walkUpEnabled: false,
    walkUpPrograms: [],
    walkUpMaxPressureMmHg: PROGRAM_BOUNDS.pressureMmHg.min,
    walkUpMaxDurationMin: Math.min(20, LIMITS.sessionMaxMin.default),
  };
}

/**
 * What each setting may be on this station: the station ceiling up to the board's, the walk-up
 * maximum up to that ceiling less the regulation headroom (the controller keeps targets that far
 * below a ceiling), the walk-up length up to the session maximum.
 */
export function settingRanges(
  frame: StationFrame,
  settings: Pick<StationSettings, 'ceilingMmHg'> | undefined,
) {
  const { ceilingMmHg: ceiling } = effectiveCeiling({
    boardMmHg: frame.ceilingMmHg,
    stationSettingMmHg: settings?.ceilingMmHg,
  });
  return {
    ceilingMmHg: { min: LIMITS.stationCeilingMmHg.min, max: frame.ceilingMmHg },
    walkUpMaxPressureMmHg: {
      min: PROGRAM_BOUNDS.pressureMmHg.min,
      max: Math.max(PROGRAM_BOUNDS.pressureMmHg.min, highestTargetMmHg(ceiling)),
    },
    walkUpMaxDurationMin: { min: LIMITS.sessionMaxMin.min, max: LIMITS.sessionMaxMin.default },
  };
}

export const stationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, link } = app;

  /** Staff hear at once when a walk-up user stopped their session (the lounge may be unwatched). */
  async function notifyWalkUpStops(stopped: [string, string][]): Promise<void> {
    for (const [stationId, sessionId] of stopped) {
      if ((await store.session(sessionId))?.client === 'walk-up') app.notifications.walkUpStop(stationId);
    }
  }

  async function frameOf(id: string): Promise<StationFrame> {
    const [frame] = await link.state(id);
    if (frame === undefined) throw new HttpError(404, 'not-found', `no station "${id}"`, 'params.id');
    return frame;
  }

  app.get('/api/screening', { schema: { tags: ['stations'] } }, async () => ({
    questions: SCREENING_QUESTIONS,
  }));

  app.get(
    '/api/stations',
    { schema: { tags: ['stations'], response: { 200: StationListSchema } } },
    async () => {
      const frames = await link.state();
      return { stations: frames.map((f) => stationView(f, store.stationSettings(f.id))) };
    },
  );

  app.get(
    '/api/stations/:id',
    { schema: { tags: ['stations'], params: StationParamsSchema, response: { 200: StationViewSchema } } },
    async (request) => {
      const frame = await frameOf(request.params.id);
      return stationView(frame, store.stationSettings(frame.id));
    },
  );

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
    { schema: { tags: ['stations'], params: StationParamsSchema, body: AdjustBodySchema } },
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

  app.get(
    '/api/stations/:id/settings',
    { schema: { tags: ['stations'], params: StationParamsSchema } },
    async (request) => {
      const frame = await frameOf(request.params.id);
      const ranges = settingRanges(frame, store.stationSettings(frame.id));
      return { settings: store.stationSettings(frame.id) ?? defaultSettings(frame.id), ranges };
    },
  );

  app.put(
    '/api/stations/:id/settings',
    {
      schema: { tags: ['stations'], params: StationParamsSchema, body: SettingsBodySchema },
      preHandler: requireRole('staff', 'admin'),
    },
    async (request) => {
      const frame = await frameOf(request.params.id);
      for (const [i, id] of request.body.walkUpPrograms.entries()) {
        const p = store.program(id);
        if (p === undefined || p.deleted) {
          throw new HttpError(
            400,
            'bad-request',
            `body.walkUpPrograms[${i}]: no program "${id}"`,
            `body.walkUpPrograms[${i}]`,
          );
        }
      }
      // The board's ceiling bounds the station's, and the station's bounds the walk-up maximum.
      const ranges = settingRanges(frame, request.body);
      for (const key of ['ceilingMmHg', 'walkUpMaxPressureMmHg'] as const) {
        const v = request.body[key];
        const r = ranges[key];
        if (v !== undefined && v > r.max) {
          throw new HttpError(
            400,
            'bad-request',
            `body.${key}: at most ${r.max} mmHg on station ${frame.id} (${key === 'ceilingMmHg' ? "the board's ceiling" : 'the station ceiling less the regulation headroom'})`,
            `body.${key}`,
          );
        }
      }
      const settings: StationSettings = { stationId: frame.id, ...request.body };
      store.putStationSettings(settings);
      await store.flush();
      return settings;
    },
  );
};
