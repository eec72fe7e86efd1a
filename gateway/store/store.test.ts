import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PRESETS } from '../control-loop/programs/presets.js';
import { JsonStore, type JsonStoreOptions, SESSION_JOURNAL_NAME, STORE_FILE_NAME } from './store.js';
import { STORE_SCHEMA_VERSION } from './store-file.js';
import {
  DAY_MS,
  ManualClock,
  MemoryLog,
  alarm,
  auditEntry,
  closeBeforeRemoving,
  counters,
  endedSession,
  scratchDir,
  selfTest,
  sessionRecord,
  settings,
  user,
} from './test-support/fixtures.js';

/** Noon, local time: the store's days and months are local. */
const JAN_15 = new Date(2025, 0, 15, 12).getTime();
const FEB_2 = new Date(2025, 1, 2, 12).getTime();

async function opened(dataDir: string, over: Partial<JsonStoreOptions> = {}): Promise<JsonStore> {
  const store = new JsonStore({ dataDir, log: new MemoryLog(), writeDelayMs: 60_000, ...over });
  closeBeforeRemoving(dataDir, () => store.close());
  await store.open();
  return store;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('JsonStore: round trip', () => {
  test('every collection survives close and open', async (t) => {
    const dir = await scratchDir(t);
    const clock = new ManualClock(JAN_15);
    const a = await opened(dir, { now: clock.now });
    const s1 = endedSession(sessionRecord('s-1', JAN_15 - 3_600_000));
    const s2 = sessionRecord('s-2', JAN_15, { screening: { answers: { pregnant: false }, blocked: false } });
    a.putUser(user('u-1', JAN_15));
    a.putUser(user('u-2', JAN_15));
    a.putStationSettings(settings('bay-1'));
    a.putSession(s1);
    a.putSession(s2);
    a.recordAlarm(alarm('al-1', JAN_15), 'raised');
    a.recordAlarm(alarm('al-1', JAN_15), 'cleared');
    a.recordAudit(auditEntry(JAN_15));
    a.putCounters([counters('bay-1', 1000), counters('bay-2', 2000)]);
    a.recordSelfTest(selfTest('bay-1', JAN_15));
    a.putZeroOffsets('bay-1', [0.5, -0.25, 0]);
    const custom = a.saveProgram({ ...structuredClone(PRESETS[0]!), id: 'my-legs', name: 'Mine' }, 'u-1');
    const snapshot = {
      users: a.users(),
      settings: a.stationSettings('bay-1'),
      sessions: await a.sessions(),
      alarms: a.alarms(),
      history: a.alarmHistory(),
      audit: a.audit(),
      counters: a.counters(),
      selfTests: a.selfTests('bay-1'),
      zero: a.zeroOffsets('bay-1'),
      programs: a.programs(),
    };
    await a.close();

    const b = await opened(dir, { now: clock.now });
    assert.deepEqual(b.users(), snapshot.users);
    assert.deepEqual(b.userById('u-2'), user('u-2', JAN_15));
    assert.deepEqual(b.stationSettings('bay-1'), settings('bay-1'));
    assert.equal(b.stationSettings('bay-9'), undefined);
    assert.deepEqual(await b.sessions(), snapshot.sessions);
    assert.deepEqual(await b.session('s-1'), s1);
    assert.deepEqual(await b.session('s-2'), s2);
    assert.deepEqual(b.alarms(), snapshot.alarms);
    assert.equal(b.alarms().length, 1, 'one entry per occurrence');
    assert.equal(b.alarms()[0]?.active, false, 'cleared');
    assert.deepEqual(
      b.alarmHistory()[0]?.changes.map((c) => c.change),
      ['raised', 'cleared'],
    );
    assert.deepEqual(b.audit(), [auditEntry(JAN_15)]);
    assert.deepEqual(b.counters(), snapshot.counters);
    assert.deepEqual(b.selfTests('bay-1'), [selfTest('bay-1', JAN_15)]);
    assert.deepEqual(b.zeroOffsets('bay-1'), [0.5, -0.25, 0]);
    assert.equal(b.zeroOffsets('bay-2'), undefined);
    assert.deepEqual(b.programs(), snapshot.programs);
    assert.deepEqual(b.program('my-legs'), custom);
    assert.equal(b.health().recovered, undefined);
  });

  test('first start seeds the built-in presets and no station settings', async (t) => {
    const dir = await scratchDir(t);
    const store = await opened(dir);
    const programs = store.programs();
    assert.deepEqual(
      programs.map((p) => p.program.id),
      PRESETS.map((p) => p.id),
    );
    assert.ok(programs.every((p) => p.builtIn && p.createdBy === 'system'));
    assert.deepEqual(store.users(), []);
    assert.equal(store.stationSettings('bay-1'), undefined);
    assert.equal(store.health().recovered, undefined);
    const onDisk: unknown = JSON.parse(await readFile(join(dir, STORE_FILE_NAME), 'utf8'));
    assert.ok(typeof onDisk === 'object' && onDisk !== null);
  });

  test('the file is compact JSON and values handed out are copies', async (t) => {
    const dir = await scratchDir(t);
    const store = await opened(dir);
    store.putUser(user('u-1', 1));
    const copy = store.userById('u-1');
    assert.ok(copy);
    copy.name = 'changed behind the store';
    assert.equal(store.userById('u-1')?.name, 'User u-1');
    await store.flush();
    const text = await readFile(join(dir, STORE_FILE_NAME), 'utf8');
    assert.ok(!text.includes('\n'), 'no pretty-printing');
  });

  test('changes before open or after close throw instead of being lost', async (t) => {
    const dir = await scratchDir(t);
    const store = new JsonStore({ dataDir: dir, log: new MemoryLog() });
    assert.throws(() => store.putUser(user('u-1', 1)), /not open/);
    await store.open();
    await store.close();
    assert.throws(() => store.recordAudit(auditEntry(1)), /closed/);
  });
});

describe('JsonStore: writes', () => {
  test('many changes within writeDelayMs make one rewrite of the file', async (t) => {
    const dir = await scratchDir(t);
    const writeDelayMs = 100;
    const store = await opened(dir, { writeDelayMs });
    const before = store.health().writes;
    const { ino } = await stat(join(dir, STORE_FILE_NAME));
    for (let i = 0; i < 200; i++) {
      store.recordAudit(auditEntry(i));
      if (i % 10 === 0) store.putSession(sessionRecord(`s-${i}`, i));
    }
    await sleep(writeDelayMs / 2);
    assert.equal(store.health().writes, before, 'nothing written before the delay');
    assert.equal((await stat(join(dir, STORE_FILE_NAME))).ino, ino);
    await sleep(writeDelayMs * 3);
    assert.equal(store.health().writes, before + 1);
    const onDisk = JSON.parse(await readFile(join(dir, STORE_FILE_NAME), 'utf8')) as { audit: unknown[] };
    assert.equal(onDisk.audit.length, 200);
    await store.flush();
    assert.equal(store.health().writes, before + 1, 'flush with nothing pending writes nothing');
  });

  test('after flush() resolves, a fresh store on the same directory sees the data', async (t) => {
    const dir = await scratchDir(t);
    const store = await opened(dir); // 60 s write delay: only flush() can have written
    store.putSession(sessionRecord('s-flushed', Date.now()));
    await store.flush();
    assert.ok(store.health().lastWriteEpochMs !== undefined);
    const reader = await opened(dir);
    assert.equal((await reader.session('s-flushed'))?.id, 's-flushed');
    await reader.close();
  });

  test('concurrent flushes all resolve after a write that includes their change', async (t) => {
    const dir = await scratchDir(t);
    const store = await opened(dir);
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      store.putSession(sessionRecord(`s-${i}`, i));
      flushes.push(
        store.flush().then(async () => {
          const disk = JSON.parse(await readFile(join(dir, STORE_FILE_NAME), 'utf8')) as {
            sessions: { id: string }[];
          };
          assert.ok(
            disk.sessions.some((s) => s.id === `s-${i}`),
            `s-${i} on disk when its flush resolved`,
          );
        }),
      );
    }
    await Promise.all(flushes);
  });

  test('a flushed session is appended to the journal and the journal restarts with each daily backup', async (t) => {
    const dir = await scratchDir(t);
    const clock = new ManualClock(JAN_15);
    const store = await opened(dir, { now: clock.now });
    store.putSession(sessionRecord('s-1', JAN_15));
    await store.flush();
    const journal = join(dir, SESSION_JOURNAL_NAME);
    assert.match(await readFile(journal, 'utf8'), /"s-1"/);
    clock.ms += DAY_MS;
    store.putUser(user('u-1', clock.ms));
    await store.flush();
    assert.equal(await readFile(journal, 'utf8'), '', 'the new backup holds s-1');
    await store.close();
  });
});

