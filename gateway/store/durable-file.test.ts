import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Low } from 'lowdb';
import { MonthlyArchive, AUDIT_ARCHIVE, SESSION_ARCHIVE } from './archive.js';
import { CorruptFileError, DurableJsonFile, ShapeError } from './durable-file.js';
import { MemoryLog, auditEntry, scratchDir, sessionRecord } from './test-support/fixtures.js';

interface Doc {
  n: number;
  list: number[];
}

function validateDoc(raw: unknown): Doc {
  if (typeof raw !== 'object' || raw === null || !('n' in raw) || typeof raw.n !== 'number') {
    throw new ShapeError('"n" is not a number');
  }
  return raw as Doc;
}

describe('DurableJsonFile', () => {
  test('is a lowdb adapter: writes compact JSON and reads it back; a missing file reads as null', async (t) => {
    const dir = await scratchDir(t);
    const file = join(dir, 'doc.json');
    const adapter = new DurableJsonFile<Doc>(file, validateDoc);
    assert.equal(await adapter.read(), null);
    const db = new Low<Doc>(adapter, { n: 0, list: [] });
    db.data.n = 3;
    db.data.list.push(1, 2);
    await db.write();
    assert.equal(await readFile(file, 'utf8'), '{"n":3,"list":[1,2]}');
    const again = new Low<Doc>(new DurableJsonFile<Doc>(file, validateDoc), { n: 0, list: [] });
    await again.read();
    assert.deepEqual(again.data, { n: 3, list: [1, 2] });
    assert.deepEqual(await readdir(dir), ['doc.json'], 'no temporary file left');
  });

  test('bad JSON and the wrong shape are CorruptFileErrors naming the file', async (t) => {
    const dir = await scratchDir(t);
    const file = join(dir, 'doc.json');
    const adapter = new DurableJsonFile<Doc>(file, validateDoc);
    for (const [content, pattern] of [
      ['{"n":', /not valid JSON/],
      ['', /not valid JSON \(0 characters\)/],
      ['\u0000\u0000', /not valid JSON/],
      ['{"n":"x"}', /"n" is not a number/],
    ] as const) {
      await writeFile(file, content);
      await assert.rejects(
        adapter.read(),
        (e: unknown) =>
          e instanceof CorruptFileError &&
          e.file === file &&
          e.message.startsWith(file) &&
          pattern.test(e.message),
        JSON.stringify(content),
      );
    }
  });

  test('concurrent writes: the newest data wins, every caller resolves after a write holding its data', async (t) => {
    const dir = await scratchDir(t);
    const file = join(dir, 'doc.json');
    const adapter = new DurableJsonFile<Doc>(file, validateDoc);
    const seen: number[] = [];
    const writes = Array.from({ length: 50 }, (_, i) =>
      adapter.write({ n: i, list: [] }).then(async () => {
        const onDisk = JSON.parse(await readFile(file, 'utf8')) as Doc;
        seen.push(onDisk.n);
        assert.ok(onDisk.n >= i, `write ${i} resolved with ${onDisk.n} on disk`);
      }),
    );
    await Promise.all(writes);
    assert.equal((JSON.parse(await readFile(file, 'utf8')) as Doc).n, 49);
    assert.ok(adapter.writes < 50, `coalesced into ${adapter.writes} writes`);
    assert.ok(adapter.writes >= 2, 'the first write and the newest');
    assert.equal(seen.length, 50);
  });

  test('a failed write rejects its callers and leaves the old file in place', async (t) => {
    const dir = await scratchDir(t);
    const file = join(dir, 'missing-dir', 'doc.json');
    const adapter = new DurableJsonFile<Doc>(file, validateDoc);
    await assert.rejects(adapter.write({ n: 1, list: [] }), (e: Error) => e.message.includes(file));
  });
});

describe('MonthlyArchive', () => {
  test('merging the same records twice (a move cut short and redone) does not double them', async (t) => {
    const dir = await scratchDir(t);
    const archive = new MonthlyArchive(dir, () => 0, new MemoryLog());
    const sessions = [sessionRecord('a', 1), sessionRecord('b', 2)];
    // Two identical audit entries are two events and must stay two.
    const audit = [auditEntry(5), auditEntry(5), auditEntry(6)];
    await archive.add(SESSION_ARCHIVE, '2025-01', sessions);
    await archive.add(AUDIT_ARCHIVE, '2025-01', audit);
    await archive.add(SESSION_ARCHIVE, '2025-01', [
      sessionRecord('a', 1, { status: 'completed' }),
      sessions[1]!,
    ]);
    await archive.add(AUDIT_ARCHIVE, '2025-01', audit);
    assert.deepEqual(
      (await new MonthlyArchive(dir, () => 0, new MemoryLog()).sessions('2025-01')).map((s) => [
        s.id,
        s.status,
      ]),
      [
        ['a', 'completed'],
        ['b', 'running'],
      ],
    );
    const onDisk = JSON.parse(await readFile(archive.fileFor('audit', '2025-01'), 'utf8')) as {
      records: unknown[];
    };
    assert.equal(onDisk.records.length, 3);
    assert.deepEqual(await archive.months('sessions'), ['2025-01']);
  });

  test('a damaged archive file is moved aside when records are added, and reads as empty', async (t) => {
    const dir = await scratchDir(t);
    const log = new MemoryLog();
    const archive = new MonthlyArchive(dir, () => Date.UTC(2025, 1, 1), log);
    await writeFile(archive.fileFor('sessions', '2025-01'), '{"format":"presso-arch');
    assert.deepEqual(await new MonthlyArchive(dir, () => 0, log).sessions('2025-01'), []);
    await archive.add(SESSION_ARCHIVE, '2025-01', [sessionRecord('c', 3)]);
    assert.deepEqual((await readdir(dir)).sort(), [
      'sessions-2025-01.json',
      'sessions-2025-01.json.corrupt-2025-02-01T00:00:00.000Z',
    ]);
    assert.ok(log.lines.some((l) => l.startsWith('error') && l.includes('moved to')));
  });
});
