/**
 * The web process's side of the controller link: the ControllerClient (connected by the caller
 * with { retry: true }), plus what the web process owes the controller's events —
 *
 * - a 'session-ended' report is written to the store (the controller keeps no database);
 * - alarms raised and cleared are recorded; maintenance counters are kept;
 * - after every (re)connection, sessions the store has as 'running' that the controller no longer
 *   runs are marked 'interrupted' with the time delivered as last seen (DESIGN.md: "if the
 *   controller dies … the web process marks the running sessions as interrupted").
 *
 * Starting a session also lives here, because its order is a safety rule: the record is on disk
 * before the controller is asked, so a session that ran is never missing from the history.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ControllerClient } from '../../ipc/client.js';
import {
  type Commands,
  type ControllerInfo,
  type SessionAdjustment,
  type SessionReport,
  type StartArgs,
  type StationFrame,
} from '../../protocol.js';
import type { SessionRecord, Store } from '../../store/types.js';
import { isRead } from '../methods.js';
import { shared } from './shared.js';

/** Running sessions are among the newest records: one per station at most, each ≤ 120 min old.
 * This many newest records always contains them, without reading archived months. */
const RECONCILE_SCAN_LIMIT = 500;

/** How long a polled read's answer serves further polls (ControllerLink.read). */
export const READ_REUSE_MS = 500;
type PolledRead = 'alarms' | 'counters' | 'hello';

export type SessionChange = { kind: 'started' | 'ended' | 'interrupted' | 'refused'; session: SessionRecord };

export class ControllerLink {
  private info: ControllerInfo | null = null;
  /** Sessions being started: persisted but not yet confirmed, so reconciliation leaves them alone. */
  private readonly starting = new Set<string>();
  /** Last elapsed time and cycle seen per running session: what an interrupted session delivered. */
  private readonly lastSeen = new Map<string, { elapsedS: number; cycle: number }>();
  private readonly sessionListeners = new Set<(c: SessionChange) => void>();
  /** Per station, the session id of its latest frame. */
  private readonly running = new Map<string, string | undefined>();
  private readonly unsubscribe: (() => void)[] = [];
  private reconciling: Promise<void> = Promise.resolve();
  /** Reads of station state are served from the frame stream unless a command may have changed
   * it since (see state()). True until the first state reply and after every command. */
  private stateDirty = true;
  /** The newest sample time in the latest state reply: stream frames must be newer to be served. */
  private stateFenceMs = Number.NEGATIVE_INFINITY;
  /** The stations of the latest state reply: the stream must hold all of them to be served. */
  private stateIds: readonly string[] = [];
  /** Recent answers to the polled reads (see read()), dropped by commands and alarm events. */
  private readonly answers = new Map<PolledRead, { atMs: number; answer: Promise<unknown> }>();

  constructor(
    readonly client: ControllerClient,
    private readonly store: Store,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => number,
  ) {}

