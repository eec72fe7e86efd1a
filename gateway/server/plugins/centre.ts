/**
 * The centre (issue 15, docs/centre.md): this gateway on the centre's MQTT broker. Registered
 * only with PRESSO_MQTT_URL (or "centre" in the settings file); without it `app.centre` is null
 * and the gateway is on its own, as before.
 *
 * Out: a retained status (the last will says offline), each station's state (the REST view,
 * whole mmHg, on change and at most 2 a second: state-gate.ts), alarm and session events (never a
 * client's name or screening answers). In: the other gateways' status and states, which feed the
 * board through the live hub as it feeds local ones, and STOP for this gateway's stations, which
 * goes to the controller through the controller link as a local STOP does and is audited with the
 * topic and the sender it came from. Nothing else is accepted over MQTT.
 *
 * Everything here is the web process's: the controller never waits for the broker, and a broker
 * that is down changes nothing on this gateway's own stations.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { CentreLink, type BrokerState } from '../../centre/link.js';
import { readMessage } from '../../centre/messages.js';
import { CentreRegistry } from '../../centre/registry.js';
import type { CentreStatus, StatePayload, StopPayload } from '../../centre/schemas.js';
import { StateGate } from '../../centre/state-gate.js';
import { KEEPALIVE_MS } from '../../ipc/rate.js';
import { centreViewOf } from '../../ipc/views.js';
import type { AlarmInfo, StationFrame } from '../../protocol.js';
import { HttpError } from '../errors.js';
import { stationView } from '../station-view.js';
import { cut } from './audit.js';
import { shared } from './shared.js';

/** How long a centre STOP waits for the owning gateway's state to show it done. */
export const CENTRE_STOP_TIMEOUT_MS = 5000;
/** Dropped messages are logged at most this often (a flood must not flood the log). */
const DROP_LOG_EVERY_MS = 5000;

const round = (v: number) => Math.round(v);

export class Centre {
  readonly registry: CentreRegistry;
  readonly link: CentreLink;
  private readonly gate = new StateGate();
  /** The latest frame per local station: what goes out again after a reconnect. */
  private readonly frames = new Map<string, StationFrame>();
  /** Per local station, the last STOP that came over the broker (echoed in its state). */
  private readonly lastStops = new Map<string, NonNullable<StatePayload['lastStop']>>();
  private readonly waiting = new Map<string, (s: StatePayload) => void>();
  private keepalive: NodeJS.Timeout | undefined;
  private dropped = 0;
  private lastDropLogMs = -Infinity;

  constructor(
    private readonly app: FastifyInstance,
    readonly selfId: string,
  ) {
    const settings = app.config.centre;
    if (settings === undefined) throw new Error('centre: no settings');
    this.registry = new CentreRegistry(selfId);
    this.link = new CentreLink(
      settings,
      {
        onMessage: (topic, payload) => this.onMessage(topic, payload),
        onBrokerState: (state, detail) => this.onBrokerState(state, detail),
      },
      () => settings.publicUrl ?? this.ownUrl(),
    );
  }

