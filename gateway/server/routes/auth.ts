/** Login (PIN or password → cookie), logout, who am I, and the admin's user list. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { UserRecord } from '../../store/types.js';
import { HttpError } from '../errors.js';
import { type Auth, LOGIN_COOKIE, LOCKOUT_AFTER_FAILURES, requireRole } from '../plugins/auth.js';
import { hashSecret } from '../secrets.js';
import {
  ActorSchema,
  LoginResponseSchema,
  OkSchema,
  SetupInfoSchema,
  UserListSchema,
  UserViewSchema,
} from '../responses.js';

const UserIdSchema = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,39}$' });

const LoginBodySchema = Type.Object(
  {
    user: Type.String({ minLength: 1, maxLength: 60, description: 'user id or name' }),
    secret: Type.String({ minLength: 1, maxLength: 200, description: 'PIN (staff) or password' }),
  },
  { additionalProperties: false },
);

const NewUserSchema = Type.Object(
  {
    id: UserIdSchema,
    name: Type.String({ minLength: 1, maxLength: 60 }),
    role: Type.Union([
      Type.Literal('viewer'),
      Type.Literal('staff'),
      Type.Literal('support'),
      Type.Literal('admin'),
    ]),
    secret: Type.String({ minLength: 4, maxLength: 200 }),
  },
  { additionalProperties: false },
);

const UserPatchSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
    disabled: Type.Optional(Type.Boolean()),
    secret: Type.Optional(
      Type.String({ minLength: 4, maxLength: 200, description: 'a new PIN or password' }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

const TokenLoginSchema = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200, description: 'PRESSO_ADMIN_TOKEN' }) },
  { additionalProperties: false },
);

/**
 * Staff type a PIN on a wall tablet (at least minPinDigits: 6 unless an admin opted in to 4,
 * docs/security.md has the guessing times); everyone else a password that survives a guessing
 * budget.
 */
const MAX_PIN_DIGITS = 8;
const MIN_PASSWORD_CHARS = 10;

/** The PIN or password rule for a role, as an HttpError naming body.secret. */
function checkSecret(role: UserRecord['role'], secret: string, minPinDigits: number): void {
  if (role === 'staff' && !new RegExp(`^\\d{${minPinDigits},${MAX_PIN_DIGITS}}$`).test(secret)) {
    throw new HttpError(
      400,
      'bad-request',
      `body.secret: a staff PIN is ${minPinDigits} to ${MAX_PIN_DIGITS} digits`,
      'body.secret',
    );
  }
  if (role !== 'staff' && secret.length < MIN_PASSWORD_CHARS) {
    throw new HttpError(
      400,
      'bad-request',
      `body.secret: at least ${MIN_PASSWORD_CHARS} characters`,
      'body.secret',
    );
  }
}

/** What the admin's list shows of a user: never the hash; the lockout, so an admin can lift it. */
function publicUser(u: UserRecord, auth: Auth) {
  return {
    id: u.id,
    name: u.name,
    role: u.role,
    createdAtEpochMs: u.createdAtEpochMs,
    disabled: u.disabled === true,
    ...auth.lockState(u.id),
  };
}

const minutes = (ms: number) => Math.max(1, Math.ceil(ms / 60_000));

/** A login's cookie and its answer; the request is audited as the user it signed in. */
function signedIn(
  request: FastifyRequest,
  reply: FastifyReply,
  result: NonNullable<ReturnType<Auth['tokenLogin']>>,
) {
  request.actor = { who: result.login.userId, role: result.login.role };
  void reply.setCookie(LOGIN_COOKIE, result.id, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    // Under HTTPS the cookie is never sent over plain HTTP (the password and the token login alike).
    secure: request.protocol === 'https',
    expires: new Date(result.login.expiresAtEpochMs),
  });
  return {
    user: result.login.userId,
    role: result.login.role,
    expiresAtEpochMs: result.login.expiresAtEpochMs,
  };
}

