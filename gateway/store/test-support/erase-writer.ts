/**
 * Child process for the erasure SIGKILL test (privacy-crash.test.ts). Usage:
 *   node --import tsx erase-writer.ts <dataDir> <nowEpochMs>
 * Opens the store (finishing any erasure an earlier kill cut short), prints "erasing", erases the
 * client c-ann, prints "erased <ms>" and stays open until it is killed.
 */
import { JsonStore } from '../store.js';

const [dataDir, nowArg] = process.argv.slice(2);
if (!dataDir || !nowArg) {
  console.error('usage: erase-writer.ts <dataDir> <nowEpochMs>');
  process.exit(2);
}
const store = new JsonStore({
  dataDir,
  now: () => Number(nowArg),
  writeDelayMs: 2,
  log: { info: () => undefined, warn: (m) => console.error(m), error: (m) => console.error(m) },
});
await store.open();
const started = performance.now();
// Pipes to the parent are written synchronously on Linux: once written, the line has left us.
process.stdout.write('erasing\n');
await store.eraseClient('c-ann');
process.stdout.write(`erased ${(performance.now() - started).toFixed(1)}\n`);
setInterval(() => undefined, 60_000);
