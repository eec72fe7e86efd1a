/**
 * Client records (staff and admin; docs/privacy.md), their export and erasure, and the privacy
 * settings (admin):
 *
 * - GET /api/clients?q=: records by name, without screening answers (a list is never audited);
 * - POST /api/clients, PUT /api/clients/:id: name, own ceiling, preferred program, notes, consent,
 *   and optionally a screening answered now;
 * - GET /api/clients/:id: the record with its screening answers (the read is audited);
 * - GET /api/clients/:id/export: everything stored about the client (audited);
 * - DELETE /api/clients/:id: erasure (the store anonymises their sessions everywhere);
 * - GET/PUT /api/settings/privacy: retention and screening age in days.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { LIMITS } from '../../limits.js';
import type { ClientRecord, ClientScreening } from '../../store/types.js';
import { HttpError } from '../errors.js';
import { requireRole } from '../plugins/auth.js';
import { CLIENT_READERS, screeningDue } from '../privacy.js';
import { ProgramIdSchema } from '../schemas.js';
import {
  ClientDetailSchema,
  ClientExportSchema,
  ClientListSchema,
  ClientSummarySchema,
  ErasureResponseSchema,
  PrivacySettingsSchema,
} from '../responses.js';
import { evaluateScreening } from '../screening.js';

/** Client ids are made here (random UUIDs): they carry nothing about the person. */
const ClientParamsSchema = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
export const ScreeningBodySchema = Type.Record(Type.String({ maxLength: 40 }), Type.Boolean(), {
  maxProperties: 32,
  description: 'question id → answer (GET /api/screening lists them)',
});
const ClientBodySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 80 }),
    ceilingMmHg: Type.Optional(
      Type.Number({
        minimum: LIMITS.stationCeilingMmHg.min,
        maximum: LIMITS.stationCeilingMmHg.max,
        description: "[mmHg] the client's own limit; every session of theirs runs under it",
      }),
    ),
    preferredProgramId: Type.Optional(ProgramIdSchema),
    notes: Type.Optional(Type.String({ maxLength: 2000 })),
    consentTextVersion: Type.String({
      minLength: 1,
      maxLength: 40,
      description: 'version of the consent text the client agreed to (dated now when it changes)',
    }),
    screening: Type.Optional(ScreeningBodySchema),
  },
  { additionalProperties: false },
);
const ListQuerySchema = Type.Object(
  { q: Type.Optional(Type.String({ maxLength: 80, description: 'part of the name, any case' })) },
  { additionalProperties: false },
);
const PrivacyBodySchema = Type.Object(
  {
    retentionDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
    screeningMaxAgeDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
    consentTextVersion: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** A screening answered now, checked like the walk-up one; kept even when it blocks. */
export function screeningNow(
  answers: Record<string, boolean>,
  nowEpochMs: number,
): { record: ClientScreening; blockedMessage?: string; field?: string } {
  const outcome = evaluateScreening(answers);
  if (outcome.ok) return { record: { ...outcome.record, atEpochMs: nowEpochMs } };
  if (outcome.record === undefined) throw new HttpError(400, 'bad-request', outcome.message, outcome.field);
  return {
    record: { ...outcome.record, atEpochMs: nowEpochMs },
    blockedMessage: outcome.message,
    field: outcome.field,
  };
}

export const clientRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store } = app;
  const readers = requireRole(...CLIENT_READERS);
  const now = () => app.clock();

  function found(id: string): ClientRecord {
    const c = store.client(id);
    if (c === undefined) throw new HttpError(404, 'not-found', `no client "${id}"`, 'params.id');
    return c;
  }

  /** A list row: enough to pick the client at a start, never the answers. */
  function summary(c: ClientRecord) {
    const { screening, ...rest } = c;
    const due = screeningDue(c, store.privacySettings(), now());
    return {
      ...rest,
      ...(screening !== undefined ? { screeningAtEpochMs: screening.atEpochMs } : {}),
      screeningDue: due !== undefined,
      ...(due !== undefined ? { screeningDueReason: due } : {}),
    };
  }

  function checkProgram(id: string | undefined): void {
    if (id === undefined) return;
    const p = store.program(id);
    if (p === undefined || p.deleted)
      throw new HttpError(
        400,
        'bad-request',
        `body.preferredProgramId: no program "${id}"`,
        'body.preferredProgramId',
      );
  }

  app.get(
    '/api/clients',
    {
      schema: { tags: ['clients'], querystring: ListQuerySchema, response: { 200: ClientListSchema } },
      preHandler: readers,
    },
    async (request) => {
      const q = request.query.q?.trim().toLocaleLowerCase();
      const list = store.clients().filter((c) => !q || c.name.toLocaleLowerCase().includes(q));
      // The consent version goes with the list: the start dialog's "new client" records it.
      return { clients: list.map(summary), consentTextVersion: store.privacySettings().consentTextVersion };
    },
  );

  app.post(
    '/api/clients',
    {
      schema: { tags: ['clients'], body: ClientBodySchema, response: { 201: ClientSummarySchema } },
      preHandler: readers,
    },
    async (request, reply) => {
      const b = request.body;
      checkProgram(b.preferredProgramId);
      const at = now();
      const screening = b.screening !== undefined ? screeningNow(b.screening, at).record : undefined;
      const client: ClientRecord = {
        id: randomUUID(),
        name: b.name.trim(),
        ...(b.ceilingMmHg !== undefined ? { ceilingMmHg: b.ceilingMmHg } : {}),
        ...(b.preferredProgramId !== undefined ? { preferredProgramId: b.preferredProgramId } : {}),
        ...(b.notes !== undefined ? { notes: b.notes } : {}),
        consent: { atEpochMs: at, textVersion: b.consentTextVersion },
        ...(screening !== undefined ? { screening } : {}),
        createdAtEpochMs: at,
        updatedAtEpochMs: at,
      };
      store.putClient(client);
      await store.flush();
      // The audit names the record, never the person.
      request.auditDetail = `client ${client.id}`;
      return reply.code(201).send(summary(client));
    },
  );

  app.get(
    '/api/clients/:id',
    {
      schema: { tags: ['clients'], params: ClientParamsSchema, response: { 200: ClientDetailSchema } },
      preHandler: readers,
    },
    async (request) => {
      const c = found(request.params.id);
      if (c.screening !== undefined) request.auditRead = `screening answers of client ${c.id}`;
      return { ...summary(c), ...(c.screening !== undefined ? { screening: c.screening } : {}) };
    },
  );

  app.put(
    '/api/clients/:id',
    {
      schema: {
        tags: ['clients'],
        params: ClientParamsSchema,
        body: ClientBodySchema,
        response: { 200: ClientSummarySchema },
      },
      preHandler: readers,
    },
    async (request) => {
      const old = found(request.params.id);
      const b = request.body;
      checkProgram(b.preferredProgramId);
      const at = now();
      const screening = b.screening !== undefined ? screeningNow(b.screening, at).record : old.screening;
      const client: ClientRecord = {
        id: old.id,
        name: b.name.trim(),
        ...(b.ceilingMmHg !== undefined ? { ceilingMmHg: b.ceilingMmHg } : {}),
        ...(b.preferredProgramId !== undefined ? { preferredProgramId: b.preferredProgramId } : {}),
        ...(b.notes !== undefined ? { notes: b.notes } : {}),
        consent:
          old.consent?.textVersion === b.consentTextVersion
            ? old.consent
            : { atEpochMs: at, textVersion: b.consentTextVersion },
        ...(screening !== undefined ? { screening } : {}),
        createdAtEpochMs: old.createdAtEpochMs,
        updatedAtEpochMs: at,
      };
      store.putClient(client);
      await store.flush();
      request.auditDetail = `client ${client.id}`;
      return summary(client);
    },
  );

  app.delete(
    '/api/clients/:id',
    {
      schema: { tags: ['clients'], params: ClientParamsSchema, response: { 200: ErasureResponseSchema } },
      preHandler: readers,
    },
    async (request) => {
      const result = await store.eraseClient(request.params.id);
      if (result === undefined)
        throw new HttpError(404, 'not-found', `no client "${request.params.id}"`, 'params.id');
      request.auditDetail =
        `erased client ${result.clientId}: ${result.sessionsAnonymised} session(s) anonymised, ` +
        `${result.filesRewritten} file(s) rewritten`;
      return { ok: true, ...result };
    },
  );

  app.get(
    '/api/clients/:id/export',
    {
      schema: { tags: ['clients'], params: ClientParamsSchema, response: { 200: ClientExportSchema } },
      preHandler: readers,
    },
    async (request, reply) => {
      const c = found(request.params.id);
      request.auditRead = `export of client ${c.id}`;
      const sessions = await Promise.all(
        (await store.sessions())
          .filter((s) => s.clientId === c.id)
          .map(async (s) => (await store.session(s.id)) ?? s),
      );
      const audit = await store.auditMatching(
        (a) => a.what.includes(c.id) || (a.detail ?? '').includes(c.id),
      );
      void reply.header('content-disposition', `attachment; filename="client-${c.id}.json"`);
      return {
        exportedAtEpochMs: now(),
        about:
          'Everything this gateway stores about the client: the record, every session with its ' +
          'screening answers and pressure report, and the audit entries that name the record.',
        client: c,
        sessions,
        audit,
      };
    },
  );

  app.get(
    '/api/settings/privacy',
    {
      schema: { tags: ['clients'], response: { 200: PrivacySettingsSchema } },
      preHandler: requireRole('admin'),
    },
    async () => store.privacySettings(),
  );

  app.put(
    '/api/settings/privacy',
    {
      schema: { tags: ['clients'], body: PrivacyBodySchema, response: { 200: PrivacySettingsSchema } },
      preHandler: requireRole('admin'),
    },
    async (request) => {
      const settings = { ...store.privacySettings(), ...request.body };
      store.putPrivacySettings(settings);
      await store.flush();
      return settings;
    },
  );
};