const UserParamsSchema = Type.Object({ id: UserIdSchema });

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, auth } = app;

  function userOf(id: string): UserRecord {
    const user = store.userById(id);
    if (user === undefined) throw new HttpError(404, 'not-found', `no user "${id}"`, 'params.id');
    return user;
  }

  app.post(
    '/api/auth/login',
    {
      schema: { tags: ['auth'], body: LoginBodySchema, response: { 200: LoginResponseSchema } },
      config: { rateLimit: { max: app.config.loginAttemptsPerMin, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      const { user, secret } = request.body;
      const record = store.userById(user) ?? store.users().find((u) => u.name === user);
      const result = await auth.login(record, secret);
      if (!result.ok) {
        request.auditDetail = `failed login as "${user.slice(0, 60)}"`;
        request.auditKind = 'failed-auth';
        if (result.lockedUntilEpochMs !== undefined) {
          request.auditDetail += ' (locked)';
          throw new HttpError(
            429,
            'locked',
            `too many wrong PINs/passwords for this user (${LOCKOUT_AFTER_FAILURES} in a row): locked for ` +
              `${minutes(result.lockedUntilEpochMs - auth.now())} more minute(s); an admin can unlock it`,
          );
        }
        throw new HttpError(401, 'unauthorized', 'wrong user or PIN/password');
      }
      // Under HTTPS the login never travels over plain HTTP (the redirect port) again.
      return signedIn(request, reply, result);
    },
  );

  // The admin pages' first login: the token becomes an ordinary login cookie (same expiry), so the
  // browser never keeps the token itself.
  app.post(
    '/api/auth/token',
    {
      schema: { tags: ['auth'], body: TokenLoginSchema, response: { 200: LoginResponseSchema } },
      config: { rateLimit: { max: app.config.loginAttemptsPerMin, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      // The same budget as a wrong bearer token: this is guessing the same secret.
      if (auth.bearerBlocked(request.ip)) {
        throw new HttpError(
          429,
          'rate-limited',
          `too many wrong tokens from ${request.ip}: token logins are refused for the rest of the minute`,
        );
      }
      const result = auth.tokenLogin(request.body.token);
      if (result === null) {
        auth.bearerFailed(request.ip);
        request.auditDetail = 'failed admin-token login';
        request.auditKind = 'failed-auth';
        throw new HttpError(401, 'unauthorized', 'wrong admin token (or none is set: PRESSO_ADMIN_TOKEN)');
      }
      return signedIn(request, reply, result);
    },
  );

  /** What the admin pages need before a login: whether this is a first run with no users yet. */
  app.get(
    '/api/auth/setup',
    { schema: { tags: ['auth'], response: { 200: SetupInfoSchema } } },
    async () => ({
      firstRun: store.users().length === 0,
      adminToken: app.config.adminToken !== undefined,
    }),
  );

  app.post(
    '/api/auth/logout',
    { schema: { tags: ['auth'], response: { 200: OkSchema } } },
    async (request, reply) => {
      auth.logout(request.cookies[LOGIN_COOKIE]);
      void reply.clearCookie(LOGIN_COOKIE, { path: '/', secure: request.protocol === 'https' });
      return { ok: true };
    },
  );

  app.get(
    '/api/auth/me',
    { schema: { tags: ['auth'], response: { 200: ActorSchema } } },
    async (request) => request.actor,
  );

  app.get(
    '/api/users',
    { schema: { tags: ['auth'], response: { 200: UserListSchema } }, preHandler: requireRole('admin') },
    async () => ({
      users: store.users().map((u) => publicUser(u, auth)),
    }),
  );

  app.post(
    '/api/users/:id/unlock',
    {
      schema: {
        tags: ['auth'],
        params: UserParamsSchema,
        response: { 200: UserViewSchema },
      },
      preHandler: requireRole('admin'),
    },
    async (request) => {
      const user = userOf(request.params.id);
      const before = auth.lockState(user.id);
      auth.unlock(user.id);
      request.auditDetail = `unlocked after ${before.failedLogins} wrong secret(s)`;
      return publicUser(user, auth);
    },
  );

  app.post(
    '/api/users',
    {
      schema: { tags: ['auth'], body: NewUserSchema, response: { 201: UserViewSchema } },
      preHandler: requireRole('admin'),
    },
    async (request, reply) => {
      const b = request.body;
      if (store.userById(b.id) !== undefined) {
        throw new HttpError(409, 'conflict', `body.id: user "${b.id}" exists`, 'body.id');
      }
      checkSecret(b.role, b.secret, app.config.minPinDigits);
      const user: UserRecord = {
        id: b.id,
        name: b.name,
        role: b.role,
        secretHash: await hashSecret(b.secret),
        createdAtEpochMs: Date.now(),
      };
      store.putUser(user);
      await store.flush();
      return reply.code(201).send(publicUser(user, auth));
    },
  );

  app.patch(
    '/api/users/:id',
    {
      schema: {
        tags: ['auth'],
        params: UserParamsSchema,
        body: UserPatchSchema,
        response: { 200: UserViewSchema },
      },
      preHandler: requireRole('admin'),
    },
    async (request) => {
      const user = userOf(request.params.id);
      const b = request.body;
      if (b.secret !== undefined) checkSecret(user.role, b.secret, app.config.minPinDigits);
      const next: UserRecord = {
        ...user,
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.disabled !== undefined ? { disabled: b.disabled } : {}),
        ...(b.secret !== undefined ? { secretHash: await hashSecret(b.secret) } : {}),
      };
      store.putUser(next);
      // A disabled account or a changed secret ends the user's logins at once.
      if (b.disabled === true || b.secret !== undefined) auth.forget(user.id);
      await store.flush();
      request.auditDetail = [
        b.disabled === true ? 'disabled' : b.disabled === false ? 'enabled' : '',
        b.secret !== undefined ? (user.role === 'staff' ? 'PIN reset' : 'password reset') : '',
        b.name !== undefined ? 'renamed' : '',
      ]
        .filter(Boolean)
        .join(', ');
      return publicUser(next, auth);
    },
  );

  app.delete(
    '/api/users/:id',
    {
      schema: { tags: ['auth'], params: UserParamsSchema, response: { 200: OkSchema } },
      preHandler: requireRole('admin'),
    },
    async (request) => {
      if (!store.deleteUser(request.params.id)) {
        throw new HttpError(404, 'not-found', `no user "${request.params.id}"`, 'params.id');
      }
      auth.forget(request.params.id);
      await store.flush();
      return { ok: true };
    },
  );
};
