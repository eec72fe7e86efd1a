/**
 * Staff notification settings (admin) and their delivery state (support, admin):
 *
 * - GET /api/settings/notifications: language and channels, secrets replaced by `secretSet`;
 * - PUT /api/settings/notifications: the whole list; a channel sent without `secret` keeps the one
 *   stored for the same id and kind, `"secret": null` removes it;
 * - POST /api/settings/notifications/test {channelId}: sends a test message now and answers with
 *   what the receiver said;
 * - GET /api/support/notifications: per channel queued, sent, dropped, last error, failing or not.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { NOTIFY_EVENTS, type NotificationChannel, type NotificationSettings } from '../../store/types.js';
import { HttpError } from '../errors.js';
import { requireRole } from '../plugins/auth.js';
import {
  ChannelStatusListSchema,
  NotificationSettingsViewSchema,
  OkSchema,
  type NotificationSettingsView,
} from '../responses.js';

const ChannelIdSchema = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,39}$' });
const UrlSchema = Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 500 });
const SecretSchema = Type.Optional(
  Type.Union([Type.String({ minLength: 1, maxLength: 500 }), Type.Null()], {
    description: 'omit to keep the stored one, null to remove it; never returned',
  }),
);
const common = {
  id: ChannelIdSchema,
  enabled: Type.Boolean(),
  events: Type.Array(Type.Union(NOTIFY_EVENTS.map((e) => Type.Literal(e))), {
    uniqueItems: true,
    maxItems: NOTIFY_EVENTS.length,
  }),
  internal: Type.Boolean({ description: 'the centre’s own staff only: messages may name the client' }),
};
const ChannelSchema = Type.Union([
  Type.Object(
    { ...common, kind: Type.Literal('webhook'), url: UrlSchema, secret: SecretSchema },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      ...common,
      kind: Type.Literal('ntfy'),
      server: UrlSchema,
      topic: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
      secret: SecretSchema,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      ...common,
      kind: Type.Literal('email'),
      host: Type.String({ minLength: 1, maxLength: 253 }),
      port: Type.Integer({ minimum: 1, maximum: 65535 }),
      tls: Type.Boolean(),
      user: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      secret: SecretSchema,
      from: Type.String({ format: 'email', maxLength: 200 }),
      to: Type.Array(Type.String({ format: 'email', maxLength: 200 }), { minItems: 1, maxItems: 20 }),
    },
    { additionalProperties: false },
  ),
]);
const SettingsBodySchema = Type.Object(
  {
    language: Type.Union([Type.Literal('en'), Type.Literal('de')]),
    channels: Type.Array(ChannelSchema, { maxItems: 20 }),
  },
  { additionalProperties: false },
);
const TestBodySchema = Type.Object({ channelId: ChannelIdSchema }, { additionalProperties: false });

/** Settings as GET shows them: every secret replaced by whether one is set. */
export function publicSettings(s: NotificationSettings): NotificationSettingsView {
  return {
    language: s.language,
    channels: s.channels.map((c) => {
      const { secret, ...rest } = c;
      return { ...rest, secretSet: secret !== undefined };
    }),
  };
}

function withSecrets(
  body: Static<typeof SettingsBodySchema>,
  old: NotificationSettings,
): NotificationSettings {
  return {
    language: body.language,
    channels: body.channels.map((c): NotificationChannel => {
      const { secret, ...rest } = c;
      const kept = old.channels.find((o) => o.id === c.id && o.kind === c.kind)?.secret;
      const next = secret === null ? undefined : (secret ?? kept);
      return { ...rest, ...(next !== undefined ? { secret: next } : {}) } as NotificationChannel;
    }),
  };
}

export const notificationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store } = app;

  app.get(
    '/api/settings/notifications',
    {
      schema: { tags: ['notifications'], response: { 200: NotificationSettingsViewSchema } },
      preHandler: requireRole('admin'),
    },
    async () => publicSettings(store.notificationSettings()),
  );

  app.put(
    '/api/settings/notifications',
    {
      schema: {
        tags: ['notifications'],
        body: SettingsBodySchema,
        response: { 200: NotificationSettingsViewSchema },
      },
      preHandler: requireRole('admin'),
    },
    async (request) => {
      const body = request.body;
      for (const [i, c] of body.channels.entries()) {
        if (body.channels.findIndex((x) => x.id === c.id) !== i) {
          throw new HttpError(
            400,
            'bad-request',
            `body.channels[${i}].id: "${c.id}" is used twice`,
            `body.channels[${i}].id`,
          );
        }
        if (c.kind === 'email' && c.user === undefined && typeof c.secret === 'string') {
          throw new HttpError(
            400,
            'bad-request',
            `body.channels[${i}].user: a password needs a user name`,
            `body.channels[${i}].user`,
          );
        }
      }
      const settings = withSecrets(body, store.notificationSettings());
      store.putNotificationSettings(settings);
      await store.flush();
      app.notifications.notifier.settingsChanged();
      return publicSettings(settings);
    },
  );

  app.post(
    '/api/settings/notifications/test',
    {
      schema: { tags: ['notifications'], body: TestBodySchema, response: { 200: OkSchema } },
      preHandler: requireRole('admin'),
    },
    async (request) => {
      const channel = store.notificationSettings().channels.find((c) => c.id === request.body.channelId);
      if (channel === undefined) {
        throw new HttpError(
          404,
          'not-found',
          `body.channelId: no channel "${request.body.channelId}"`,
          'body.channelId',
        );
      }
      try {
        await app.notifications.notifier.test(channel, app.notifications.noticeFor('test', null));
      } catch (e) {
        throw new HttpError(502, 'send-failed', `channel ${channel.id}: ${(e as Error).message}`);
      }
      return { ok: true };
    },
  );

  app.get(
    '/api/support/notifications',
    {
      schema: { tags: ['support'], response: { 200: ChannelStatusListSchema } },
      preHandler: requireRole('support', 'admin'),
    },
    async () => ({ channels: app.notifications.notifier.status() }),
  );
};
