/**
 * Bytes the database writes in one clinic day, measured: the real JsonStore (gateway/store) in a
 * temporary directory, on a virtual clock, in the middle of a month (the live file then holds half
 * a month of sessions, as on an average day), then one day of sessions with their reports and audit
 * entries, each change written as the web process writes it (one batched write per event). The
 * figure is the bytes this process passed to write() (/proc/self/io wchar) during that day.
 *
 *   node --import tsx bench/store-day.ts [--stations 4] [--sessions 10] [--zone-cycles 150]
 *
 * 150 zone-cycles is a 30-minute leg program of 5 zones at about one cycle a minute.
 */
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonStore } from '../gateway/store/store.js';
import {
  DAY_MS,
  ManualClock,
  MemoryLog,
  auditEntry,
  endedSession,
  sessionRecord,
} from '../gateway/store/test-support/fixtures.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const STATIONS = arg('stations', 4);
const SESSIONS = arg('sessions', 10);
const ZONE_CYCLES = arg('zone-cycles', 150);

function wchar(): number {
  return Number(/^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'presso-store-day-'));
  const clock = new ManualClock(new Date(2026, 10, 1, 8).getTime());
  const store = new JsonStore({ dataDir: dir, now: clock.now, log: new MemoryLog(), writeDelayMs: 0 });
  await store.open();
  let n = 0;
  const day = async (record: boolean) => {
    for (let s = 0; s < SESSIONS; s++) {
      for (let st = 0; st < STATIONS; st++) {
        const start = clock.ms + s * 45 * 60_000;
        const session = sessionRecord(`s-${n++}`, start, { stationId: `bay-${st + 1}` });
        clock.ms = start;
        store.putSession(session);
        store.recordAudit(auditEntry(start));
        if (record) await store.flush();
        clock.ms = start + 30 * 60_000;
        store.putSession(endedSession(session, ZONE_CYCLES));
        if (record) await store.flush();
      }
    }
    await store.flush();
  };
  // Half a month already in the live file.
  const dayStart = clock.ms;
  for (let d = 0; d < 14; d++) {
    clock.ms = dayStart + d * DAY_MS;
    await day(false);
  }
  clock.ms = dayStart + 14 * DAY_MS;
  const before = wchar();
  await day(true);
  const bytes = wchar() - before;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      stations: STATIONS,
      sessionsPerStation: SESSIONS,
      zoneCycles: ZONE_CYCLES,
      bytesPerDay: bytes,
      bytesPerDayPerStation: Math.round(bytes / STATIONS),
      bytesPerSession: Math.round(bytes / (STATIONS * SESSIONS)),
    }),
  );
}

void main();