  start(): void {
    const c = this.client;
    this.unsubscribe.push(
      c.on('connected', () => {
        this.noteCommand();
        this.reconciling = this.reconcile().catch((e: unknown) =>
          this.log.error(`reconciling with the controller failed: ${String(e)}`),
        );
      }),
      c.on('frame', (f) => this.onFrame(f)),
      c.on('session-ended', (r) => void this.onSessionEnded(r)),
      c.on('alarm-raised', (a) => {
        this.answers.delete('alarms');
        this.store.recordAlarm(a, 'raised');
      }),
      c.on('alarm-cleared', (a) => {
        this.answers.delete('alarms');
        this.store.recordAlarm(a, 'cleared');
      }),
      c.on('counters', (list) => this.store.putCounters(list)),
    );
    if (c.isConnected) this.reconciling = this.reconcile();
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  get connected(): boolean {
    return this.client.isConnected;
  }

  /** Controller info as of the latest hello (null before the first connection). */
  async controllerInfo(): Promise<ControllerInfo | null> {
    if (this.client.isConnected) {
      try {
        this.info = await this.read('hello', 500);
      } catch {
        // Keep the previous answer: health must answer even when the controller is slow.
      }
    }
    return this.info;
  }

  /**
   * The frames of every station (or of one: an empty list when there is no such station), for REST
   * reads. The web process already receives every station's frame 20 times a second; asking the
   * controller for the same state on every poll cost both processes CPU at every poll. So a read is served from the stream when that is as fresh as asking:
   *
   * - after a command (noteCommand(), called for every non-read HTTP request and by anything else
   *   that commands the controller) the next read asks the controller, whose answer reflects the
   *   command; a frame the stream delivers later may still have been computed before the command
   *   (the controller's socket sends frames after the reply they were overtaken by), so the stream
   *   is trusted again only once every station's frame is newer than that answer's samples;
   * - a (re)connection, or a station the stream has not reported, also asks the controller.
   *
   * Errors are those of a request: a controller that is down gives ControllerLinkError.
   */
  async state(stationId?: string): Promise<StationFrame[]> {
    const served = this.stateDirty ? null : this.fromStream();
    if (served !== null) {
      if (stationId === undefined) return served;
      const one = served.find((f) => f.id === stationId);
      return one === undefined ? [] : [one];
    }
    // Cleared before asking: a command during the request sets it again, so its effect is asked for.
    this.stateDirty = false;
    const frames = await this.client.request('state', {});
    this.stateIds = frames.map((f) => f.id);
    this.stateFenceMs = frames.reduce((m, f) => Math.max(m, f.sampledAtMs), Number.NEGATIVE_INFINITY);
    if (stationId === undefined) return frames;
    return frames.filter((f) => f.id === stationId);
  }

  /** A command may change station state: the next read asks the controller (see state()). */
  noteCommand(): void {
    this.stateDirty = true;
    this.answers.clear();
  }

  /**
   * The controller's answer to a polled read (active alarms, maintenance counters, its hello),
   * shared by every poll within READ_REUSE_MS: a board of tablets polling them each second asked
   * the controller as often. Commands, reconnections and (for alarms) alarm events drop the answer,
   * so a read after one of them asks again.
   */
  read<K extends PolledRead>(cmd: K, timeoutMs?: number): Promise<Commands[K][1]> {
    const now = performance.now();
    const kept = this.answers.get(cmd);
    if (kept !== undefined && now - kept.atMs < READ_REUSE_MS) return kept.answer as Promise<Commands[K][1]>;
    // All three take no arguments; the generic K cannot show the type checker that.
    const answer = this.client.request(cmd, {} as Commands[K][0], timeoutMs);
    this.answers.set(cmd, { atMs: now, answer });
    // A failed answer is not kept: the next poll asks again.
    answer.catch(() => {
      if (this.answers.get(cmd)?.answer === answer) this.answers.delete(cmd);
    });
    return answer;
  }

  /** The stream's frames in the controller's order, or null when a read must ask the controller. */
  private fromStream(): StationFrame[] | null {
    if (!this.client.isConnected || this.stateIds.length === 0) return null;
    const latest = this.client.frames();
    if (latest.length < this.stateIds.length) return null;
    const byId = new Map(latest.map((f) => [f.id, f]));
    const out: StationFrame[] = [];
    for (const id of this.stateIds) {
      const f = byId.get(id);
      if (f === undefined || f.sampledAtMs <= this.stateFenceMs) return null;
      out.push(f);
    }
    return out;
  }

  /** Resolves once the reconciliation of the latest (re)connection has finished (for tests). */
  settled(): Promise<void> {
    return this.reconciling;
  }

  onSessionChange(listener: (c: SessionChange) => void): () => void {
    this.sessionListeners.add(listener);
    return () => this.sessionListeners.delete(listener);
  }

  /**
   * Persists `record`, then asks the controller to start it. If the controller refuses or cannot
   * be asked, the record is marked 'stopped' with the refusal as its reason (the Store has no
   * delete; a refused start stays visible as what it was) and the error is rethrown.
   */
  /**
   * Adds an accepted adjustment to the session's record now, so history shows it while the
   * session runs and keeps it if the controller dies before its report.
   */
  async recordAdjustment(sessionId: string, adjustment: SessionAdjustment): Promise<void> {
    const rec = await this.store.session(sessionId);
    if (rec === undefined) return;
    // Put without its report: the store keeps the report it has (a session may just have ended).
    const { report: _report, ...rest } = rec;
    this.store.putSession({ ...rest, adjustments: [...(rec.adjustments ?? []), adjustment] });
    await this.store.flush();
  }

  async startSession(record: SessionRecord, args: StartArgs): Promise<StationFrame> {
    this.starting.add(record.id);
    try {
      this.store.putSession(record);
      await this.store.flush();
      try {
        const frame = await this.client.request('start', args);
        this.emitSession({ kind: 'started', session: record });
        return frame;
      } catch (e) {
        const refused: SessionRecord = {
          ...record,
          status: 'refused',
          endedAtEpochMs: this.now(),
          reason: `not started: ${e instanceof Error ? e.message : String(e)}`,
        };
        this.store.putSession(refused);
        await this.store.flush();
        this.emitSession({ kind: 'refused', session: refused });
        throw e;
      }
    } finally {
      this.starting.delete(record.id);
    }
  }

  private emitSession(change: SessionChange): void {
    for (const l of this.sessionListeners) {
      try {
        l(change);
      } catch (e) {
        this.log.error(`session listener threw: ${String(e)}`);
      }
    }
  }

  private onFrame(f: StationFrame): void {
    if (f.session) this.lastSeen.set(f.session.id, { elapsedS: f.session.elapsedS, cycle: f.session.cycle });
    this.running.set(f.id, f.session?.id);
  }

  /** The session the latest frame of `stationId` showed running, without asking the controller. */
  runningSession(stationId: string): string | undefined {
    return this.running.get(stationId);
  }

  /** [stationId, sessionId] of every station whose latest frame showed a session. */
  runningSessions(): [string, string][] {
    return [...this.running].flatMap(([station, session]) =>
      session === undefined ? [] : [[station, session]],
    );
  }

  private async onSessionEnded(r: SessionReport): Promise<void> {
    try {
      const existing = await this.store.session(r.sessionId);
      // A session started by presso-ctl has no record yet: keep it anyway, it delivered therapy.
      const base: SessionRecord = existing ?? {
        id: r.sessionId,
        stationId: r.stationId,
        programId: r.programId,
        programVersion: r.programVersion,
        client: 'unknown',
        startedBy: 'controller',
        startedAtEpochMs: r.startedAtEpochMs,
        durationMin: 0,
        status: 'running',
      };
      const ended: SessionRecord = {
        ...base,
        status: r.end,
        endedAtEpochMs: r.endedAtEpochMs,
        reason: r.reason,
        report: r,
      };
      this.store.putSession(ended);
      this.lastSeen.delete(r.sessionId);
      await this.store.flush();
      this.emitSession({ kind: 'ended', session: ended });
    } catch (e) {
      this.log.error(`could not record the end of session ${r.sessionId}: ${String(e)}`);
    }
  }

  private async reconcile(): Promise<void> {
    const frames = await this.client.request('state', {});
    await this.controllerInfo();
    // A (re)started controller has forgotten the sensor zero offsets: give them back.
    for (const f of frames) {
      const offsets = this.store.zeroOffsets(f.id);
      if (!offsets || offsets.length !== f.zones.length) continue;
      try {
        await this.client.request('set-zero-offsets', { stationId: f.id, offsetsMmHg: offsets });
      } catch (e) {
        this.log.warn(`could not restore the zero offsets of ${f.id}: ${String(e)}`);
      }
    }
    const runningIds = new Set(frames.flatMap((f) => (f.session ? [f.session.id] : [])));
    const records = await this.store.sessions({ limit: RECONCILE_SCAN_LIMIT });
    let changed = false;
    for (const rec of records) {
      if (rec.status !== 'running' || runningIds.has(rec.id) || this.starting.has(rec.id)) continue;
      // Re-read: a session-ended report may have landed while we were asking.
      const fresh = await this.store.session(rec.id);
      if (fresh?.status !== 'running') continue;
      const seen = this.lastSeen.get(rec.id);
      const deliveredMs = (seen?.elapsedS ?? 0) * 1000;
      const endedAt = this.now();
      const report: SessionReport = {
        sessionId: rec.id,
        stationId: rec.stationId,
        programId: rec.programId,
        programVersion: rec.programVersion,
        startedAtEpochMs: rec.startedAtEpochMs,
        endedAtEpochMs: endedAt,
        end: 'interrupted',
        reason: 'the controller restarted or lost the session; delivered time is the last the gateway saw',
        cyclesDone: Math.max(0, (seen?.cycle ?? 1) - 1),
        deliveredMs,
        zones: [],
      };
      const interrupted: SessionRecord = {
        ...fresh,
        status: 'interrupted',
        endedAtEpochMs: endedAt,
        reason: report.reason,
        report,
      };
      this.store.putSession(interrupted);
      this.lastSeen.delete(rec.id);
      changed = true;
      this.log.warn(
        `session ${rec.id} on ${rec.stationId} marked interrupted (${Math.round(deliveredMs / 1000)} s delivered)`,
      );
      this.emitSession({ kind: 'interrupted', session: interrupted });
    }
    if (changed) await this.store.flush();
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    link: ControllerLink;
  }
}

export const controllerLinkPlugin = shared<{ client: ControllerClient; now: () => number }>(
  'presso-controller-link',
  async (app, opts) => {
    const link = new ControllerLink(opts.client, app.store, app.log, opts.now);
    link.start();
    app.decorate('link', link);
    // Every request that is not a read may command the controller: before its handler runs (which
    // may read state for its checks) and after it answered, reads ask the controller again.
    // Callback hooks, not async ones: they run on every request and need no promise.
    app.addHook('onRequest', (request, _reply, done) => {
      if (!isRead(request.method)) link.noteCommand();
      done();
    });
    app.addHook('onResponse', (request, _reply, done) => {
      if (!isRead(request.method)) link.noteCommand();
      done();
    });
    app.addHook('onClose', async () => {
      link.stop();
      // A report that arrived during shutdown is still being written; let it finish.
      await link.settled();
    });
  },
);