describe('JsonStore: programs', () => {
  test('saving adds versions; program(id) is the latest; deleting hides but keeps versions', async (t) => {
    const dir = await scratchDir(t);
    const store = await opened(dir);
    const base = { ...structuredClone(PRESETS[0]!), id: 'custom', name: 'Custom', version: 99 };
    assert.equal(store.saveProgram(base, 'u-1').program.version, 1, 'the store sets the version');
    const v2 = store.saveProgram({ ...base, pressureMmHg: 70 }, 'u-2');
    assert.equal(v2.program.version, 2);
    assert.equal(v2.createdBy, 'u-2');
    assert.equal(v2.builtIn, false);
    assert.equal(store.program('custom')?.program.pressureMmHg, 70);
    assert.equal(store.program('custom', 1)?.program.pressureMmHg, base.pressureMmHg);
    assert.equal(store.program('custom', 3), undefined);
    assert.equal(store.programs().filter((p) => p.program.id === 'custom').length, 1);

    assert.equal(store.deleteProgram('custom'), true);
    assert.equal(store.deleteProgram('custom'), false, 'already deleted');
    assert.equal(store.deleteProgram('no-such'), false);
    assert.ok(!store.programs().some((p) => p.program.id === 'custom'));
    assert.equal(store.program('custom', 1)?.deleted, true, 'sessions can still resolve it');

    assert.equal(store.saveProgram(base, 'u-1').program.version, 3, 'saving again brings it back');
    assert.ok(store.programs().some((p) => p.program.id === 'custom'));
  });

  test('a deleted built-in stays deleted across restarts (not re-seeded)', async (t) => {
    const dir = await scratchDir(t);
    const id = PRESETS[1]!.id;
    const a = await opened(dir);
    assert.equal(a.deleteProgram(id), true);
    await a.close();
    const b = await opened(dir);
    assert.ok(!b.programs().some((p) => p.program.id === id));
    assert.equal(b.program(id)?.builtIn, true);
  });
});

