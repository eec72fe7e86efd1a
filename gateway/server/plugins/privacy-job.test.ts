/** The daily retention run: once per local day, caught up after a day off, never two at once. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dayKey } from '../../store/store-file.js';
import { RetentionJob } from './privacy-job.js';

const DAY_MS = 24 * 60 * 60 * 1000;

test('the retention run happens once a day, however often the hourly check asks', async () => {
  let now = new Date(2025, 2, 10, 9).getTime();
  let lastDay: string | undefined;
  let runs = 0;
  let release: () => void = () => undefined;
  const job = new RetentionJob(
    () =>
      new Promise<void>((resolve) => {
        runs++;
        release = () => {
          lastDay = dayKey(now);
          resolve();
        };
      }),
    () => lastDay,
    () => now,
  );
  const first = job.tick();
  const again = job.tick();
  assert.equal(runs, 1, 'a check while a run is going joins it');
  release();
  await Promise.all([first, again]);
  await job.tick();
  now += 14 * 3_600_000;
  await job.tick();
  assert.equal(runs, 1, 'the same day asks for nothing more');

  now += DAY_MS;
  const next = job.tick();
  assert.equal(runs, 2, 'the next day runs again');
  release();
  await next;
  await job.settled();
});

test('a run that failed is tried again at the next check the same day', async () => {
  let lastDay: string | undefined;
  let runs = 0;
  const now = () => new Date(2025, 2, 10, 9).getTime();
  const job = new RetentionJob(
    async () => {
      runs++;
      // The store marks the day done only when a run finishes; the first one does not.
      if (runs > 1) lastDay = dayKey(now());
    },
    () => lastDay,
    now,
  );
  await job.tick();
  await job.tick();
  await job.tick();
  assert.equal(runs, 2);
});
