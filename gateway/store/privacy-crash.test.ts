/**
 * An erasure killed with SIGKILL at random moments (a crash, an OOM kill, a power cut without the
 * disk's part): after the next open, either the erasure never began (the client is still there:
 * the request was never answered) or no file in the data directory names the client any more.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../paths.js';
import { JsonStore } from './store.js';
import { DAY_MS, MemoryLog, closeBeforeRemoving, scratchDir } from './test-support/fixtures.js';
import { ANN, FEB_2, buildHistory, filesContaining } from './test-support/privacy-fixture.js';

const WRITER = fileURLToPath(new URL('./test-support/erase-writer.ts', import.meta.url));
const KILLS = 8;
const CHILD_START_TIMEOUT_MS = 30_000;
const NOW = FEB_2 + DAY_MS + 3_600_000;

/** Runs the writer; kills it `killAfterMs` after "erasing" (never, when undefined). */
function runWriter(
  dataDir: string,
  killAfterMs: number | undefined,
): Promise<{ erasedMs?: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir, String(NOW)], {
      cwd: PACKAGE_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let erasedMs: number | undefined;
    const startTimer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`erase-writer did not start within ${CHILD_START_TIMEOUT_MS} ms: ${stderr}`));
    }, CHILD_START_TIMEOUT_MS);
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'erasing') {
        clearTimeout(startTimer);
        if (killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      } else if (line.startsWith('erased ')) {
        erasedMs = Number(line.slice('erased '.length));
        if (killAfterMs === undefined) child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(startTimer);
      resolve({ ...(erasedMs !== undefined ? { erasedMs } : {}), stderr });
    });
  });
}

test(`an erasure killed at ${KILLS} random moments is finished at the next open, or never began`, async (t) => {
  // How long an erasure of this history takes here: the kills land within it.
  const probeDir = await scratchDir(t);
  await buildHistory(probeDir);
  const probe = await runWriter(probeDir, undefined);
  assert.ok(probe.erasedMs !== undefined, `the erasure finished: ${probe.stderr}`);
  const erasureMs: number = probe.erasedMs;
  assert.deepEqual(await filesContaining(probeDir, ANN), []);
  const outcomes = { 'not begun': 0, 'finished at open': 0, 'done before the kill': 0 };

  for (let run = 0; run < KILLS; run++) {
    const dir = await scratchDir(t);
    await buildHistory(dir);
    const killAfterMs = Math.random() * erasureMs * 1.2;
    const r = await runWriter(dir, killAfterMs);
    const note = `run ${run}, killed ${killAfterMs.toFixed(1)} ms into a ${erasureMs} ms erasure`;
    assert.equal(r.stderr, '', `${note}: the writer logged nothing`);
    const store = new JsonStore({ dataDir: dir, now: () => NOW, log: new MemoryLog() });
    closeBeforeRemoving(dir, () => store.close());
    await store.open();
    assert.equal(store.health().recovered, undefined, `${note}: no recovery was needed`);
    if (store.client('c-ann') !== undefined) {
      outcomes['not begun']++;
      assert.ok((await store.session('s-ann-jan'))?.clientId === 'c-ann', `${note}: nothing was half-done`);
    } else {
      outcomes[r.erasedMs !== undefined ? 'done before the kill' : 'finished at open']++;
      await store.close();
      assert.deepEqual(await filesContaining(dir, ANN), [], `${note}: no file names her`);
      assert.deepEqual(await filesContaining(dir, 'Ann felt dizzy'), [], note);
    }
    await store.close();
  }
  t.diagnostic(`erasure ${erasureMs} ms; outcomes ${JSON.stringify(outcomes)}`);
});