  start(): void {
    this.link.start();
    this.keepalive = setInterval(() => this.feedBoard(), KEEPALIVE_MS);
    this.keepalive.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.keepalive);
    await this.link.stop();
  }

  status(): CentreStatus {
    const s = this.link.settings;
    return {
      centreId: s.centreId,
      gatewayId: s.gatewayId,
      broker: this.link.state,
      gateways: this.registry.gatewayList(),
    };
  }

  // ---------------------------------------------------------------- out

  /** A frame from the controller: its state goes out when it changed, at most 2 a second. */
  onFrame(frame: StationFrame): void {
    this.frames.set(frame.id, frame);
    if (!this.link.connected()) return;
    let payload: StatePayload | undefined;
    const key = () => {
      payload = this.stateOf(frame);
      const { atEpochMs: _at, ...comparable } = payload;
      return JSON.stringify(comparable);
    };
    if (this.gate.offer(frame.id, key, performance.now()) && payload !== undefined)
      this.publishState(payload);
  }

  onAlarm(change: 'raised' | 'cleared' | 'acknowledged', a: AlarmInfo): void {
    this.link.publish(
      this.link.topics.alarms,
      JSON.stringify({
        gatewayId: this.selfId,
        change,
        alarm: {
          id: a.id,
          code: a.code,
          priority: a.priority,
          stationId: a.stationId,
          reason: a.reason,
          raisedAtEpochMs: a.raisedAtEpochMs,
        },
        atEpochMs: Date.now(),
      }),
      { qos: 1 },
    );
  }

  onSession(
    kind: string,
    s: {
      id: string;
      stationId: string;
      programId: string;
      programVersion: number;
      status: string;
      reason?: string;
    },
  ): void {
    // Only what the board shows: no client name, no screening answer.
    this.link.publish(
      this.link.topics.sessions,
      JSON.stringify({
        gatewayId: this.selfId,
        kind,
        sessionId: s.id,
        stationId: s.stationId,
        programId: s.programId,
        programVersion: s.programVersion,
        status: s.status,
        ...(s.reason !== undefined ? { reason: s.reason } : {}),
        atEpochMs: Date.now(),
      }),
      { qos: 1 },
    );
  }

  /** A station's state as it goes to the broker. */
  stateNow(frame: StationFrame): StatePayload {
    return this.stateOf(frame);
  }

  private stateOf(frame: StationFrame): StatePayload {
    const view = stationView(frame, this.app.store.stationSettings(frame.id));
    const lastStop = this.lastStops.get(frame.id);
    return {
      ...view,
      // Whole mmHg and seconds: what a tile shows, and no message for a change it could not show.
      zones: view.zones.map((z) => ({
        ...z,
        pressureMmHg: z.pressureMmHg === null ? null : Math.max(0, round(z.pressureMmHg)),
      })),
      session:
        view.session === null
          ? null
          : {
              ...view.session,
              elapsedS: round(view.session.elapsedS),
              remainingS: round(view.session.remainingS),
            },
      remainingS: view.remainingS === null ? null : round(view.remainingS),
      gatewayId: this.selfId,
      atEpochMs: frame.sampledAtEpochMs,
      ...(lastStop !== undefined ? { lastStop } : {}),
    };
  }

  private publishState(payload: StatePayload): void {
    this.link.publish(this.link.topics.state(payload.id), JSON.stringify(payload), { retain: true });
  }

  // ---------------------------------------------------------------- in

  private onBrokerState(state: BrokerState, detail?: string): void {
    if (state === 'connected') {
      this.app.log.info(`centre: connected to ${this.link.settings.url} as ${this.selfId}`);
      this.registry.forgetStatuses();
      // A broker that restarted without its retained messages gets every state again now.
      this.gate.reset();
      for (const f of this.frames.values()) this.onFrame(f);
    } else if (detail !== undefined) {
      this.app.log.warn(`centre: broker ${state}: ${detail}`);
    } else {
      this.app.log.warn(`centre: broker ${state}; the centre view is stale until it is back`);
    }
    this.app.live.onCentreStatus(this.status());
  }

  private onMessage(topic: string, payload: Buffer): void {
    const m = readMessage(this.link.settings.centreId, topic, payload);
    switch (m.kind) {
      case 'ignored':
        return;
      case 'bad':
        return this.drop(m.problem);
      case 'status': {
        if (!this.registry.onStatus(m.gatewayId, m.payload)) return this.drop(`${topic}: too many gateways`);
        this.app.live.onCentreStatus(this.status());
        // Back online: its stations are live again at once, not at the next keepalive.
        if (m.payload.online) this.feedBoard(m.gatewayId);
        return;
      }
      case 'state-cleared':
        this.registry.onStateCleared(m.gatewayId, m.stationId);
        return;
      case 'state': {
        if (!this.registry.onState(m.gatewayId, m.payload)) return this.drop(`${topic}: too many stations`);
        const stop = m.payload.lastStop;
        if (stop !== undefined) this.waiting.get(stop.requestId)?.(m.payload);
        if (m.gatewayId !== this.selfId) this.app.live.onCentreStation(centreViewOf(m.payload));
        return;
      }
      case 'stop':
        void this.stopFromBroker(topic, m.stationId, m.payload);
        return;
    }
  }

  /** Every remote station of an online gateway, to the board again (its keepalive). */
  private feedBoard(only?: string): void {
    if (!this.link.connected()) return;
    for (const s of this.registry.stations()) {
      if (s.gatewayId === this.selfId || !s.online || (only !== undefined && s.gatewayId !== only)) continue;
      this.app.live.onCentreStation(centreViewOf(s.station));
    }
  }

  private drop(problem: string): void {
    this.dropped++;
    const now = performance.now();
    if (now - this.lastDropLogMs < DROP_LOG_EVERY_MS) return;
    this.lastDropLogMs = now;
    const more = this.dropped > 1 ? ` (${this.dropped - 1} more dropped since the last report)` : '';
    this.app.log.warn(`centre: ignored a message: ${problem}${more}`);
    this.dropped = 0;
  }

  /** A STOP for one of this gateway's stations, from the broker: as a local STOP does. */
  private async stopFromBroker(topic: string, stationId: string, p: StopPayload): Promise<void> {
    const reason = `stopped from the centre by ${p.by}`;
    let ok = false;
    let detail = reason;
    try {
      // A command outside HTTP: REST reads after it ask the controller (ControllerLink.state()).
      this.app.link.noteCommand();
      const [frame] = await this.app.link.client.request('stop', { stationId, reason });
      this.app.link.noteCommand();
      if (frame === undefined) detail = `no station "${stationId}"`;
      else {
        ok = true;
        if (p.requestId !== undefined) {
          this.lastStops.set(stationId, { requestId: p.requestId, by: p.by, atEpochMs: Date.now() });
        }
        this.frames.set(frame.id, frame);
        // At once, whatever the rate: the sender is waiting for it.
        // Recorded as sent, so the next frame goes out only if something changed after it.
        const payload = this.stateOf(frame);
        const { atEpochMs: _at, ...comparable } = payload;
        this.gate.sent(frame.id, JSON.stringify(comparable), performance.now());
        this.publishState(payload);
      }
    } catch (e) {
      detail = `the controller refused or is away: ${(e as Error).message}`;
    }
    try {
      this.app.auditLog.record({
        atEpochMs: Date.now(),
        who: cut(p.by, 64),
        role: 'anonymous',
        what: `MQTT ${topic}`,
        from: `mqtt ${new URL(this.link.settings.url).host}`,
        ok,
        detail,
      });
    } catch (e) {
      this.app.log.error(`audit entry lost: ${String(e)}`);
    }
    if (!ok) this.app.log.warn(`centre: STOP of ${stationId} from ${p.by} failed: ${detail}`);
    else this.app.log.info(`centre: ${stationId} ${reason}`);
  }

  // ---------------------------------------------------------------- a STOP from this board

  /**
   * Publishes a STOP for another gateway's station and resolves with that gateway's state once it
   * shows the stop done; refuses at once when the broker or the gateway is away.
   */
  async stopRemote(gatewayId: string, stationId: string, by: string): Promise<StatePayload> {
    if (!this.link.connected()) {
      throw new HttpError(
        503,
        'centre-unreachable',
        `the centre's broker is not reachable from ${this.selfId}: stop ${stationId} on ${gatewayId}'s own board or at the station`,
      );
    }
    if (this.registry.state(gatewayId, stationId) === undefined) {
      throw new HttpError(
        404,
        'not-found',
        `no station "${stationId}" on gateway "${gatewayId}" in the centre`,
      );
    }
    if (!this.registry.online(gatewayId)) {
      throw new HttpError(
        503,
        'gateway-offline',
        `gateway "${gatewayId}" is offline (its last will says so): stop ${stationId} on its own board or at the station`,
      );
    }
    const requestId = randomUUID();
    const done = new Promise<StatePayload>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        reject(
          new HttpError(
            504,
            'stop-unconfirmed',
            `gateway "${gatewayId}" did not confirm the STOP of ${stationId} within ${CENTRE_STOP_TIMEOUT_MS / 1000} s: check the station`,
          ),
        );
      }, CENTRE_STOP_TIMEOUT_MS);
      this.waiting.set(requestId, (s) => {
        clearTimeout(timer);
        this.waiting.delete(requestId);
        resolve(s);
      });
    });
    this.link.publish(this.link.topics.stopOf(gatewayId, stationId), JSON.stringify({ by, requestId }), {
      qos: 1,
    });
    return done;
  }

  /** This web process's own address, for its status when no PRESSO_PUBLIC_URL is set. */
  private ownUrl(): string | undefined {
    const addr = this.app.server.address() as AddressInfo | string | null;
    if (addr === null || typeof addr === 'string') return undefined;
    const scheme = 'setSecureContext' in this.app.server ? 'https' : 'http';
    const anyHost = addr.address === '0.0.0.0' || addr.address === '::';
    const host = anyHost
      ? (this.app.config.hostname ?? osHostname())
      : addr.address.includes(':')
        ? `[${addr.address}]`
        : addr.address;
    return `${scheme}://${host}:${addr.port}`;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The centre's MQTT side; null without PRESSO_MQTT_URL. */
    centre: Centre | null;
  }
}

