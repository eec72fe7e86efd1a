/**
 * Fuzz campaign: requests generated with fast-check against every route the API documents (read
 * from the server's own OpenAPI description, so a new route is fuzzed without being listed here),
 * under every role (anonymous, viewer, staff, support, admin by cookie, the admin token, a forged
 * cookie), with path parameters that are sometimes real ids, query strings and bodies that are
 * sometimes well-formed and mostly not. Against the real controller (the server tests' harness).
 *
 * Verdicts per request: no 5xx; the server still answers; and a refused request (4xx) changed
 * nothing: the store's sessions, programs, settings and users and the controller's stations are
 * compared before and after (test-support/state-snapshot.ts, as fuzz.test.ts does). An accepted
 * request that changes the board (a start, an injected fault) is undone before the next one, so
 * each starts from an idle board.
 */
import fc from 'fast-check';
import { ADMIN_TOKEN, readyBoard, startHarness } from '../../gateway/server/test-support/harness.js';
import { stateSnapshot as snapshot } from '../../gateway/server/test-support/state-snapshot.js';

export interface FuzzCounts {
  requests: number;
  seed: number;
  routes: number;
  byRole: Record<string, number>;
  byStatusClass: Record<string, number>;
  serverErrors: number;
  stateChangedWhenRefused: number;
  accepted: number;
  failures: string[];
  durationS: number;
}

const STATIONS = ['bay-1', 'bay-2', 'bay-3', 'lounge-1'];
const PROGRAMS = ['leg-circulation', 'leg-relaxation', 'arm-circulation'];

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
interface Route {
  method: Method;
  path: string;
}

const anyJson = fc.anything({ maxDepth: 2 });
const number = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double(),
  fc.constantFrom(0, 20, 40, 60, 120, 121, 1e9),
);
const paramValue = (name: string) =>
  fc.oneof(
    name === 'id' ? fc.constantFrom(...STATIONS, ...PROGRAMS, 'fuzz-user', 'a1') : fc.constant('x'),
    fc.string({ maxLength: 70 }),
  );
/** A body that is sometimes shaped like what the API takes, mostly not. */
const body = fc.oneof(
  anyJson,
  fc.record(
    {
      programId: fc.oneof(fc.constantFrom(...PROGRAMS), fc.string({ maxLength: 40 })),
      pressureMmHg: fc.oneof(number, anyJson),
      durationMin: fc.oneof(number, anyJson),
      client: fc.oneof(fc.string({ maxLength: 100 }), anyJson),
      screening: fc.oneof(fc.dictionary(fc.string({ maxLength: 12 }), fc.boolean(), { maxKeys: 4 }), anyJson),
      // Fault kinds that would press the emergency stop or change the physics are left out, as
      // in fuzz.test.ts: an accepted one is a legitimate state change, not what is fuzzed here.
      kind: fc.oneof(fc.constantFrom('nope', 'valve-click', 'sensor-zero'), anyJson),
      zone: fc.oneof(number, anyJson),
      user: fc.oneof(fc.constantFrom('sam', 'ada'), fc.string({ maxLength: 20 })),
      secret: fc.string({ maxLength: 30 }),
      role: fc.oneof(fc.constantFrom('staff', 'admin', 'viewer', 'root'), anyJson),
      name: fc.oneof(fc.string({ maxLength: 70 }), anyJson),
      reason: fc.oneof(fc.string({ maxLength: 300 }), anyJson),
      extra: anyJson,
    },
    { requiredKeys: [] },
  ),
);
const query = fc.dictionary(
  fc.constantFrom('limit', 'from', 'to', 'station', 'format', 'kind', 'lines', 'zzz'),
  fc.oneof(fc.string({ maxLength: 30 }), fc.integer().map(String)),
  { maxKeys: 3 },
);
const ROLES = ['anonymous', 'viewer', 'staff', 'support', 'admin', 'admin-token', 'forged-cookie'] as const;

