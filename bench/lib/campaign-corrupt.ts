/**
 * Corrupt-database campaign: a good data dir (a backup from yesterday, a session acknowledged
 * after it that only the live file and the session journal hold), its presso.json damaged at
 * random — truncated at a random byte, a random span overwritten with random bytes, one bit
 * flipped, zero-filled or emptied — and the real web process started on it. Each start must come
 * up, restore the last good state (both sessions) and raise the latched 'database-recovered'
 * alarm. A damage that leaves valid JSON of the right shape (a flipped bit inside a string, say)
 * cannot be told from an edit; it is counted apart, and the start must still come up and serve.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlarmInfo } from '../../gateway/protocol.js';
import { STORE_FILE_NAME } from '../../gateway/store/store.js';
import type { SessionRecord } from '../../gateway/store/types.js';
import type { Runner } from './compile.js';
import { DAMAGES, damageFile, goodDataDir, type Damage } from '../../test/support/damaged-files.js';
import { call } from '../../test/support/http.js';
import { spawnListening } from './procs.js';

const TOKEN = 'campaign-admin-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

export interface CorruptCounts {
  starts: number;
  byDamage: Record<string, number>;
  recovered: number;
  alarmRaised: number;
  lastGoodStateRestored: number;
  /** Damaged files that still parsed (undetectable): served, no recovery expected. */
  stillValid: number;
  failedToStart: number;
  failures: string[];
  durationS: number;
}

export async function corruptCampaign(
  starts: number,
  runner: Runner,
  log: (m: string) => void = () => {},
  rand: () => number = Math.random,
): Promise<CorruptCounts> {
  const t0 = Date.now();
  // The good data dir as recovery.test.ts builds it.
  const good = await goodDataDir({
    withBackup: true,
    startedBy: 'campaign',
    prefix: 'presso-corrupt-good-',
    log: { info: () => {}, warn: () => {}, error: () => {} },
  });
  const c: CorruptCounts = {
    starts: 0,
    byDamage: {},
    recovered: 0,
    alarmRaised: 0,
    lastGoodStateRestored: 0,
    stillValid: 0,
    failedToStart: 0,
    failures: [],
    durationS: 0,
  };
  try {
    for (let i = 0; i < starts; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'presso-corrupt-'));
      try {
        cpSync(good.dir, dir, { recursive: true });
        const how = DAMAGES[i % DAMAGES.length] as Damage;
        const file = join(dir, STORE_FILE_NAME);
        const what = damageFile(file, how, rand);
        c.byDamage[how] = (c.byDamage[how] ?? 0) + 1;
        let parses = true;
        try {
          JSON.parse(readFileSync(file, 'utf8'));
        } catch {
          parses = false;
        }
        let web;
        try {
          // No controller: the web process must start and serve history without one.
          web = await spawnListening(
            'gateway/server/main.ts',
            { PRESSO_DATA_DIR: dir, PRESSO_ADMIN_TOKEN: TOKEN },
            runner,
          );
        } catch (e) {
          c.failedToStart++;
          c.failures.push(`start ${i} (${what}): ${(e as Error).message.split('\n')[0]}`);
          continue;
        }
        try {
          c.starts++;
          const alarms = await call<{ active: AlarmInfo[] | null }>(web.base, '/api/alarms', {
            headers: AUTH,
          });
          const alarm = alarms.body.active?.find((a) => a.code === 'database-recovered' && a.latched);
          const s = await call<{ sessions: SessionRecord[] }>(web.base, '/api/sessions?limit=5000', {
            headers: AUTH,
          });
          const ids = new Set((s.body.sessions ?? []).map((x) => x.id));
          const restored = ids.has(good.inBackup) && ids.has(good.inJournal);
          if (alarm) {
            c.recovered++;
            c.alarmRaised++;
          }
          if (restored) c.lastGoodStateRestored++;
          if (parses && !alarm) {
            // Valid JSON after the damage: it may pass the shape check and be taken as it is.
            c.stillValid++;
            if (s.status !== 200)
              c.failures.push(`start ${i} (${what}): still-valid file, sessions answer ${s.status}`);
          } else if (!alarm || !restored) {
            c.failures.push(
              `start ${i} (${what}): ${alarm ? '' : 'no database-recovered alarm; '}${restored ? '' : 'last good state not restored'}`,
            );
          }
        } finally {
          await web.kill('SIGTERM');
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      if ((i + 1) % 20 === 0 || i + 1 === starts)
        log(`corrupt: ${i + 1}/${starts}, ${c.failures.length} failures`);
    }
  } finally {
    rmSync(good.dir, { recursive: true, force: true });
  }
  c.durationS = (Date.now() - t0) / 1000;
  return c;
}
