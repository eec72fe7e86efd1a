/**
 * Child process for the SIGKILL test (store-crash.test.ts). Usage:
 *   node --import tsx crash-writer.ts <dataDir> <dayOffset> <runId>
 * Opens the store with its clock moved `dayOffset` days ahead (so runs cross days and months and
 * the backup and archive paths are killed too), then writes for ever: each new session is put and
 * flushed, and only then printed as "acked <id>" — the point at which the server would tell the
 * controller to start it. Between acknowledgements it ends earlier sessions and logs audit entries
 * and alarms without waiting, so timed writes are in flight when the kill comes.
 */
import { JsonStore } from '../store.js';
import { DAY_MS, alarm, auditEntry, endedSession, sessionRecord } from './fixtures.js';

const [dataDir, dayOffsetArg, runId] = process.argv.slice(2);
if (!dataDir || !dayOffsetArg || !runId) {
  console.error('usage: crash-writer.ts <dataDir> <dayOffset> <runId>');
  process.exit(2);
}
const offsetMs = Number(dayOffsetArg) * DAY_MS;
const now = (): number => Date.now() + offsetMs;
const store = new JsonStore({
  dataDir,
  now,
  writeDelayMs: 2,
  log: { info: () => undefined, warn: (m) => console.error(m), error: (m) => console.error(m) },
});
await store.open();
// Pipes to the parent are written synchronously on Linux: once written, the line has left us.
process.stdout.write('opened\n');

for (let i = 0; ; i++) {
  const id = `${runId}-${i}`;
  const s = sessionRecord(id, now());
  store.putSession(s);
  await store.flush();
  process.stdout.write(`acked ${id}\n`);
  store.putSession(endedSession(s, 30));
  store.recordAudit(auditEntry(now(), `POST /api/stations/bay-1/start ${id}`));
  store.recordAlarm(alarm(`${id}-a`, now()), 'raised');
  if (i % 4 === 0) await new Promise((r) => setTimeout(r, Math.random() * 4));
}
