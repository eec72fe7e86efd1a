/**
 * Durable JSON files for the store. lowdb's own JSONFile (steno) is atomic but never fsyncs
 * (testing-real-components.md §9): after a power cut the renamed file may be empty on some
 * filesystems. A session must be on the SD card before the controller is told to start it, so
 * every write here is: temporary file in the same directory → write → fsync → rename over the
 * target → fsync the directory (the rename itself is only durable once the directory is synced).
 */
import { lstat, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';

/** Files hold user secrets (scrypt hashes): readable by the gateway's own user only. */
export const STORE_FILE_MODE = 0o600;

/** The content of a file is not what it should be: bad JSON, or JSON of the wrong shape. */
export class CorruptFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'CorruptFileError';
  }
}

/** Thrown by a validator for JSON that parses but is not the expected shape. */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

export function errorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}

/** An error's message, or the thrown value in words. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An I/O error that names the file, so "EACCES" in a log says which path to fix. */
function ioError(action: string, file: string, e: unknown): Error {
  const msg = errorMessage(e);
  const err = new Error(msg.includes(file) ? `${action}: ${msg}` : `${action} ${file}: ${msg}`, { cause: e });
  return Object.assign(err, { code: errorCode(e) });
}

/**
 * fsync a directory so a rename or a new entry in it survives a power cut. Some platforms refuse
 * to open or sync a directory (not Linux); there is then nothing more we can do, so it is skipped.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
  } catch (e) {
    if (['EISDIR', 'EPERM', 'EINVAL'].includes(errorCode(e) ?? '')) return;
    throw ioError('cannot open directory', dir, e);
  }
  try {
    await fh.sync();
  } catch (e) {
    if (!['EINVAL', 'EBADF', 'EPERM'].includes(errorCode(e) ?? '')) throw ioError('cannot fsync', dir, e);
  } finally {
    await fh.close();
  }
}

/** The temporary sibling a write goes through; fixed per target because there is one writer. */
export function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.tmp`);
}

/** Replaces `file` with `text` so that, once this resolves, a power cut leaves the new content. */
export async function writeFileDurably(file: string, text: string): Promise<void> {
  const tmp = tempPathFor(file);
  try {
    const fh = await open(tmp, 'w', STORE_FILE_MODE);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw ioError('cannot write', file, e);
  }
  await fsyncDir(dirname(file));
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return false;
    throw ioError('cannot inspect', path, e);
  }
}

/** The file's text, or null when it does not exist. Other I/O errors are thrown with the path. */
export async function readTextIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return null;
    throw ioError('cannot read', file, e);
  }
}

/** The names in `dir`, or none when it does not exist yet (nothing was written there). */
export async function namesIfExists(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Parses `text` and checks its shape. `validate` returns the typed value or throws ShapeError;
 * other errors from it (e.g. "written by a newer version") pass through unchanged.
 */
export function parseJson<T>(file: string, text: string, validate: (raw: unknown) => T): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CorruptFileError(file, `not valid JSON (${text.length} characters): ${errorMessage(e)}`);
  }
  try {
    return validate(raw);
  } catch (e) {
    if (e instanceof ShapeError) throw new CorruptFileError(file, e.message);
    throw e;
  }
}

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * A lowdb Adapter writing compact JSON durably. Writes are serialised: while one is on its way to
 * disk, later calls keep only the newest snapshot (each write() serialises its data at call time,
 * like steno) and every caller resolves once a write that includes its data is on disk.
 */
export class DurableJsonFile<T> implements Adapter<T> {
  private pending: { text: string; waiters: Waiter[] } | null = null;
  private writing = false;
  private writeCount = 0;
  private size = 0;

  constructor(
    readonly file: string,
    private readonly validate: (raw: unknown) => T,
  ) {}

  /** Completed writes (renames) of the file by this adapter. */
  get writes(): number {
    return this.writeCount;
  }

  /** Size in bytes of what was last read or written. */
  get sizeBytes(): number {
    return this.size;
  }

  /** null when the file does not exist; CorruptFileError when it does not parse or validate. */
  async read(): Promise<T | null> {
    const text = await readTextIfExists(this.file);
    if (text === null) return null;
    this.size = Buffer.byteLength(text);
    return parseJson(this.file, text, this.validate);
  }

  write(data: T): Promise<void> {
    const text = JSON.stringify(data);
    return new Promise<void>((resolve, reject) => {
      if (this.pending) this.pending.text = text;
      else this.pending = { text, waiters: [] };
      this.pending.waiters.push({ resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.pending) {
      const batch = this.pending;
      this.pending = null;
      try {
        await writeFileDurably(this.file, batch.text);
        this.writeCount++;
        this.size = Buffer.byteLength(batch.text);
        for (const w of batch.waiters) w.resolve();
      } catch (e) {
        for (const w of batch.waiters) w.reject(e);
      }
    }
    this.writing = false;
  }
}

/**
 * Renames a damaged `file` to `<file>.corrupt-<ISO time>` (with a counter if that name is taken)
 * so nothing is lost and the next write cannot overwrite it. Returns the new path.
 */
export async function moveAside(file: string, atEpochMs: number): Promise<string> {
  const base = `${file}.corrupt-${new Date(atEpochMs).toISOString()}`;
  for (let n = 0; ; n++) {
    const target = n === 0 ? base : `${base}-${n}`;
    if (await exists(target)) continue;
    try {
      await rename(file, target);
    } catch (e) {
      throw ioError('cannot move aside', file, e);
    }
    await fsyncDir(dirname(file));
    return target;
  }
}