export async function fuzzCampaign(
  requests: number,
  log: (m: string) => void = () => {},
  seed: number = Date.now() % 2 ** 31,
): Promise<FuzzCounts> {
  const t0 = Date.now();
  const cleanups: (() => unknown)[] = [];
  const h = await startHarness({ after: (fn) => cleanups.push(fn) });
  const c: FuzzCounts = {
    requests: 0,
    seed,
    routes: 0,
    byRole: {},
    byStatusClass: {},
    serverErrors: 0,
    stateChangedWhenRefused: 0,
    accepted: 0,
    failures: [],
    durationS: 0,
  };
  try {
    await h.app.ready();
    const spec = h.app.swagger() as { paths?: Record<string, Record<string, unknown>> };
    const routes: Route[] = [];
    for (const [path, ops] of Object.entries(spec.paths ?? {})) {
      // Logging out would end the harness's own logins, which every later request uses.
      if (path === '/api/auth/logout') continue;
      for (const m of Object.keys(ops)) routes.push({ method: m.toUpperCase() as Method, path });
    }
    c.routes = routes.length;
    const request = fc
      .record({
        route: fc.constantFrom(...routes),
        id: paramValue('id'),
        query,
        body,
        role: fc.constantFrom(...ROLES),
        sendBody: fc.boolean(),
      })
      .map((r) => ({
        ...r,
        url:
          r.route.path.replace(/\{(\w+)\}/g, () => encodeURIComponent(r.id)) +
          (Object.keys(r.query).length > 0 ? `?${new URLSearchParams(r.query).toString()}` : ''),
      }));
    const samples = fc.sample(request, { numRuns: requests, seed });
    for (const [i, r] of samples.entries()) {
      const headers: Record<string, string> = {};
      if (r.role === 'admin-token') headers.authorization = `Bearer ${ADMIN_TOKEN}`;
      else if (r.role === 'forged-cookie') headers.cookie = 'presso_login=forged.0123456789';
      else if (r.role !== 'anonymous') headers.cookie = h.cookies[r.role];
      c.byRole[r.role] = (c.byRole[r.role] ?? 0) + 1;
      const withBody = r.route.method !== 'GET' && r.sendBody;
      const before = await snapshot(h);
      let status: number;
      let text: string;
      try {
        const res = await h.app.inject({
          method: r.route.method,
          url: r.url,
          headers: withBody ? { ...headers, 'content-type': 'application/json' } : headers,
          ...(withBody ? { payload: JSON.stringify(r.body) } : {}),
        });
        status = res.statusCode;
        text = res.body;
      } catch (e) {
        status = 599;
        text = String(e);
      }
      c.requests++;
      const cls = `${Math.floor(status / 100)}xx`;
      c.byStatusClass[cls] = (c.byStatusClass[cls] ?? 0) + 1;
      const what = `${r.role} ${r.route.method} ${r.url}${withBody ? ` ${String(JSON.stringify(r.body)).slice(0, 200)}` : ''}`;
      if (status >= 500) {
        c.serverErrors++;
        c.failures.push(`${what} → ${status} ${text.slice(0, 200)}`);
      } else if (status >= 400) {
        if ((await snapshot(h)) !== before) {
          c.stateChangedWhenRefused++;
          c.failures.push(`${what} → ${status} but the state changed`);
        }
      } else if (r.route.method !== 'GET') {
        c.accepted++;
        // Undo what an accepted command did to the board, so the next request meets it idle.
        await h.client.request('stop', {});
        for (const id of STATIONS)
          await h.client.request('sim-clear', { stationId: id }).catch(() => undefined);
        await h.client.request('acknowledge', {}).catch(() => undefined);
        await readyBoard(h.client);
      }
      if ((i + 1) % 1000 === 0 || i + 1 === requests)
        log(`fuzz: ${i + 1}/${requests}, ${c.failures.length} failures`);
    }
    const health = await h.app.inject({ url: '/api/health' });
    if (health.statusCode !== 200) c.failures.push(`health answers ${health.statusCode} at the end`);
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
  c.durationS = (Date.now() - t0) / 1000;
  return c;
}
