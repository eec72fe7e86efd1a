/**
 * No false alarm in two simulated hours of normal use: every default station runs sessions back
 * to back (rotating through the presets for its garment) with sensor noise, sensor offsets,
 * thermal settling, neighbour coupling and patient artefacts all on, in virtual time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { presetsFor } from './programs/presets.js';
import { harness } from './test-support/harness.js';

const HOURS = 2;
const SESSION_MIN = 20;

describe('long run', { timeout: 600_000 }, () => {
  it(
    `${HOURS} simulated hours of normal sessions on every station raise no alarm`,
    { timeout: 600_000 },
    async () => {
      const h = await harness();
      const started = new Map<string, number>();
      const rotate = (id: string, garment: 'leg' | 'arm') => {
        const list = presetsFor(garment);
        const n = started.get(id) ?? 0;
        started.set(id, n + 1);
        return list[n % list.length]!;
      };
      const startIdle = async () => {
        for (const st of h.ctrl.stations) {
          if (st.state !== 'idle') continue;
          const garment = st.io.spec.garment === 'arm' ? 'arm' : 'leg';
          // A preset above a station's ceiling is refused (lounge-1 is capped at 80 mmHg by its
          // abdomen zones): take the next one, as staff would.
          for (let tries = 0; tries < 12; tries++) {
            const ok = await h.ctrl
              .command('start', {
                stationId: st.id,
                sessionId: `${st.id}-${started.get(st.id) ?? 0}`,
                program: rotate(st.id, garment),
                durationMin: SESSION_MIN,
              })
              .then(
                () => true,
                (e: Error) => (/ceiling/.test(e.message) ? false : Promise.reject(e)),
              );
            if (ok) break;
          }
        }
      };
      const end = HOURS * 3_600_000;
      while (h.clock.now() < end) {
        await startIdle();
        await h.run(Math.min(60_000, end - h.clock.now()));
      }
      const alarms = h.of('alarm-raised');
      assert.deepEqual(
        alarms.map((a) => `${a.stationId} ${a.code}: ${a.reason}`),
        [],
        'no alarm during normal operation',
      );
      const reports = h.of('session-ended');
      assert.ok(
        reports.length >= 4 * ((HOURS * 60) / (SESSION_MIN + 5) - 1),
        `${reports.length} sessions ended`,
      );
      assert.ok(
        reports.every((r) => r.end === 'completed'),
        'every finished session completed',
      );
      for (const st of h.ctrl.stations)
        assert.ok((started.get(st.id) ?? 0) >= 5, `${st.id} ran ${started.get(st.id)} sessions`);
    },
  );
});
