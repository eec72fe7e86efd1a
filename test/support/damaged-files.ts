/**
 * Data dirs with a known good history, and the ways a power cut or a failing SD card damages
 * presso.json: for the web process's recovery tests (gateway/server/recovery.test.ts) and the
 * corrupt-database campaign (bench/lib/campaign-corrupt.ts), which must damage files alike.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashSecret } from '../../gateway/server/secrets.js';
import { JsonStore } from '../../gateway/store/store.js';
import type { SessionRecord } from '../../gateway/store/types.js';

export const DAY_MS = 24 * 3600_000;

export const DAMAGES = ['truncated', 'garbage', 'bit-flip', 'nul-bytes', 'empty'] as const;
export type Damage = (typeof DAMAGES)[number];

/** A stopped ten-minute session on bay 1, started now by `startedBy`. */
export function stoppedSession(id: string, client: string, startedBy = 'sam'): SessionRecord {
  const at = Date.now();
  return {
    id,
    stationId: 'bay-1',
    programId: 'leg-circulation',
    programVersion: 1,
    client,
    startedBy,
    startedAtEpochMs: at,
    durationMin: 10,
    status: 'stopped',
    endedAtEpochMs: at + 1000,
  };
}

export interface GoodDataDirOptions {
  /** Without one, the backups folder is removed: the damaged file has nothing to restore from. */
  withBackup: boolean;
  /** A user written before the backup (so only the backup brings it back). */
  user?: { id: string; secret: string; role: 'viewer' | 'staff' | 'support' | 'admin' };
  /** Who started the two sessions. */
  startedBy?: string;
  prefix?: string;
  log?: { info(m: string): void; warn(m: string): void; error(m: string): void };
}

/**
 * A data dir with a good history: yesterday's backup holds session `inBackup` (and `user`);
 * session `inJournal` was acknowledged after that backup, so only the live file and the session
 * journal hold it. The store's clock is moved (two days ago, then yesterday) because JsonStore
 * backs up once per calendar day, at the first write of the day.
 */
export async function goodDataDir(
  o: GoodDataDirOptions,
): Promise<{ dir: string; inBackup: string; inJournal: string }> {
  const dir = mkdtempSync(join(tmpdir(), o.prefix ?? 'presso-recovery-'));
  const inBackup = `backup-${randomUUID()}`;
  const inJournal = `journal-${randomUUID()}`;
  const log = o.log ?? { info: () => {}, warn: () => {}, error: (m: string) => console.error(m) };
  if (o.withBackup) {
    const first = new JsonStore({ dataDir: dir, now: () => Date.now() - 2 * DAY_MS, log });
    await first.open();
    if (o.user !== undefined) {
      first.putUser({
        id: o.user.id,
        name: o.user.id.charAt(0).toUpperCase() + o.user.id.slice(1),
        role: o.user.role,
        secretHash: await hashSecret(o.user.secret),
        createdAtEpochMs: Date.now(),
      });
    }
    first.putSession(stoppedSession(inBackup, 'Backed Up', o.startedBy));
    await first.close();
  }
  // Yesterday's first write makes yesterday's backup, which then holds everything above.
  const second = new JsonStore({ dataDir: dir, now: () => Date.now() - DAY_MS, log });
  await second.open();
  second.putSession(stoppedSession(inJournal, 'Journalled', o.startedBy));
  await second.close();
  const backups = readdirSync(join(dir, 'backups'));
  assert.equal(backups.length, o.withBackup ? 2 : 1, `backups made: ${backups.join(', ')}`);
  if (!o.withBackup) rmSync(join(dir, 'backups'), { recursive: true, force: true });
  return { dir, inBackup, inJournal };
}

/**
 * Damages `file` as `how` says, at a place `rand` picks (inside the JSON: never the first or the
 * last byte, so a truncated file can never parse); returns what was done, for messages.
 */
export function damageFile(file: string, how: Damage, rand: () => number = Math.random): string {
  const buf = readFileSync(file);
  const size = buf.length;
  const at = 1 + Math.floor(rand() * (size - 2));
  switch (how) {
    case 'truncated':
      writeFileSync(file, buf.subarray(0, at));
      return `truncated at byte ${at} of ${size}`;
    case 'garbage': {
      const len = 1 + Math.floor(rand() * Math.min(64, size - at));
      for (let i = 0; i < len; i++) buf[at + i] = Math.floor(rand() * 256);
      writeFileSync(file, buf);
      return `${len} random bytes at ${at}`;
    }
    case 'bit-flip':
      buf[at] = (buf[at] ?? 0) ^ (1 << Math.floor(rand() * 8));
      writeFileSync(file, buf);
      return `one bit flipped at byte ${at}`;
    case 'nul-bytes':
      // What a power cut leaves on some SD cards: the right length, all zeros.
      writeFileSync(file, Buffer.alloc(size));
      return `${size} NUL bytes`;
    case 'empty':
      writeFileSync(file, '');
      return 'empty';
  }
}
