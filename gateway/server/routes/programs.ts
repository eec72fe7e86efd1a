/**
 * Programs are versioned data: every save adds a version (the store numbers it), sessions record
 * the version they ran, and a deleted program keeps its versions for those sessions.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { previewProgram } from '../../control-loop/programs/preview.js';
import { programProblems } from '../../control-loop/programs/parse.js';
import { ProgramSchema, type Program } from '../../control-loop/programs/schema.js';
import { LIMITS } from '../../limits.js';
import { HttpError } from '../errors.js';
import { requireRole } from '../plugins/auth.js';
import { PressureSchema, ProgramIdSchema, StationIdSchema } from '../schemas.js';
import { OkSchema, PreviewAnswerSchema, ProgramListSchema, ProgramRecordSchema } from '../responses.js';

/** What a client sends: a program without its version, which the store assigns. */
const ProgramBodySchema = Type.Omit(ProgramSchema, ['version']);
const ParamsSchema = Type.Object({ id: ProgramIdSchema }, { additionalProperties: false });
const VersionQuerySchema = Type.Object(
  { version: Type.Optional(Type.Integer({ minimum: 1 })) },
  { additionalProperties: false },
);
const EDITORS = ['staff', 'support', 'admin'] as const;

const PreviewBodySchema = Type.Object(
  {
    program: Type.Unknown({
      description: 'a program as the editor has it (checked here, every problem listed)',
    }),
    stationId: StationIdSchema,
    pressureMmHg: Type.Optional(PressureSchema),
    cycles: Type.Optional(Type.Integer({ minimum: 1, maximum: 3 })),
  },
  { additionalProperties: false },
);

/** The cross-field rules (parseProgram's) on top of the shape the route schema checked. */
function checkProgram(body: Omit<Program, 'version'>): Program {
  const program = { ...body, version: 1 } as Program;
  const first = programProblems(program, 'body')[0];
  if (first) throw new HttpError(400, 'bad-request', `${first.path}: ${first.problem}`, first.path);
  return program;
}

export const programRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store } = app;

  app.get(
    '/api/programs',
    { schema: { tags: ['programs'], response: { 200: ProgramListSchema } } },
    async () => ({
      programs: store.programs(),
    }),
  );

  app.get(
    '/api/programs/:id',
    {
      schema: {
        tags: ['programs'],
        params: ParamsSchema,
        querystring: VersionQuerySchema,
        response: { 200: ProgramRecordSchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      const record = store.program(id, request.query.version);
      if (record === undefined || (record.deleted && request.query.version === undefined)) {
        const what =
          request.query.version === undefined
            ? `program "${id}"`
            : `version ${request.query.version} of "${id}"`;
        throw new HttpError(
          404,
          'not-found',
          `no ${what}`,
          request.query.version === undefined ? 'params.id' : 'querystring.version',
        );
      }
      return record;
    },
  );

  // The editor's live preview: the controller's planning code (plan.ts, runner.ts) on the chosen
  // station's garment and ceilings, so the refusal shown is the one a start would get.
  app.post(
    '/api/programs/preview',
    // Read-only (it changes nothing), so a viewer may see what a program would do as well.
    {
      schema: { tags: ['programs'], body: PreviewBodySchema, response: { 200: PreviewAnswerSchema } },
      preHandler: requireRole('viewer', ...EDITORS),
    },
    async (request) => {
      const { stationId, pressureMmHg, cycles } = request.body;
      const raw = request.body.program;
      const candidate =
        typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? { ...raw, version: 1 } : raw;
      const [frame] = await app.link.state(stationId);
      if (frame === undefined) {
        throw new HttpError(404, 'not-found', `no station "${stationId}"`, 'body.stationId');
      }
      const problems = programProblems(candidate, 'program', { zoneCount: frame.zones.length });
      if (problems.length > 0) return { problems, preview: null };
      const stationCeiling = app.store.stationSettings(stationId)?.ceilingMmHg;
      const ceiling = Math.min(frame.ceilingMmHg, stationCeiling ?? Infinity);
      const preview = previewProgram(
        candidate as Program,
        frame.zones.length,
        {
          ceilingMmHg: ceiling - LIMITS.regulationHeadroomMmHg.default,
          garment: frame.garment,
          ...(pressureMmHg !== undefined ? { pressureMmHg } : {}),
        },
        cycles ?? 2,
      );
      return {
        problems: [],
        preview,
        station: { id: frame.id, garment: frame.garment, ceilingMmHg: ceiling },
      };
    },
  );

  app.post(
    '/api/programs',
    {
      schema: { tags: ['programs'], body: ProgramBodySchema, response: { 201: ProgramRecordSchema } },
      preHandler: requireRole(...EDITORS),
    },
    async (request, reply) => {
      const program = checkProgram(request.body);
      const existing = store.program(program.id);
      if (existing !== undefined && !existing.deleted) {
        throw new HttpError(
          409,
          'conflict',
          `body.id: program "${program.id}" exists; PUT /api/programs/${program.id} adds a version`,
          'body.id',
        );
      }
      const saved = store.saveProgram(program, request.actor.who);
      await store.flush();
      request.auditDetail = `${saved.program.id} v${saved.program.version}`;
      return reply.code(201).send(saved);
    },
  );

  app.put(
    '/api/programs/:id',
    {
      schema: {
        tags: ['programs'],
        params: ParamsSchema,
        body: ProgramBodySchema,
        response: { 200: ProgramRecordSchema },
      },
      preHandler: requireRole(...EDITORS),
    },
    async (request) => {
      if (request.body.id !== request.params.id) {
        throw new HttpError(
          400,
          'bad-request',
          `body.id: must be "${request.params.id}" as in the URL`,
          'body.id',
        );
      }
      const program = checkProgram(request.body);
      const existing = store.program(program.id);
      if (existing === undefined || existing.deleted) {
        throw new HttpError(
          404,
          'not-found',
          `no program "${program.id}"; POST /api/programs creates one`,
          'params.id',
        );
      }
      const saved = store.saveProgram(program, request.actor.who);
      await store.flush();
      request.auditDetail = `${saved.program.id} v${saved.program.version}`;
      return saved;
    },
  );

  app.delete(
    '/api/programs/:id',
    {
      schema: { tags: ['programs'], params: ParamsSchema, response: { 200: OkSchema } },
      preHandler: requireRole(...EDITORS),
    },
    async (request) => {
      if (!store.deleteProgram(request.params.id)) {
        throw new HttpError(404, 'not-found', `no program "${request.params.id}"`, 'params.id');
      }
      await store.flush();
      return { ok: true };
    },
  );
};
