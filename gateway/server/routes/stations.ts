/**
 * Stations: reading their state and their settings. The commands that change a station are in
 * station-start.ts (start) and station-commands.ts (pause, resume, adjust, stop, acknowledge); what
 * every answer shows of a station is in ../station-view.ts. Who may do what, across all three:
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
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { PROGRAM_BOUNDS } from '../../control-loop/programs/bounds.js';
import { effectiveCeiling, highestTargetMmHg, LIMITS } from '../../limits.js';
import type { StationFrame } from '../../protocol.js';
import type { StationSettings } from '../../store/types.js';
import { HttpError } from '../errors.js';
import { requireRole } from '../plugins/auth.js';
import { DurationSchema, PressureSchema, ProgramIdSchema, StationParamsSchema } from '../schemas.js';
import {
  ScreeningQuestionsSchema,
  StationListSchema,
  StationSettingsResponseSchema,
  StationSettingsSchema,
  StationViewSchema,
} from '../responses.js';
import { SCREENING_QUESTIONS } from '../screening.js';
import { stationFrame, stationView } from '../station-view.js';

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
  const frameOf = (id: string) => stationFrame(link, id);

  app.get(
    '/api/screening',
    { schema: { tags: ['stations'], response: { 200: ScreeningQuestionsSchema } } },
    async () => ({
      questions: [...SCREENING_QUESTIONS],
    }),
  );

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

  app.get(
    '/api/stations/:id/settings',
    {
      schema: {
        tags: ['stations'],
        params: StationParamsSchema,
        response: { 200: StationSettingsResponseSchema },
      },
    },
    async (request) => {
      const frame = await frameOf(request.params.id);
      const ranges = settingRanges(frame, store.stationSettings(frame.id));
      return { settings: store.stationSettings(frame.id) ?? defaultSettings(frame.id), ranges };
    },
  );

  app.put(
    '/api/stations/:id/settings',
    {
      schema: {
        tags: ['stations'],
        params: StationParamsSchema,
        body: SettingsBodySchema,
        response: { 200: StationSettingsSchema },
      },
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
