/**
 * Recovery of the live file from damage done from outside (a crash never needs it: every write is
 * rename-over). The damaged file is moved aside, the newest backup that parses is restored (else
 * the defaults), and the session journal is replayed over it. Also: the backups' names, and the
 * temporary files a crash mid-write leaves behind.
 */
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoreLog } from './archive.js';
import { errorCode, errorMessage, moveAside, parseJson, readTextIfExists } from './durable-file.js';
import type { SessionJournal } from './session-journal.js';
import { emptyStoreFile, type StoreFile, upsert, validateStoreFile } from './store-file.js';
import type { StoreHealth } from './types.js';

const BACKUP_NAME = /^presso-\d{4}-\d{2}-\d{2}\.json$/;
/** Temporary files of writes cut short by a crash: ".presso.json.tmp", ".sessions-2025-01.json.tmp", … */
const STALE_TEMP = /^\.(presso|sessions|audit|alarms|reports)[^/]*\.jsonl?\.tmp$/;

/** Backup file names in `backupsDir`, newest first. */
export async function backupNames(backupsDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(backupsDir);
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return [];
    throw e;
  }
  return names
    .filter((n) => BACKUP_NAME.test(n))
    .sort()
    .reverse();
}

/** Deletes the temporary files of writes a crash cut short. */
export async function removeStaleTemps(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if (errorCode(e) === 'ENOENT') continue;
      throw e;
    }
    for (const name of names) {
      if (STALE_TEMP.test(name)) await unlink(join(dir, name)).catch(() => undefined);
    }
  }
}

/** Where a store's files are, for its recovery. */
export interface RecoverySource {
  readonly file: string;
  readonly backupsDir: string;
  readonly journal: SessionJournal;
  readonly log: StoreLog;
  readonly now: () => number;
}

/**
 * Moves the damaged file aside, restores the newest backup that parses (else the defaults),
 * replays the session journal over it, and says what happened (for health().recovered).
 */
export async function restoreStoreFile(
  src: RecoverySource,
  problem: string,
  fileExists: boolean,
): Promise<{ data: StoreFile; recovered: NonNullable<StoreHealth['recovered']> }> {
  const at = src.now();
  const movedTo = fileExists ? await moveAside(src.file, at) : 'nothing (the file was missing)';
  let restored: StoreFile | undefined;
  let restoredFrom = 'defaults';
  for (const name of await backupNames(src.backupsDir)) {
    const path = join(src.backupsDir, name);
    try {
      const text = await readTextIfExists(path);
      if (text === null) continue;
      restored = parseJson(path, text, (raw) => validateStoreFile(raw, path));
      restoredFrom = path;
      break;
    } catch (e) {
      src.log.warn(`backup not usable: ${errorMessage(e)}`);
    }
  }
  const data = restored ?? emptyStoreFile();
  let replayed = 0;
  try {
    for (const s of await src.journal.read()) {
      upsert(data.sessions, s, (x) => x.id === s.id);
      replayed++;
    }
  } catch (e) {
    src.log.error(`session journal ${src.journal.file} unreadable: ${errorMessage(e)}`);
  }
  src.log.warn(
    `store file unusable (${problem}); moved to ${movedTo}, restored from ${restoredFrom}` +
      (replayed > 0 ? `, ${replayed} session record(s) replayed from ${src.journal.file}` : ''),
  );
  return { data, recovered: { movedTo, restoredFrom, atEpochMs: at, error: problem } };
}
