/**
 * Property-based fuzzing of request bodies, params and query strings (fast-check), against the
 * real controller: no input gets a 5xx, the server stays up, and a rejected request changes
 * nothing in the store or the controller.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ADMIN_TOKEN, readyBoard, startHarness } from './test-support/harness.js';
import { stateSnapshot as snapshot } from './test-support/state-snapshot.js';

const RUNS = 300;
const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}` };

const stationId = fc.oneof(
  fc.constantFrom('bay-1', 'bay-2', 'bay-3', 'lounge-1'),
  fc.string({ maxLength: 70 }),
);
const programId = fc.oneof(
  fc.constantFrom('leg-circulation', 'leg-relaxation', 'arm-circulation'),
  fc.string({ maxLength: 60 }),
);
const number = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double(),
  fc.constantFrom(0, 20, 40, 60, 120, 121, 1e9),
);
const anyJson = fc.anything({ maxDepth: 2 });

const startBody = fc.oneof(
  anyJson,
  fc.record(
    {
      programId: fc.oneof(programId, anyJson),
      pressureMmHg: fc.oneof(number, anyJson),
      durationMin: fc.oneof(number, anyJson),
      skipZones: fc.oneof(fc.array(fc.integer({ min: -2, max: 14 }), { maxLength: 14 }), anyJson),
      client: fc.oneof(fc.string({ maxLength: 100 }), anyJson),
      screening: fc.oneof(fc.dictionary(fc.string({ maxLength: 12 }), fc.boolean(), { maxKeys: 4 }), anyJson),
      extra: anyJson,
    },
    { requiredKeys: [] },
  ),
);

const programBody = fc.oneof(
  anyJson,
  fc.record(
    {
      id: programId,
      name: fc.oneof(fc.string({ maxLength: 70 }), anyJson),
      garments: fc.oneof(fc.array(fc.constantFrom('leg', 'arm', 'hat'), { maxLength: 3 }), anyJson),
      mode: fc.oneof(fc.constantFrom('sequential', 'wave', 'jazz'), anyJson),
      pressureMmHg: number,
      inflateMaxS: number,
      holdS: number,
      releaseS: number,
      restS: number,
      durationMin: number,
      version: number,
    },
    { requiredKeys: [] },
  ),
);

interface Target {
  name: string;
  request: fc.Arbitrary<{ method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; payload?: unknown }>;
}

const q = (s: string) => encodeURIComponent(s);
const TARGETS: Target[] = [
  {
    name: 'start',
    request: fc
      .tuple(stationId, startBody)
      .map(([id, b]) => ({ method: 'POST', url: `/api/stations/${q(id)}/start`, payload: b })),
  },
  {
    name: 'pause/resume/acknowledge',
    request: fc
      .tuple(stationId, fc.constantFrom('pause', 'resume', 'acknowledge'), anyJson)
      .map(([id, a, b]) => ({ method: 'POST', url: `/api/stations/${q(id)}/${a}`, payload: b })),
  },
  {
    name: 'programs POST',
    request: programBody.map((b) => ({ method: 'POST', url: '/api/programs', payload: b })),
  },
  {
    name: 'programs PUT/DELETE',
    request: fc
      .tuple(programId, programBody, fc.boolean())
      .map(([id, b, del]) =>
        del
          ? { method: 'DELETE', url: `/api/programs/${q(id)}x`, payload: {} }
          : { method: 'PUT', url: `/api/programs/${q(id)}`, payload: b },
      ),
  },
  {
    name: 'sessions query',
    request: fc
      .record(
        {
          station: fc.string(),
          from: fc.oneof(
            fc.string(),
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          ),
          to: fc.string(),
          limit: fc.string(),
          format: fc.constantFrom('csv', 'json', 'xml'),
          zzz: fc.string(),
        },
        { requiredKeys: [] },
      )
      .map((r) => ({
        method: 'GET',
        url: `/api/sessions?${new URLSearchParams(r as Record<string, string>).toString()}`,
      })),
  },
  {
    name: 'settings',
    request: fc
      .tuple(stationId, anyJson)
      .map(([id, b]) => ({ method: 'PUT', url: `/api/stations/${q(id)}/settings`, payload: b })),
  },
  {
    name: 'sim faults / self-test',
    request: fc
      .tuple(
        stationId,
        fc.record(
          {
            kind: fc.oneof(fc.constantFrom('leak', 'estop', 'nope', 'valve-click'), anyJson),
            zone: fc.oneof(number, anyJson),
          },
          { requiredKeys: [] },
        ),
        fc.constantFrom('sim', 'self-test'),
      )
      .map(([id, b, which]) =>
        which === 'sim'
          ? {
              method: 'POST',
              url: `/api/sim/stations/${q(id)}/faults`,
              payload: { ...b, kind: b.kind === 'leak' || b.kind === 'estop' ? 'nope' : b.kind },
            }
          : { method: 'POST', url: `/api/stations/${q(id)}/self-test`, payload: b },
      ),
  },
  {
    name: 'login / users',
    request: fc
      .tuple(anyJson, fc.boolean())
      .map(([b, login]) => ({ method: 'POST', url: login ? '/api/auth/login' : '/api/users', payload: b })),
  },
];

for (const target of TARGETS) {
  test(`fuzz ${target.name}: no 5xx, nothing changes when refused`, async (t) => {
    const h = await startHarness(t);
    await fc.assert(
      fc.asyncProperty(target.request, async (req) => {
        const before = await snapshot(h);
        const res = await h.app.inject({
          method: req.method,
          url: req.url,
          headers: AUTH,
          ...(req.payload !== undefined
            ? {
                payload: JSON.stringify(req.payload),
                headers: { ...AUTH, 'content-type': 'application/json' },
              }
            : {}),
        });
        assert.ok(
          res.statusCode < 500,
          `${req.method} ${req.url} ${JSON.stringify(req.payload)} → ${res.statusCode} ${res.body}`,
        );
        if (res.statusCode >= 400) {
          const body = res.json<{ error: string; message: string }>();
          assert.equal(typeof body.message, 'string');
          assert.equal(await snapshot(h), before, `${req.method} ${req.url} changed state though refused`);
        } else if (req.url.endsWith('/start')) {
          // An accepted start is undone so the next run meets an idle board.
          await h.client.request('stop', {});
          await readyBoard(h.client);
        }
      }),
      { numRuns: RUNS },
    );
    const health = await h.app.inject({ url: '/api/health' });
    assert.equal(health.statusCode, 200, 'still serving');
  });
}