export const centrePlugin = shared('presso-centre', async (app) => {
  const settings = app.config.centre;
  if (settings === undefined) {
    app.decorate('centre', null);
    return;
  }
  const centre = new Centre(app, settings.gatewayId);
  app.decorate('centre', centre);
  const client = app.link.client;
  const offs = [
    client.on('frame', (f) => centre.onFrame(f)),
    client.on('alarm-raised', (a) => centre.onAlarm('raised', a)),
    client.on('alarm-cleared', (a) => centre.onAlarm('cleared', a)),
    app.link.onSessionChange((c) => centre.onSession(c.kind, c.session)),
  ];
  // Acknowledgements are the routes' (the controller has no event for them): read off the answer.
  app.addHook('onSend', async (request, reply, payload) => {
    if (
      reply.statusCode === 200 &&
      typeof payload === 'string' &&
      request.routeOptions.url?.endsWith('/acknowledge') === true
    ) {
      try {
        const body = JSON.parse(payload) as { acknowledged?: AlarmInfo[] };
        for (const a of body.acknowledged ?? []) centre.onAlarm('acknowledged', a);
      } catch {
        // Not the answer it looked like; nothing to announce.
      }
    }
    return payload;
  });
  app.live.onCentreStatus(centre.status());
  // Started once listening: the status it publishes names this gateway's address.
  app.addHook('onListen', async () => centre.start());
  app.addHook('onClose', async () => {
    for (const off of offs) off();
    await centre.stop();
  });
});