/** A data dir with backups of two days; the live file is then replaced by each test. */
async function dirWithBackups(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await scratchDir(t);
  const clock = new ManualClock(JAN_15);
  const day1 = await opened(dir, { now: clock.now });
  day1.putSession(sessionRecord('s-day1', clock.ms));
  await day1.close();
  clock.ms += DAY_MS;
  const day2 = await opened(dir, { now: clock.now }); // backs up the file holding s-day1
  day2.putSession(sessionRecord('s-day2', clock.ms)); // acknowledged after the newest backup
  day2.putUser(user('u-day2', clock.ms));
  await day2.close();
  return dir;
}

const CORRUPTIONS: { name: string; content: (good: Buffer) => Buffer }[] = [
  { name: 'empty', content: () => Buffer.alloc(0) },
  { name: 'NUL bytes', content: (good) => Buffer.alloc(Math.min(good.length, 4096)) },
  { name: 'a JSON list', content: () => Buffer.from('[]') },
  { name: 'JSON of another program', content: () => Buffer.from('{"sessions":[{"id":1}]}') },
  {
    name: 'a store with a bad record',
    content: (good) => {
      const raw = JSON.parse(good.toString('utf8')) as { sessions: unknown[] };
      raw.sessions.push({ id: 7 });
      return Buffer.from(JSON.stringify(raw));
    },
  },
  ...[0.02, 0.25, 0.5, 0.75, 0.999].map((f) => ({
    name: `truncated at ${f * 100}%`,
    content: (good: Buffer) => good.subarray(0, Math.floor(good.length * f)),
  })),
  {
    name: 'truncated at a random byte',
    content: (good: Buffer) => good.subarray(0, 1 + Math.floor(Math.random() * (good.length - 2))),
  },
];

