/** GET /api/health: what pm2, a support script or the dashboard's banner needs at a glance. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { PACKAGE_ROOT } from '../../paths.js';

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

const HealthSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  controller: Type.Union([Type.Literal('connected'), Type.Literal('disconnected')]),
  version: Type.String(),
  uptimeS: Type.Number(),
  loop: Type.Union([
    Type.Object({ periodMs: Type.Number(), latenessP99Ms: Type.Number() }),
    Type.Null({ description: 'before the controller has ever answered' }),
  ]),
  unacknowledged: Type.Array(Type.String(), {
    description:
      "codes of the web process's own alarms waiting for acknowledgement (e.g. database-recovered)",
  }),
  clock: Type.Object(
    {
      synchronized: Type.Union([Type.Boolean(), Type.Null()], {
        description: 'NTP-synchronised; null when this machine cannot tell',
      }),
      source: Type.String(),
      lastJump: Type.Union([Type.Object({ atEpochMs: Type.Number(), byMs: Type.Number() }), Type.Null()]),
    },
    {
      description:
        'the wall clock (gateway/server/clock-state.ts): records made while unsynchronised are marked',
    },
  ),
});

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const version = packageVersion();
  const startedAt = performance.now();
  app.get('/api/health', { schema: { tags: ['health'], response: { 200: HealthSchema } } }, async () => {
    const connected = app.link.connected;
    const info = await app.link.controllerInfo();
    // A restored database is degraded until a person has looked at what came back.
    const unacknowledged = app.webAlarms.active().map((a) => a.code);
    return {
      status: connected && unacknowledged.length === 0 ? ('ok' as const) : ('degraded' as const),
      controller: connected ? ('connected' as const) : ('disconnected' as const),
      version,
      uptimeS: Math.round((performance.now() - startedAt) / 1000),
      loop: info ? { periodMs: info.loop.periodMs, latenessP99Ms: info.loop.latenessP99Ms } : null,
      unacknowledged,
      clock: (({ synchronized, source, lastJump }) => ({ synchronized, source, lastJump }))(
        app.clockWatch.state(),
      ),
    };
  });
};
