/**
 * The web process's Fastify app, built from its parts. main.ts runs it; tests build it on port 0
 * against a real controller. The caller owns the store and the controller client (opens, connects
 * and closes them); everything the app opens itself (Socket.IO, timers, listeners) it releases in
 * its onClose/preClose hooks.
 */
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { registerAjvFormats, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import helmet from 'helmet';
import type { ControllerClient } from '../ipc/client.js';
import type { Store } from '../store/types.js';
import type { ServerConfig } from './config.js';
import { isRead } from './methods.js';
import type { ClockWatch } from './clock-state.js';
import type { TlsFiles } from './https.js';
import { clockPlugin } from './plugins/clock.js';
import { installErrorHandler } from './errors.js';
import { auditPlugin } from './plugins/audit.js';
import { centrePlugin } from './plugins/centre.js';
import { authPlugin } from './plugins/auth.js';
import { configPlugin } from './plugins/config.js';
import { controllerLinkPlugin } from './plugins/controller-link.js';
import { livePlugin } from './plugins/live.js';
import { type NotificationOptions, notificationsPlugin } from './plugins/notifications.js';
import { privacyJobPlugin } from './plugins/privacy-job.js';
import { recentLogPlugin } from './plugins/recent-log.js';
import { requestGuardPlugin } from './plugins/request-guard.js';
import { storePlugin } from './plugins/store.js';
import { alarmRoutes } from './routes/alarms.js';
import { centreRoutes } from './routes/centre.js';
import { authRoutes } from './routes/auth.js';
import { clientRoutes } from './routes/clients.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { healthRoutes } from './routes/health.js';
import { maintenanceRoutes } from './routes/maintenance.js';
import { notificationRoutes } from './routes/notifications.js';
import { programRoutes } from './routes/programs.js';
import { sessionRoutes } from './routes/sessions.js';
import { simRoutes } from './routes/sim.js';
import { stationCommandRoutes } from './routes/station-commands.js';
import { stationStartRoutes } from './routes/station-start.js';
import { stationRoutes } from './routes/stations.js';
import { supportRoutes } from './routes/support.js';

export interface BuildServerOptions {
  config: ServerConfig;
  /** Opened by the caller. */
  store: Store;
  /** Connected (or connecting with { retry: true }) by the caller. */
  controller: ControllerClient;
  logger?: FastifyServerOptions['logger'];
  now?: () => number;
  /** Serve HTTPS with this certificate and key (https.ts); absent = plain HTTP. */
  https?: TlsFiles;
  /** Whether the wall clock is synchronised (started by the caller); absent = unknown. */
  clockWatch?: ClockWatch;
  /** Send timeout, retry back-off and controller-lost delay of staff notifications (tests shorten them). */
  notifications?: NotificationOptions;
}

/** A read that took this long is logged like a command (docs/deploy.md, "Logs"). */
export const SLOW_REQUEST_MS = 1000;

/**
 * Fastify logs two lines per request. At a busy centre the reads (boards poll) were most of the
 * journal and a sixth of the web process's CPU (docs/benchmarks.md), so one line per request goes
 * to the journal, when it completes, and only for a command (anything but a read), a refusal or
 * error (status 400 and above) or a read slower than SLOW_REQUEST_MS. Every request, reads
 * included, is still in the support page's ring (plugins/recent-log.ts); commands are also audited.
 * Fastify's other lines (errors in handlers, unknown routes) are untouched.
 */
class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (!error && isRead(request.method) && reply.statusCode < 400 && reply.elapsedTime < SLOW_REQUEST_MS)
      return;
    // The request itself is in the line: without the incoming line it would be missing.
    if (error)
      reply.log.error(
        { req: request, res: reply, err: error, responseTime: reply.elapsedTime },
        'request errored',
      );
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

/** Bodies are small JSON (a program is < 2 KB); anything larger is a mistake or an attack. */
const BODY_LIMIT_BYTES = 64 * 1024;

// TypeBox's own validator: unlike Fastify's default Ajv setup it neither strips unknown keys nor
// coerces body types, so a typo is an error that names the field, never a silent default.
registerAjvFormats();

export async function buildServer(opts: BuildServerOptions): Promise<FastifyInstance> {
  const now = opts.now ?? Date.now;
  const common = {
    logger: opts.logger ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    // Reject a request that hangs rather than hold the Pi's memory for it.
    requestTimeout: 30_000,
    logController: new RequestLog(),
  };
  // Under HTTPS Fastify's instance is typed for an https.Server; routes, hooks, Socket.IO and
  // request.protocol work the same on it, so the rest of the app keeps the one type.
  const app = opts.https
    ? (Fastify({
        ...common,
        https: { cert: opts.https.cert, key: opts.https.key },
      }) as unknown as FastifyInstance)
    : Fastify(common);
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  installErrorHandler(app);

  // A command with nothing to add (stop, acknowledge) may come without a body; its schema then
  // sees an empty object, so optional fields stay optional and unknown ones are still refused.
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.body === undefined && !isRead(request.method)) request.body = {};
    done();
  });

  // Helmet's security headers on every answer. Built once here: @fastify/helmet rebuilt the
  // middleware (parsing the CSP) on every request, a twentieth of the web process's CPU per read.
  const securityHeaders = helmet({
    // The dashboard and /docs serve their own scripts and styles from this origin only.
    contentSecurityPolicy: {
      directives: {
        'script-src': ["'self'"],
        'style-src': ["'self'", 'https:', "'unsafe-inline'"],
        // Plain HTTP is still served (loopback, the simulator, sites without HTTPS): upgrading
        // its own script requests to https would leave such a page blank.
        'upgrade-insecure-requests': null,
      },
    },
  });
  app.addHook('onRequest', (request, reply, done) =>
    securityHeaders(request.raw, reply.raw, (err) => done(err as Error | undefined)),
  );
  await app.register(cookie);
  // Only routes that opt in (login) are limited; stop must never be rate-limited.
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Presso Gateway API', version: '1' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'presso_login' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  await app.register(configPlugin, { config: opts.config });
  await app.register(clockPlugin, opts.clockWatch ? { clockWatch: opts.clockWatch } : {});
  await app.register(requestGuardPlugin);
  await app.register(storePlugin, { store: opts.store });
  await app.register(controllerLinkPlugin, { client: opts.controller, now });
  await app.register(auditPlugin, { now });
  await app.register(authPlugin, { now });
  await app.register(livePlugin);
  await app.register(recentLogPlugin, { now });
  await app.register(privacyJobPlugin, { now });
  await app.register(notificationsPlugin, { now, options: opts.notifications ?? {} });
  await app.register(centrePlugin);

  await app.register(healthRoutes);
  await app.register(authRoutes);
  await app.register(stationRoutes);
  await app.register(stationStartRoutes);
  await app.register(stationCommandRoutes);
  await app.register(programRoutes);
  await app.register(sessionRoutes);
  await app.register(alarmRoutes);
  await app.register(maintenanceRoutes);
  await app.register(simRoutes);
  await app.register(supportRoutes);
  await app.register(clientRoutes);
  await app.register(notificationRoutes);
  await app.register(centreRoutes);
  await app.register(dashboardRoutes);
  return app;
}