describe('JsonStore: a damaged file at start', () => {
  for (const c of CORRUPTIONS) {
    test(`${c.name}: moved aside, newest good backup restored, journal replayed, no throw`, async (t) => {
      const template = await dirWithBackups(t);
      const dir = await scratchDir(t);
      await cp(template, dir, { recursive: true });
      const file = join(dir, STORE_FILE_NAME);
      const bad = c.content(await readFile(file));
      await writeFile(file, bad);

      const log = new MemoryLog();
      const at = JAN_15 + 2 * DAY_MS;
      const store = await opened(dir, { now: () => at, log });
      const r = store.health().recovered;
      assert.ok(r, 'recovered is set');
      assert.equal(r.restoredFrom, join(dir, 'backups', `presso-${isoDay(JAN_15 + DAY_MS)}.json`));
      assert.equal(r.movedTo, `${file}.corrupt-${new Date(at).toISOString()}`);
      assert.equal(r.atEpochMs, at);
      assert.ok(r.error.includes(file), r.error);
      assert.deepEqual(await readFile(r.movedTo), bad, 'the damaged file is kept as it was');
      assert.ok(await store.session('s-day1'), 'from the backup');
      assert.ok(await store.session('s-day2'), 'acknowledged after the backup: from the journal');
      assert.equal(store.userById('u-day2'), undefined, 'other changes since the backup are lost');
      assert.ok(log.lines.some((l) => l.startsWith('warn') && l.includes('restored from')));
      // The live file is good again.
      const text = await readFile(file, 'utf8');
      assert.doesNotThrow(() => JSON.parse(text));
    });
  }

  test('a damaged newest backup is skipped for the one before it', async (t) => {
    const dir = await dirWithBackups(t);
    const newest = join(dir, 'backups', `presso-${isoDay(JAN_15 + DAY_MS)}.json`);
    await writeFile(newest, '{"format":"presso-st');
    await writeFile(join(dir, STORE_FILE_NAME), '');
    const store = await opened(dir, { now: () => JAN_15 + 2 * DAY_MS });
    assert.equal(
      store.health().recovered?.restoredFrom,
      join(dir, 'backups', `presso-${isoDay(JAN_15)}.json`),
    );
  });

  test('no backup: the defaults, and recovered says so', async (t) => {
    const dir = await scratchDir(t);
    await writeFile(join(dir, STORE_FILE_NAME), '{"programs":[');
    const store = await opened(dir);
    const r = store.health().recovered;
    assert.equal(r?.restoredFrom, 'defaults');
    assert.match(r?.error ?? '', /not valid JSON/);
    assert.equal(store.programs().length, PRESETS.length);
  });

  test('a missing file next to backups is restored and reported, not started empty', async (t) => {
    const dir = await dirWithBackups(t);
    await unlink(join(dir, STORE_FILE_NAME));
    const store = await opened(dir, { now: () => JAN_15 + 2 * DAY_MS });
    assert.match(store.health().recovered?.error ?? '', /missing/);
    assert.ok(await store.session('s-day2'));
  });

  test('a file from a newer store version is refused, not overwritten', async (t) => {
    const dir = await scratchDir(t);
    const text = JSON.stringify({ format: 'presso-store', schemaVersion: STORE_SCHEMA_VERSION + 1 });
    await writeFile(join(dir, STORE_FILE_NAME), text);
    const store = new JsonStore({ dataDir: dir, log: new MemoryLog() });
    await assert.rejects(store.open(), new RegExp(`schema version ${STORE_SCHEMA_VERSION + 1}`));
    assert.equal(await readFile(join(dir, STORE_FILE_NAME), 'utf8'), text);
  });

  test('an unreadable file is an error naming the path', { skip: process.getuid?.() === 0 }, async (t) => {
    const dir = await scratchDir(t);
    const file = join(dir, STORE_FILE_NAME);
    await writeFile(file, '{}', { mode: 0o000 });
    const store = new JsonStore({ dataDir: dir, log: new MemoryLog() });
    await assert.rejects(store.open(), (e: Error) => e.message.includes(file) && /EACCES/.test(e.message));
  });

  test('a directory where the file should be is an I/O error naming the path, not "corrupt"', async (t) => {
    const dir = await scratchDir(t);
    const file = join(dir, STORE_FILE_NAME);
    await mkdir(file);
    const store = new JsonStore({ dataDir: dir, log: new MemoryLog() });
    await assert.rejects(store.open(), (e: Error) => e.message.includes(file) && /EISDIR/.test(e.message));
    assert.ok((await stat(file)).isDirectory(), 'left where it was');
  });
});

