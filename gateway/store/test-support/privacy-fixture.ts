/**
 * A data directory with a client's history in every place the store keeps data: the live file,
 * a month's archive, report files, the session journal and two daily backups. Used by the privacy
 * tests and by the erasure SIGKILL child (erase-writer.ts).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JsonStore } from '../store.js';
import type { ClientRecord, SessionRecord } from '../types.js';
import { DAY_MS, ManualClock, MemoryLog, endedSession, sessionRecord } from './fixtures.js';

/** Noon, local time: the store's days and months are local. */
export const JAN_15 = new Date(2025, 0, 15, 12).getTime();
export const FEB_2 = new Date(2025, 1, 2, 12).getTime();
export const ANN = 'Ann Example';
export const ANN_NOTE = 'prefers the left boot first';
export const BOB = 'Bob Other';

export function client(id: string, name: string, at: number, over: Partial<ClientRecord> = {}): ClientRecord {
  return {
    id,
    name,
    notes: id === 'c-ann' ? ANN_NOTE : 'none',
    consent: { atEpochMs: at, textVersion: '2025-01' },
    screening: { atEpochMs: at, answers: { pacemaker: true, dvt: false }, blocked: false },
    createdAtEpochMs: at,
    updatedAtEpochMs: at,
    ...over,
  };
}

/** A session of `clientId` that a person stopped with a reason naming the client. */
export function stoppedSession(id: string, at: number, clientId: string, name: string): SessionRecord {
  const s = endedSession(
    sessionRecord(id, at, {
      client: name,
      clientId,
      screening: { answers: { pacemaker: true }, blocked: false },
    }),
  );
  const reason = `${name.split(' ')[0] ?? name} felt dizzy (sam)`;
  return {
    ...s,
    status: 'stopped',
    reason,
    ...(s.report ? { report: { ...s.report, end: 'stopped', reason } } : {}),
  };
}

/** January and February history for Ann and Bob; returns the clock, left at FEB_2 + 1 h. */
export async function buildHistory(dataDir: string): Promise<ManualClock> {
  const clock = new ManualClock(JAN_15);
  const store = new JsonStore({ dataDir, now: clock.now, writeDelayMs: 60_000, log: new MemoryLog() });
  await store.open();
  store.putClient(client('c-ann', ANN, JAN_15));
  store.putClient(client('c-bob', BOB, JAN_15));
  store.putSession(stoppedSession('s-ann-jan', JAN_15, 'c-ann', ANN));
  store.putSession(stoppedSession('s-bob-jan', JAN_15 + 1000, 'c-bob', BOB));
  await store.flush();
  // February: January's sessions move to the archive; a new day's backup and journal lines.
  clock.ms = FEB_2;
  store.putSession(stoppedSession('s-ann-feb', FEB_2, 'c-ann', ANN));
  await store.flush();
  clock.ms = FEB_2 + DAY_MS;
  const walkUp = sessionRecord('s-walkup', FEB_2 + DAY_MS, {
    client: 'walk-up',
    screening: { answers: { dvt: false }, blocked: false },
  });
  store.putSession(walkUp);
  await store.flush();
  // After the day's backup: these are only in the live file and the journal so far.
  store.putSession(endedSession(walkUp));
  store.putSession(stoppedSession('s-ann-feb2', FEB_2 + DAY_MS, 'c-ann', ANN));
  await store.flush();
  await store.close();
  return clock;
}

/** Every file under `dir` (recursively) whose bytes contain `text`, relative to `dir`. */
export async function filesContaining(dir: string, text: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path, 'utf8')).includes(text)) out.push(path.slice(dir.length + 1));
  }
  return out.sort();
}
