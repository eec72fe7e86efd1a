/**
 * The store killed with SIGKILL at random moments (a crash, an OOM kill, pm2's kill after its
 * timeout). "Acknowledged" means flush() resolved: the point where the server tells the controller
 * to start the session. Every acknowledged session must be there after every kill, and the live
 * file must always parse — so a kill can never send the store into backup recovery. Finally the
 * live file is damaged on purpose: the restore from the daily backup plus the session journal must
 * still hold every acknowledged session.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../paths.js';
import { JsonStore, STORE_FILE_NAME } from './store.js';
import { DAY_MS, MemoryLog, closeBeforeRemoving, scratchDir } from './test-support/fixtures.js';

const WRITER = fileURLToPath(new URL('./test-support/crash-writer.ts', import.meta.url));
const KILLS = 20;
/** The kill comes this long, at most, after the child has opened the store. */
const MAX_KILL_DELAY_MS = 250;
const CHILD_START_TIMEOUT_MS = 20_000;
/** Three days per run: the runs cross days (backups, journal restarts) and months (archive moves). */
const DAYS_PER_RUN = 3;

interface Run {
  acked: string[];
  stderr: string;
  killedAfterMs: number;
}

function runAndKill(dataDir: string, run: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', WRITER, dataDir, String(run * DAYS_PER_RUN), `r${run}`],
      {
        cwd: PACKAGE_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const acked: string[] = [];
    let stderr = '';
    let killedAfterMs = -1;
    const startTimer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`crash-writer did not open the store within ${CHILD_START_TIMEOUT_MS} ms: ${stderr}`));
    }, CHILD_START_TIMEOUT_MS);
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'opened') {
        clearTimeout(startTimer);
        killedAfterMs = Math.random() * MAX_KILL_DELAY_MS;
        setTimeout(() => child.kill('SIGKILL'), killedAfterMs);
      } else if (line.startsWith('acked ')) acked.push(line.slice('acked '.length));
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(startTimer);
      if (signal !== 'SIGKILL') reject(new Error(`crash-writer exited by itself (${code}): ${stderr}`));
      else resolve({ acked, stderr, killedAfterMs });
    });
  });
}

test(`SIGKILL at ${KILLS} random moments loses no acknowledged session`, async (t) => {
  const dir = await scratchDir(t);
  const file = join(dir, STORE_FILE_NAME);
  const acked: string[] = [];
  let lastNow = Date.now();

  for (let run = 0; run < KILLS; run++) {
    const r = await runAndKill(dir, run);
    acked.push(...r.acked);
    const note = `run ${run}, killed ${r.killedAfterMs.toFixed(0)} ms after open, ${r.acked.length} acked`;
    assert.equal(r.stderr, '', `${note}: the writer logged nothing`);

    // The file as a reader finds it: it parses, no recovery needed.
    const text = await readFile(file, 'utf8');
    assert.doesNotThrow(() => JSON.parse(text), note);
    lastNow = Date.now() + run * DAYS_PER_RUN * DAY_MS;
    const store = new JsonStore({ dataDir: dir, now: () => lastNow, log: new MemoryLog() });
    closeBeforeRemoving(dir, () => store.close());
    await store.open();
    assert.equal(store.health().recovered, undefined, note);
    for (const id of acked) assert.ok(await store.session(id), `${note}: acknowledged ${id} is missing`);
    await store.close();
  }
  assert.ok(acked.length >= KILLS, `only ${acked.length} sessions acknowledged in ${KILLS} runs`);
  t.diagnostic(`${acked.length} sessions acknowledged over ${KILLS} kills`);

  // Damage the live file: the newest daily backup is older than many acknowledged sessions.
  const good = await readFile(file);
  await writeFile(file, good.subarray(0, Math.floor(good.length / 2)));
  const store = new JsonStore({ dataDir: dir, now: () => lastNow, log: new MemoryLog() });
  closeBeforeRemoving(dir, () => store.close());
  await store.open();
  const recovered = store.health().recovered;
  assert.ok(recovered && recovered.restoredFrom !== 'defaults', JSON.stringify(recovered));
  const missing: string[] = [];
  for (const id of acked) if (!(await store.session(id))) missing.push(id);
  assert.deepEqual(missing, [], `restored from ${recovered.restoredFrom}`);
  await store.close();
});
