/**
 * Erasure and retention reach every place the store keeps data: the live file, the month archives,
 * the report files, the session journal and the daily backups. Pressures stay for statistics.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ANONYMISED_CLIENT } from './anonymise.js';
import { JsonStore } from './store.js';
import type { ManualClock } from './test-support/fixtures.js';
import { DAY_MS, MemoryLog, closeBeforeRemoving, scratchDir } from './test-support/fixtures.js';
import {
  ANN,
  ANN_NOTE,
  BOB,
  FEB_2,
  buildHistory,
  client,
  filesContaining,
} from './test-support/privacy-fixture.js';

async function opened(dataDir: string, clock: ManualClock): Promise<JsonStore> {
  const store = new JsonStore({ dataDir, now: clock.now, writeDelayMs: 60_000, log: new MemoryLog() });
  closeBeforeRemoving(dataDir, () => store.close());
  await store.open();
  return store;
}

describe('privacy: erasure', () => {
  test('erasing a client removes their name, notes, screening and stop reasons from every file, and keeps the pressures', async (t) => {
    const dir = await scratchDir(t);
    const clock = await buildHistory(dir);
    // The history really is spread over every kind of file before the erasure.
    const before = await filesContaining(dir, ANN);
    for (const place of [
      'presso.json',
      'archive/sessions-2025-01.json',
      'presso.sessions.jsonl',
      'backups/presso-2025-02-02.json',
    ])
      assert.ok(before.includes(place), `${place} names the client before: ${before.join(', ')}`);
    assert.ok((await filesContaining(dir, 'Ann felt dizzy')).some((f) => f.startsWith('reports/')));

    const store = await opened(dir, clock);
    const result = await store.eraseClient('c-ann');
    assert.deepEqual({ id: result?.clientId, n: result?.sessionsAnonymised }, { id: 'c-ann', n: 3 });
    assert.ok((result?.filesRewritten ?? 0) >= 4, `files rewritten: ${result?.filesRewritten}`);
    await store.close();

    for (const text of [ANN, ANN_NOTE, 'Ann felt dizzy', 'c-ann'])
      assert.deepEqual(await filesContaining(dir, text), [], `"${text}" is gone from every file`);
    // The other client is untouched everywhere.
    assert.ok((await filesContaining(dir, BOB)).includes('archive/sessions-2025-01.json'));
    assert.ok((await filesContaining(dir, 'Bob felt dizzy')).some((f) => f.startsWith('reports/')));

    const again = await opened(dir, clock);
    assert.equal(again.client('c-ann'), undefined);
    assert.ok(again.client('c-bob')?.screening, 'the other client keeps their screening');
    for (const id of ['s-ann-jan', 's-ann-feb', 's-ann-feb2']) {
      const s = await again.session(id);
      assert.equal(s?.client, ANONYMISED_CLIENT, id);
      assert.equal(s?.clientId, undefined, id);
      assert.equal(s?.screening, undefined, id);
      assert.equal(s?.anonymised?.why, 'erasure', id);
      assert.equal(s?.pressureMmHg, 60, `${id}: the set pressure stays`);
      assert.ok((s?.report?.zones.length ?? 0) > 0, `${id}: the delivered pressures stay`);
      assert.doesNotMatch(s?.report?.reason ?? '', /Ann/);
    }
    assert.equal((await again.session('s-bob-jan'))?.client, BOB);
    assert.equal(await again.eraseClient('c-ann'), undefined, 'a second erasure finds no client');
  });

  test('an erasure cut short after its intent was written is finished when the store opens', async (t) => {
    const dir = await scratchDir(t);
    const clock = await buildHistory(dir);
    const store = await opened(dir, clock);
    // The report files fail half-way through, as a crash there would leave them.
    const reports = (store as unknown as { reports: { rewrite: () => Promise<boolean> } }).reports;
    reports.rewrite = () => Promise.reject(new Error('simulated crash'));
    await assert.rejects(store.eraseClient('c-ann'), /simulated crash/);
    assert.ok((await filesContaining(dir, 'Ann felt dizzy')).length > 0, 'the report files still name her');
    const left = await filesContaining(dir, ANN);
    assert.ok(
      left.length > 0 && left.every((f) => f.startsWith('backups/') || f === 'presso.sessions.jsonl'),
      `the live file and the archive were done, the journal and backups not yet: ${left.join(', ')}`,
    );
    await store.close();

    const reopened = await opened(dir, clock);
    assert.deepEqual(await filesContaining(dir, 'Ann felt dizzy'), [], 'open() finished the erasure');
    assert.deepEqual(await filesContaining(dir, ANN), []);
    assert.deepEqual(await filesContaining(dir, '"pendingErasures":[{'), [], 'and removed its intent');
    assert.equal((await reopened.session('s-ann-jan'))?.anonymised?.why, 'erasure');
  });
});

describe('privacy: retention', () => {
  test('the daily run anonymises sessions and screenings older than the retention period, in every file', async (t) => {
    const dir = await scratchDir(t);
    const clock = await buildHistory(dir);
    const store = await opened(dir, clock);
    store.putPrivacySettings({ retentionDays: 30, screeningMaxAgeDays: 180, consentTextVersion: '1' });
    store.putClient(
      client('c-new', 'Cleo Recent', FEB_2 + 20 * DAY_MS, {
        screening: { atEpochMs: FEB_2 + 20 * DAY_MS, answers: { 'recent-surgery': false }, blocked: false },
      }),
    );

    // 31 days after mid-January: January is out of retention, February is not.
    clock.ms = FEB_2 + 14 * DAY_MS;
    const first = await store.applyRetention();
    assert.equal(first.sessionsAnonymised, 2, 'the two January sessions (archived)');
    assert.equal(first.clientScreeningsRemoved, 2, 'Ann and Bob screened in January');
    assert.deepEqual(await filesContaining(dir, 'Bob felt dizzy'), []);
    assert.deepEqual(
      await filesContaining(dir, BOB).then((f) => f.filter((x) => x.startsWith('archive'))),
      [],
    );
    assert.equal((await store.session('s-ann-feb'))?.client, ANN, 'February is kept');
    assert.equal(store.client('c-ann')?.screening, undefined, 'the old screening is gone');
    assert.equal(store.client('c-ann')?.name, ANN, 'the record itself stays (erasure removes it)');
    assert.ok(store.client('c-new')?.screening, 'a recent screening stays');

    // Later, February's sessions and the walk-up answers go too; the walk-up stays "walk-up".
    clock.ms = FEB_2 + 40 * DAY_MS;
    const second = await store.applyRetention();
    assert.equal(second.sessionsAnonymised, 3);
    const walkUp = await store.session('s-walkup');
    assert.equal(walkUp?.client, 'walk-up');
    assert.equal(walkUp?.screening, undefined, 'walk-up answers are removed');
    assert.equal(walkUp?.anonymised?.why, 'retention');
    await store.close();
    for (const text of ['felt dizzy', '"pacemaker"', '"dvt"'])
      assert.deepEqual(await filesContaining(dir, text), [], `"${text}" is gone from every file`);
    assert.ok((await filesContaining(dir, ANN)).length > 0, "Ann's client record stays until erased");
    const named = await filesContaining(dir, BOB);
    assert.ok(
      named.every((f) => f === 'presso.json' || f.startsWith('backups/')),
      `only the client record names Bob now: ${named.join(', ')}`,
    );
    assert.ok((await readdir(join(dir, 'reports'))).length >= 2, 'report files stay, with their pressures');
  });
});