describe('JsonStore: archive and backups', () => {
  test('months that are over move to the archive; history queries still find them', async (t) => {
    const dir = await scratchDir(t);
    const clock = new ManualClock(JAN_15);
    const a = await opened(dir, { now: clock.now });
    for (let i = 0; i < 60; i++) {
      a.putSession(endedSession(sessionRecord(`jan-${i}`, JAN_15 - i * 3_600_000)));
      a.recordAudit(auditEntry(JAN_15 - i * 60_000));
      a.recordAlarm(alarm(`al-jan-${i}`, JAN_15 - i * 60_000), 'raised');
    }
    a.putSession(sessionRecord('jan-still-running', JAN_15));
    await a.close();
    const januarySize = (await stat(join(dir, STORE_FILE_NAME))).size;

    clock.ms = FEB_2;
    const b = await opened(dir, { now: clock.now });
    b.putSession(sessionRecord('feb-1', FEB_2));
    b.recordAudit(auditEntry(FEB_2));
    await b.flush();

    const live = JSON.parse(await readFile(join(dir, STORE_FILE_NAME), 'utf8')) as {
      sessions: { id: string }[];
      audit: unknown[];
      alarms: unknown[];
    };
    assert.ok((await stat(join(dir, STORE_FILE_NAME))).size < januarySize / 5, 'the live file shrank');
    assert.deepEqual(live.sessions.map((s) => s.id).sort(), ['feb-1', 'jan-still-running']);
    assert.equal(live.audit.length, 1);
    assert.equal(live.alarms.length, 0);
    assert.deepEqual((await readdir(join(dir, 'archive'))).sort(), [
      'alarms-2025-01.json',
      'audit-2025-01.json',
      'sessions-2025-01.json',
    ]);

    const january = await b.sessions({
      fromEpochMs: new Date(2025, 0, 1).getTime(),
      toEpochMs: FEB_2 - DAY_MS,
    });
    assert.equal(january.length, 61);
    assert.ok(
      january.every((s, i) => i === 0 || (january[i - 1]?.startedAtEpochMs ?? 0) >= s.startedAtEpochMs),
    );
    assert.deepEqual(
      (await b.sessions({ limit: 3 })).map((s) => s.id),
      ['feb-1', 'jan-still-running', 'jan-0'],
    );
    assert.equal(
      (await b.sessions({ fromEpochMs: FEB_2 - 1 })).length,
      1,
      'a February range reads no archive',
    );
    assert.equal((await b.session('jan-42'))?.report?.sessionId, 'jan-42');
    assert.equal(b.audit().length, 1);
  });

  test('crossing into a new month while running archives on the next write', async (t) => {
    const dir = await scratchDir(t);
    const clock = new ManualClock(new Date(2025, 0, 31, 23, 50).getTime());
    const store = await opened(dir, { now: clock.now });
    store.putSession(endedSession(sessionRecord('jan-late', clock.ms - 3_600_000)));
    await store.flush();
    clock.ms = new Date(2025, 1, 1, 0, 10).getTime();
    store.recordAudit(auditEntry(clock.ms));
    await store.flush();
    const live = JSON.parse(await readFile(join(dir, STORE_FILE_NAME), 'utf8')) as { sessions: unknown[] };
    assert.equal(live.sessions.length, 0);
    assert.ok(await store.session('jan-late'));
  });

  test('a session ended after its month was archived is found once, in its newest state', async (t) => {
    const dir = await scratchDir(t);
    const clock = new ManualClock(JAN_15);
    const store = await opened(dir, { now: clock.now });
    const s = sessionRecord('s-1', JAN_15, { status: 'stopped' });
    store.putSession(s);
    await store.flush();
    clock.ms = FEB_2;
    store.recordAudit(auditEntry(FEB_2));
    await store.flush(); // archives s-1
    store.putSession({ ...s, status: 'interrupted' });
    await store.flush();
    const found = await store.sessions({ fromEpochMs: 0 });
    assert.deepEqual(
      found.map((x) => [x.id, x.status]),
      [['s-1', 'interrupted']],
    );
  });

  test('alarm history over its cap moves the oldest to the archive', async (t) => {
    const dir = await scratchDir(t);
    const store = await opened(dir, { now: () => JAN_15, alarmsLiveMax: 10 });
    for (let i = 0; i < 25; i++) store.recordAlarm(alarm(`al-${i}`, JAN_15 - (25 - i) * 1000), 'raised');
    await store.flush();
    assert.ok(store.alarms().length <= 10);
    assert.equal(store.alarms()[0]?.id, 'al-24', 'newest first');
    const archived = JSON.parse(await readFile(join(dir, 'archive', 'alarms-2025-01.json'), 'utf8')) as {
      records: { alarm: { id: string } }[];
    };
    assert.equal(archived.records.length + store.alarms(100).length, 25);
    assert.equal(archived.records[0]?.alarm.id, 'al-0');
  });

  test('one backup per calendar day, the newest keepBackups kept', async (t) => {
    const dir = await scratchDir(t);
    const clock = new ManualClock(JAN_15);
    const store = await opened(dir, { now: clock.now, keepBackups: 3 });
    const backups = join(dir, 'backups');
    const firstOfDay = await readFile(join(backups, `presso-${isoDay(JAN_15)}.json`), 'utf8');
    store.putUser(user('u-later-same-day', JAN_15));
    await store.flush();
    assert.equal(
      await readFile(join(backups, `presso-${isoDay(JAN_15)}.json`), 'utf8'),
      firstOfDay,
      'at most once a day',
    );
    for (let d = 1; d <= 5; d++) {
      clock.ms = JAN_15 + d * DAY_MS;
      store.putUser(user(`u-${d}`, clock.ms));
      await store.flush();
    }
    assert.deepEqual(
      (await readdir(backups)).sort(),
      [3, 4, 5].map((d) => `presso-${isoDay(JAN_15 + d * DAY_MS)}.json`),
    );
    const newest = JSON.parse(
      await readFile(join(backups, `presso-${isoDay(JAN_15 + 5 * DAY_MS)}.json`), 'utf8'),
    ) as { users: { id: string }[] };
    assert.ok(
      newest.users.some((u) => u.id === 'u-5'),
      "a day's backup holds that day's first write",
    );
  });
});

