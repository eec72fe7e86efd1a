/**
 * The dashboard's built files (dashboard/dist, made by `npm run build:dashboard`; `npm start`
 * builds it when it is missing or stale). The single-page app owns its paths: `/` (staff board),
 * `/station/:id` (walk-up page) and `/support` all answer index.html. /api, /docs and /socket.io
 * are other routes and never reach this file.
 *
 * Whether the build exists is checked per request, not at start: a web process started before
 * the first build (or during a rebuild) answers 503 with what to do, and serves the app once it
 * is there, without a restart.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { PACKAGE_ROOT } from '../../paths.js';

export const DASHBOARD_DIST = join(PACKAGE_ROOT, 'dashboard', 'dist');
const SPA_PATHS = ['/', '/station/:id', '/support', '/admin', '/admin/:page'];
/** Vite names assets by content hash, so a cached copy can never be the wrong one. */
const ASSET_MAX_AGE_MS = 365 * 24 * 3600 * 1000;

export const NOT_BUILT_MESSAGE =
  'The dashboard has not been built yet. Run `npm run build:dashboard` (or `npm start`, which builds ' +
  'it when needed), then reload this page. The API is available meanwhile under /api and /docs.';

export const dashboardRoutes: FastifyPluginAsync<{ dist?: string }> = async (app, opts) => {
  const dist = opts.dist ?? DASHBOARD_DIST;
  await app.register(fastifyStatic, {
    root: join(dist, 'assets'),
    prefix: '/assets/',
    serveDotFiles: false,
    index: false,
    immutable: true,
    maxAge: ASSET_MAX_AGE_MS,
  });

  const sendIndex = async (reply: FastifyReply) => {
    if (!existsSync(join(dist, 'index.html'))) {
      return reply.code(503).type('text/plain; charset=utf-8').send(NOT_BUILT_MESSAGE);
    }
    // index.html names the current hashed assets: never let a tablet keep an old one.
    return reply.header('cache-control', 'no-cache').sendFile('index.html', dist, { cacheControl: false });
  };
  for (const path of SPA_PATHS) {
    app.get(path, { schema: { hide: true } }, async (_request, reply) => sendIndex(reply));
  }
  // Browsers ask for it on every page; answering keeps the console free of a 404.
  app.get('/favicon.ico', { schema: { hide: true } }, async (_request, reply) => reply.code(204).send());
};
