/**
 * Session reports, one append-only file per month: reports/reports-YYYY-MM.jsonl, one
 * `{"sessionId", "report"}` per line, by the month the session started.
 *
 * Why not in presso.json: a report holds a line per zone and cycle (a 30-minute 8-zone session has
 * a few hundred), so a month of them made the live file tens of megabytes and every batched write
 * rewrote all of it (≈ 340 ms per write for 1,000 sessions here, slower on an SD card). Appending
 * a report costs its own size once, whatever the month holds. The live record keeps the summary
 * (delivered time, cycles) that lists and the CSV export need.
 *
 * Durability: lines are appended and fsync'd before the live file that says the session has a
 * report, so an acknowledged record never points at a missing report. Every append starts with a
 * newline, so a line cut by a crash stays on a line of its own and is skipped when read. When a
 * session gets a second report (it cannot today; a re-put after a restore could), the last one wins.
 */
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { SessionReport } from '../protocol.js';
import {
  fsyncDir,
  namesIfExists,
  readTextIfExists,
  STORE_FILE_MODE,
  writeFileDurably,
} from './durable-file.js';
import { isObject } from './store-file.js';

export interface PendingReport {
  /** The month the session started, "YYYY-MM" (local time, as the archive uses). */
  month: string;
  report: SessionReport;
}

/** Months whose reports were read lately, kept parsed: a report page reads one month at a time. */
const CACHED_MONTHS = 2;

export class ReportFiles {
  private readonly created = new Set<string>();
  private readonly cache = new Map<string, Map<string, SessionReport>>();

  constructor(readonly dir: string) {}

  fileOf(month: string): string {
    return join(this.dir, `reports-${month}.jsonl`);
  }

  /** Appends the reports, each to its month's file, and resolves once they are on disk. */
  async append(pending: PendingReport[]): Promise<void> {
    if (pending.length === 0) return;
    const byMonth = new Map<string, SessionReport[]>();
    for (const p of pending) byMonth.set(p.month, [...(byMonth.get(p.month) ?? []), p.report]);
    await mkdir(this.dir, { recursive: true });
    for (const [month, reports] of byMonth) {
      const text = reports.map((r) => `\n${JSON.stringify({ sessionId: r.sessionId, report: r })}`).join('');
      const fh = await open(this.fileOf(month), 'a', STORE_FILE_MODE);
      try {
        await fh.appendFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (!this.created.has(month)) {
        // A new file's directory entry must be durable too, once.
        await fsyncDir(this.dir);
        this.created.add(month);
      }
      const cached = this.cache.get(month);
      if (cached) for (const r of reports) cached.set(r.sessionId, r);
    }
  }

  /** Months that have a report file, oldest first. */
  async months(): Promise<string[]> {
    const names = await namesIfExists(this.dir);
    return names.flatMap((n) => /^reports-(\d{4}-\d{2})\.jsonl$/.exec(n)?.[1] ?? []).sort();
  }

  /**
   * Replaces the reports `transform` changes (it returns undefined for one it leaves alone) by
   * writing the month's file anew, durably (temp file, fsync, rename); true when it wrote. The
   * store runs this inside its write chain, so no append races it. Lines cut by a crash are left
   * out of the new file: nothing ever referred to them.
   */
  async rewrite(month: string, transform: (r: SessionReport) => SessionReport | undefined): Promise<boolean> {
    const text = await readTextIfExists(this.fileOf(month));
    if (text === null) return false;
    let changed = false;
    const lines: string[] = [];
    for (const line of text.split('\n')) {
      const report = parseLine(line);
      if (report === undefined) continue;
      const next = transform(report);
      if (next !== undefined) changed = true;
      lines.push(`\n${JSON.stringify({ sessionId: report.sessionId, report: next ?? report })}`);
    }
    if (!changed) return false;
    await writeFileDurably(this.fileOf(month), lines.join(''));
    this.cache.delete(month);
    return true;
  }

  /** The latest report of a session that started in `month`, or undefined. */
  async find(sessionId: string, month: string): Promise<SessionReport | undefined> {
    return (await this.month(month)).get(sessionId);
  }

  private async month(month: string): Promise<Map<string, SessionReport>> {
    const hit = this.cache.get(month);
    if (hit) {
      // Most recently used last, so the oldest entry is the one evicted.
      this.cache.delete(month);
      this.cache.set(month, hit);
      return hit;
    }
    const reports = new Map<string, SessionReport>();
    const text = await readTextIfExists(this.fileOf(month));
    for (const line of text === null ? [] : text.split('\n')) {
      const report = parseLine(line);
      if (report !== undefined) reports.set(report.sessionId, report);
    }
    this.cache.set(month, reports);
    while (this.cache.size > CACHED_MONTHS) this.cache.delete(this.cache.keys().next().value as string);
    return reports;
  }
}

/** The report on one line, or undefined for a blank line or one cut by a crash (never referred to). */
function parseLine(line: string): SessionReport | undefined {
  if (line.trim() === '') return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (isObject(raw) && typeof raw.sessionId === 'string' && isObject(raw.report)) {
    return raw.report as unknown as SessionReport;
  }
  return undefined;
}