describe('JsonStore: a clock that is not synchronised', () => {
  test('records are marked, and no month moves to the archive and no daily backup until it syncs', async (t) => {
    const dir = await scratchDir(t);
    const clock = new ManualClock(JAN_15);
    let synced = true;
    const a = await opened(dir, { now: clock.now, clockTrusted: () => synced });
    a.putSession(endedSession(sessionRecord('jan-1', JAN_15)));
    a.recordAudit(auditEntry(JAN_15));
    await a.close();
    const backups = join(dir, 'backups');
    assert.deepEqual(await readdir(backups), [`presso-${isoDay(JAN_15)}.json`]);

    // A power cut, and the Pi comes back at a clock far ahead (a bad RTC, a wrong manual setting),
    // not yet synchronised.
    synced = false;
    const FUTURE = new Date(2038, 0, 10, 12).getTime();
    clock.ms = FUTURE;
    const b = await opened(dir, { now: clock.now, clockTrusted: () => synced });
    b.putSession(sessionRecord('while-unsynced', FUTURE));
    b.recordAudit(auditEntry(FUTURE));
    b.recordAlarm(alarm('al-1', FUTURE), 'raised');
    await b.flush();
    assert.deepEqual(await readdir(backups), [`presso-${isoDay(JAN_15)}.json`], 'no backup named for 2038');
    assert.ok(!existsSync(join(dir, 'archive', 'sessions-2025-01.json')), 'January was not archived');
    const live = JSON.parse(await readFile(join(dir, STORE_FILE_NAME), 'utf8')) as {
      sessions: { id: string; clockUnsynced?: true }[];
      audit: { atEpochMs: number; clockUnsynced?: true }[];
      alarms: { changes: { clockUnsynced?: true }[] }[];
    };
    assert.deepEqual(
      live.sessions.map((s) => [s.id, s.clockUnsynced ?? false]),
      [
        ['jan-1', false],
        ['while-unsynced', true],
      ],
    );
    assert.deepEqual(
      live.audit.map((e) => e.clockUnsynced ?? false),
      [false, true],
    );
    assert.equal(live.alarms[0]?.changes[0]?.clockUnsynced, true);

    // NTP syncs: the clock steps back to the real date, and housekeeping runs on the real day.
    synced = true;
    clock.ms = FEB_2;
    b.putSession(endedSession(sessionRecord('while-unsynced', FUTURE)));
    await b.flush();
    assert.deepEqual((await readdir(backups)).sort(), [
      `presso-${isoDay(JAN_15)}.json`,
      `presso-${isoDay(FEB_2)}.json`,
    ]);
    assert.ok(
      existsSync(join(dir, 'archive', 'sessions-2025-01.json')),
      'January archived once the clock is right',
    );
    assert.equal(
      (await b.sessions()).find((s) => s.id === 'while-unsynced')?.clockUnsynced,
      true,
      'the mark stays when the record is put again after the sync',
    );
  });
});

function isoDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

describe('JsonStore: session reports in monthly files', () => {
  test('a report goes to its month file, not the live file; lists carry the summary, session(id) the report', async (t) => {
    const dir = await scratchDir(t);
    const clock = new ManualClock(JAN_15);
    const a = await opened(dir, { now: clock.now });
    const ended = endedSession(sessionRecord('s-r', JAN_15 - 3_600_000), 400);
    a.putSession(ended);
    await a.flush();

    const live = await readFile(join(dir, STORE_FILE_NAME), 'utf8');
    assert.ok(!live.includes('meanHoldMmHg'), 'no per-zone report lines in presso.json');
    const monthFile = await readFile(join(dir, 'reports', 'reports-2025-01.jsonl'), 'utf8');
    assert.equal(monthFile.split('\n').filter((l) => l.includes('"sessionId":"s-r"')).length, 1);

    const [listed] = await a.sessions();
    assert.equal(listed?.report, undefined, 'lists leave the report out');
    assert.equal(listed?.deliveredMs, 30 * 60_000);
    assert.equal(listed?.cyclesDone, ended.cyclesDone);
    assert.equal('hasReport' in (listed ?? {}), false, 'store-internal fields stay inside');
    assert.deepEqual(await a.session('s-r'), ended);
    await a.close();
    const b = await opened(dir, { now: clock.now });
    assert.deepEqual(await b.session('s-r'), ended, 'the report is found again after a restart');
  });

  test('a thousand 8-zone 30-minute reports leave the live file small', async (t) => {
    const dir = await scratchDir(t);
    const clock = new ManualClock(JAN_15);
    const a = await opened(dir, { now: clock.now });
    // 30 min of 8 zones at ~75 s cycles: 24 cycles × 8 zones = 192 report lines per session.
    for (let i = 0; i < 1000; i++)
      a.putSession(endedSession(sessionRecord(`s-${i}`, JAN_15 - i * 60_000), 192));
    await a.flush();
    const liveBytes = (await stat(join(dir, STORE_FILE_NAME))).size;
    const reportBytes = (await stat(join(dir, 'reports', 'reports-2025-01.jsonl'))).size;
    assert.ok(reportBytes > 10_000_000, `the reports are all there (${reportBytes} bytes)`);
    assert.ok(liveBytes < 1_000_000, `live file ${liveBytes} bytes`);
    assert.equal((await a.session('s-777'))?.report?.zones.length, 192);
  });

  test('a report line cut by a crash is skipped, and reports appended after it are read', async (t) => {
    const dir = await scratchDir(t);
    const clock = new ManualClock(JAN_15);
    const a = await opened(dir, { now: clock.now });
    const first = endedSession(sessionRecord('s-1', JAN_15 - 7_200_000));
    a.putSession(first);
    await a.flush();
    await a.close();
    const file = join(dir, 'reports', 'reports-2025-01.jsonl');
    // A crash in the middle of appending the next line: its leading newline and half a record.
    const text = await readFile(file, 'utf8');
    assert.ok(text.startsWith('\n{'));
    await writeFile(file, text + text.slice(0, Math.floor(text.length / 2)));

    const b = await opened(dir, { now: clock.now });
    const second = endedSession(sessionRecord('s-2', JAN_15 - 3_600_000));
    b.putSession(second);
    await b.flush();
    await b.close();
    const c = await opened(dir, { now: clock.now });
    assert.deepEqual(await c.session('s-1'), first);
    assert.deepEqual(await c.session('s-2'), second);
  });

  test('a live file from before report files has its reports moved out on open', async (t) => {
    const dir = await scratchDir(t);
    const clock = new ManualClock(JAN_15);
    const a = await opened(dir, { now: clock.now });
    await a.close();
    const old = endedSession(sessionRecord('s-old', JAN_15 - 3_600_000));
    const raw = JSON.parse(await readFile(join(dir, STORE_FILE_NAME), 'utf8')) as { sessions: unknown[] };
    // As the previous layout kept it: the report inline, no summary fields.
    const { deliveredMs, cyclesDone, ...inline } = old;
    assert.ok(deliveredMs !== undefined && cyclesDone !== undefined);
    raw.sessions.push(inline);
    await writeFile(join(dir, STORE_FILE_NAME), JSON.stringify(raw));

    const b = await opened(dir, { now: clock.now });
    assert.deepEqual(await b.session('s-old'), old);
    const live = await readFile(join(dir, STORE_FILE_NAME), 'utf8');
    assert.ok(!live.includes('meanHoldMmHg'), 'moved out by the first write');
  });

  test('a refused start is kept with status refused', async (t) => {
    const dir = await scratchDir(t);
    const a = await opened(dir, { now: new ManualClock(JAN_15).now });
    a.putSession(sessionRecord('s-no', JAN_15, { status: 'refused', reason: 'not started: busy' }));
    await a.flush();
    const [rec] = await a.sessions();
    assert.equal(rec?.status, 'refused');
    assert.equal(rec?.report, undefined);
  });
});
