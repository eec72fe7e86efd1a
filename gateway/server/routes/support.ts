/**
 * Remote support's read-only views (support and admin):
 *
 * - GET /api/support/controller: the controller's own report (version, board, simulated or not,
 *   loop timing, and the link state of every I/O device, Modbus modules included) plus whether
 *   the web process is connected to it. /api/health keeps the short answer for pm2 and scripts.
 * - GET /api/support/config: the board profile the controller runs and the limits table, with any
 *   key that looks like a credential replaced by "[redacted]".
 * - GET /api/support/logs: a text download of the web process's recent log ring
 *   (plugins/recent-log.ts), the latest audit entries and alarm history, and the controller report.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HttpError } from '../errors.js';
import { requireRole } from '../plugins/auth.js';
import { ControllerStatusSchema, SupportConfigSchema } from '../responses.js';

const SUPPORT_ROLES = ['support', 'admin'] as const;
/**
 * Board profiles hold addresses and channels, not secrets; this is a belt for a future one that
 * does. A key that names a credential hides its value (an object under such a key is searched,
 * not dropped, so the rest of it stays readable), and a URL's user:password part is hidden
 * wherever a string holds one ("tcp://admin:secret@10.0.0.5" → "tcp://[redacted]@10.0.0.5").
 */
const SECRET_KEY = /pass|pwd|secret|token|key|credential|auth|bearer|cookie|session/i;
/** "pin", "pinCode", "admin_pin", "staffPin", but not "spin" or "pins" (GPIO pin lists). */
const PIN_KEY = /(^|[_-])(pin|Pin|PIN)(code|Code|CODE)?$|[a-z0-9]Pin(Code)?$/;
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi;
const LOG_AUDIT_ENTRIES = 500;
const LOG_ALARM_ENTRIES = 500;

const isSecretKey = (k: string) => SECRET_KEY.test(k) || PIN_KEY.test(k);

export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        isSecretKey(k) && (typeof v !== 'object' || v === null) ? '[redacted]' : redactSecrets(v),
      ]),
    );
  }
  if (typeof value === 'string') return value.replace(URL_CREDENTIALS, '$1[redacted]@');
  return value;
}

export const supportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { link } = app;

  app.get(
    '/api/support/controller',
    {
      schema: { tags: ['support'], response: { 200: ControllerStatusSchema } },
      preHandler: requireRole(...SUPPORT_ROLES),
    },
    async () => ({ connected: link.connected, info: await link.controllerInfo() }),
  );

  app.get(
    '/api/support/config',
    {
      schema: { tags: ['support'], response: { 200: SupportConfigSchema } },
      preHandler: requireRole(...SUPPORT_ROLES),
    },
    async () => {
      if (!link.connected) {
        throw new HttpError(503, 'controller-unavailable', 'the controller is not connected; try again');
      }
      const { board, limits } = await link.client.request('config', {});
      return { board: redactSecrets(board), limits };
    },
  );

  app.get(
    '/api/support/logs',
    { schema: { tags: ['support'] }, preHandler: requireRole(...SUPPORT_ROLES) },
    async (_request, reply) => {
      const info = await link.controllerInfo();
      const iso = (ms: number) => new Date(ms).toISOString();
      const audit = app.store.audit(LOG_AUDIT_ENTRIES);
      const alarms = app.store.alarms(LOG_ALARM_ENTRIES);
      const text = [
        `# Presso Gateway support log, ${new Date().toISOString()}`,
        `# controller: ${link.connected ? 'connected' : 'disconnected'}`,
        `# controller report: ${JSON.stringify(info)}`,
        '',
        `## web process: recent requests, errors and controller-link events (last ${app.recentLog.all().length})`,
        ...app.recentLog.all(),
        '',
        `## audit (newest ${audit.length})`,
        ...audit.map(
          (a) =>
            `${iso(a.atEpochMs)} ${a.who} (${a.role}) ${a.what} ${a.ok ? 'ok' : 'refused'} from ${a.from}` +
            (a.detail !== undefined ? ` — ${a.detail}` : ''),
        ),
        '',
        `## alarm history (newest ${alarms.length})`,
        ...alarms.map(
          (a) =>
            `${iso(a.raisedAtEpochMs)} ${a.priority} ${a.code} ${a.stationId ?? 'board'}` +
            `${a.zone !== undefined ? ` zone ${a.zone}` : ''} ${a.active ? 'active' : 'inactive'}` +
            `${a.latched ? ' latched' : ''} — ${a.reason}`,
        ),
        '',
      ].join('\n');
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      return reply
        .type('text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="presso-support-${stamp}.txt"`)
        .send(text);
    },
  );
};
