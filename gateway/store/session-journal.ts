/**
 * An append-only log of every session record version the store has made durable since the last
 * daily backup: presso.sessions.jsonl, one JSON record per line.
 *
 * Why: a session is "acknowledged" once flush() resolves, and the server only then tells the
 * controller to start it. A rename-over write never leaves presso.json half-written, but if the
 * file is later found damaged (storage fault, a person editing it) the store restores the last
 * daily backup, which is older than sessions acknowledged since. Replaying this journal over the
 * restored backup brings those sessions back, so "acknowledged" holds across a restore too.
 *
 * Lines are appended after the live file's write and fsync'd before flush() resolves. A line cut
 * by a crash was never acknowledged; every append starts with a newline, so such a fragment
 * stays on a line of its own and is skipped when read.
 */
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorCode, fsyncDir, readTextIfExists, STORE_FILE_MODE, writeFileDurably } from './durable-file.js';
import { isSessionRecord } from './store-file.js';
import type { SessionRecord } from './types.js';

export class SessionJournal {
  /** The directory entry of a newly created journal must be fsync'd once. */
  private entrySynced = false;

  constructor(readonly file: string) {}

  async append(records: SessionRecord[]): Promise<void> {
    if (records.length === 0) return;
    const text = records.map((r) => `\n${JSON.stringify(r)}`).join('');
    const fh = await open(this.file, 'a', STORE_FILE_MODE);
    try {
      await fh.appendFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (!this.entrySynced) {
      await fsyncDir(dirname(this.file));
      this.entrySynced = true;
    }
  }

  /** Empties the journal once a backup that holds all of it is on disk. */
  async clear(): Promise<void> {
    let fh;
    try {
      fh = await open(this.file, 'r+');
    } catch (e) {
      if (errorCode(e) === 'ENOENT') return;
      throw e;
    }
    try {
      await fh.truncate(0);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /**
   * Writes the journal anew with `transform` applied (anonymisation), durably and only if it
   * changed something; true when it wrote. Runs inside the store's write chain, so no append races it.
   */
  async rewrite(
    transform: (records: SessionRecord[]) => { list: SessionRecord[]; changed: number },
  ): Promise<boolean> {
    const { list, changed } = transform(await this.read());
    if (changed === 0) return false;
    await writeFileDurably(this.file, list.map((r) => `\n${JSON.stringify(r)}`).join(''));
    return true;
  }

  /** Every complete record, oldest first. */
  async read(): Promise<SessionRecord[]> {
    const text = await readTextIfExists(this.file);
    if (text === null) return [];
    const out: SessionRecord[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        continue; // a line cut by a crash: it was never acknowledged
      }
      if (isSessionRecord(raw)) out.push(raw);
    }
    return out;
  }
}
