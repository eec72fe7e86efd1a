/** Login (PIN or password → cookie), logout, who am I, and the admin's user list. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { UserRecord } from '../../store/types.js';
import { HttpError } from '../errors.js';
import { LOGIN_COOKIE, requireRole } from '../plugins/auth.js';
import { hashSecret } from '../secrets.js';
import { ActorSchema } from '../responses.js';

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

/** Staff type a PIN on a wall tablet; everyone else a password that survives a guessing budget. */
const PIN_PATTERN = /^\d{4,8}$/;
const MIN_PASSWORD_CHARS = 10;

/** The PIN or password rule for a role, as an HttpError naming body.secret. */
function checkSecret(role: UserRecord['role'], secret: string): void {
  if (role === 'staff' && !PIN_PATTERN.test(secret)) {
    throw new HttpError(400, 'bad-request', 'body.secret: a staff PIN is 4 to 8 digits', 'body.secret');
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

function publicUser(u: UserRecord) {
  return {
    id: u.id,
    name: u.name,
    role: u.role,
    createdAtEpochMs: u.createdAtEpochMs,
    disabled: u.disabled === true,
  };
}

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, auth } = app;

  app.post(
    '/api/auth/login',
    {
      schema: { tags: ['auth'], body: LoginBodySchema },
      config: { rateLimit: { max: app.config.loginAttemptsPerMin, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      const { user, secret } = request.body;
      const record = store.userById(user) ?? store.users().find((u) => u.name === user);
      const result = await auth.login(record, secret);
      if (result === null) {
        request.auditDetail = `failed login as "${user.slice(0, 60)}"`;
        throw new HttpError(401, 'unauthorized', 'wrong user or PIN/password');
      }
      request.actor = { who: result.login.userId, role: result.login.role };
      void reply.setCookie(LOGIN_COOKIE, result.id, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        // Under HTTPS the login never travels over plain HTTP (the redirect port) again.
        secure: request.protocol === 'https',
        expires: new Date(result.login.expiresAtEpochMs),
      });
      return {
        user: result.login.userId,
        role: result.login.role,
        expiresAtEpochMs: result.login.expiresAtEpochMs,
      };
    },
  );

  // The admin pages' first login: the token becomes an ordinary login cookie (same expiry), so the
  // browser never keeps the token itself.
  app.post(
    '/api/auth/token',
    {
      schema: { tags: ['auth'], body: TokenLoginSchema },
      config: { rateLimit: { max: app.config.loginAttemptsPerMin, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      const result = auth.tokenLogin(request.body.token);
      if (result === null) {
        request.auditDetail = 'failed admin-token login';
        throw new HttpError(401, 'unauthorized', 'wrong admin token (or none is set: PRESSO_ADMIN_TOKEN)');
      }
      request.actor = { who: result.login.userId, role: result.login.role };
      void reply.setCookie(LOGIN_COOKIE, result.id, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        expires: new Date(result.login.expiresAtEpochMs),
      });
      return {
        user: result.login.userId,
        role: result.login.role,
        expiresAtEpochMs: result.login.expiresAtEpochMs,
      };
    },
  );

  /** What the admin pages need before a login: whether this is a first run with no users yet. */
  app.get('/api/auth/setup', { schema: { tags: ['auth'] } }, async () => ({
    firstRun: store.users().length === 0,
    adminToken: app.config.adminToken !== undefined,
  }));

  app.post('/api/auth/logout', { schema: { tags: ['auth'] } }, async (request, reply) => {
    auth.logout(request.cookies[LOGIN_COOKIE]);
    void reply.clearCookie(LOGIN_COOKIE, { path: '/', secure: request.protocol === 'https' });
    return { ok: true };
  });

  app.get(
    '/api/auth/me',
    { schema: { tags: ['auth'], response: { 200: ActorSchema } } },
    async (request) => request.actor,
  );

  app.get('/api/users', { schema: { tags: ['auth'] }, preHandler: requireRole('admin') }, async () => ({
    users: store.users().map(publicUser),
  }));

  app.post(
    '/api/users',
    { schema: { tags: ['auth'], body: NewUserSchema }, preHandler: requireRole('admin') },
    async (request, reply) => {
      const b = request.body;
      if (store.userById(b.id) !== undefined) {
        throw new HttpError(409, 'conflict', `body.id: user "${b.id}" exists`, 'body.id');
      }
      checkSecret(b.role, b.secret);
      const user: UserRecord = {
        id: b.id,
        name: b.name,
        role: b.role,
        secretHash: await hashSecret(b.secret),
        createdAtEpochMs: Date.now(),
      };
      store.putUser(user);
      await store.flush();
      return reply.code(201).send(publicUser(user));
    },
  );

  app.patch(
    '/api/users/:id',
    {
      schema: { tags: ['auth'], params: Type.Object({ id: UserIdSchema }), body: UserPatchSchema },
      preHandler: requireRole('admin'),
    },
    async (request) => {
      const user = store.userById(request.params.id);
      if (user === undefined) {
        throw new HttpError(404, 'not-found', `no user "${request.params.id}"`, 'params.id');
      }
      const b = request.body;
      if (b.secret !== undefined) checkSecret(user.role, b.secret);
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
      return publicUser(next);
    },
  );

  app.delete(
    '/api/users/:id',
    {
      schema: { tags: ['auth'], params: Type.Object({ id: UserIdSchema }) },
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
