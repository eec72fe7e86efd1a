/**
 * The web process's connection to the centre's MQTT broker (MQTT.js). It lives in the web
 * process, never the controller: whatever the broker does, the control loop neither waits for it
 * nor hears of it.
 *
 * - The retained `status` says online on every connect; the broker publishes the last will
 *   (`online: false`, retained) when the connection dies without a goodbye.
 * - Reconnects with back-off (RECONNECT_FIRST_MS doubling to the configured maximum) by its own
 *   timer, and subscribes again on every connect: the broker then sends every retained status and
 *   state, which is how the centre view resyncs.
 * - Nothing is queued while disconnected (queueQoSZero off, and callers publish only when
 *   connected): after a reconnect the owner publishes the current state, not a backlog.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { topics } from './messages.js';
import type { StatusPayload } from './schemas.js';

export interface CentreSettings {
  /** mqtt:// or mqtts:// */
  url: string;
  username?: string;
  password?: string;
  /** PEM files for mqtts://: the broker's CA, and this gateway's certificate and key (client auth). */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  gatewayId: string;
  centreId: string;
  /** MQTT keep-alive (s): the broker publishes the last will after 1.5 × this without traffic. */
  keepaliveS: number;
  /** Longest wait between reconnect attempts. */
  reconnectMaxMs: number;
  /** The gateway's own board, announced in its status (a remote "start" opens it). */
  publicUrl?: string;
  name?: string;
}

export const RECONNECT_FIRST_MS = 500;

/** Node's codes for a broker certificate whose chain does not end at a CA this gateway trusts. */
const UNTRUSTED_CERT = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

/**
 * What a connection error means for whoever reads the log: OpenSSL's own words ("self-signed
 * certificate in certificate chain", "tlsv13 alert certificate required" with its source file)
 * do not say which setting is wrong.
 */
export function describeBrokerError(e: Error & { code?: string | number }, s: CentreSettings): string {
  // MQTT.js's own errors carry the broker's numeric reason code; Node's carry a name.
  const code = typeof e.code === 'string' ? e.code : '';
  if (UNTRUSTED_CERT.has(code)) {
    const fix =
      s.caFile === undefined
        ? 'set PRESSO_MQTT_CA to the CA that signed it'
        : `it is not signed by the CA in ${s.caFile} (PRESSO_MQTT_CA)`;
    return `the broker's TLS certificate is not trusted (${code}: ${e.message}); ${fix}`;
  }
  // TLS 1.3 names the reason; TLS 1.2's handshake_failure could be anything and keeps its words.
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') {
    const which = s.certFile === undefined ? 'none was given' : `${s.certFile} was not accepted`;
    return `the broker refused the TLS connection (${code}): it requires a client certificate (PRESSO_MQTT_CERT and PRESSO_MQTT_KEY) and ${which}`;
  }
  return e.message;
}

export type BrokerState = 'connecting' | 'connected' | 'disconnected';

export interface LinkEvents {
  onMessage(topic: string, payload: Buffer): void;
  onBrokerState(state: BrokerState, detail?: string): void;
}

export class CentreLink {
  private client: MqttClient | null = null;
  private retryTimer: NodeJS.Timeout | undefined;
  private delayMs = RECONNECT_FIRST_MS;
  private stopped = false;
  state: BrokerState = 'connecting';
  readonly topics: ReturnType<typeof topics>;

  constructor(
    readonly settings: CentreSettings,
    private readonly events: LinkEvents,
    private readonly urlNow: () => string | undefined,
  ) {
    this.topics = topics(settings.centreId, settings.gatewayId);
  }

  status(online: boolean): StatusPayload {
    const url = this.urlNow();
    return {
      online,
      gatewayId: this.settings.gatewayId,
      ...(this.settings.name !== undefined ? { name: this.settings.name } : {}),
      ...(url !== undefined ? { url } : {}),
      atEpochMs: Date.now(),
    };
  }

  start(): void {
    const s = this.settings;
    const opts: IClientOptions = {
      clientId: `presso-${s.centreId}-${s.gatewayId}`,
      protocolVersion: 5,
      keepalive: s.keepaliveS,
      clean: true,
      // Our own back-off (below); MQTT.js's own retries at a fixed period.
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      queueQoSZero: false,
      resubscribe: false,
      will: {
        topic: this.topics.status,
        payload: Buffer.from(JSON.stringify(this.status(false))),
        qos: 1,
        retain: true,
      },
      ...(s.username !== undefined ? { username: s.username } : {}),
      ...(s.password !== undefined ? { password: s.password } : {}),
      ...(s.caFile !== undefined ? { ca: readFileSync(s.caFile) } : {}),
      ...(s.certFile !== undefined ? { cert: readFileSync(s.certFile) } : {}),
      ...(s.keyFile !== undefined ? { key: readFileSync(s.keyFile) } : {}),
    };
    const client = mqtt.connect(s.url, opts);
    this.client = client;
    client.on('connect', () => {
      this.delayMs = RECONNECT_FIRST_MS;
      this.setState('connected');
      client.publish(this.topics.status, JSON.stringify(this.status(true)), { qos: 1, retain: true });
      client.subscribe(this.topics.subscriptions, { qos: 1 }, (err) => {
        if (err) this.events.onBrokerState(this.state, `subscribe failed: ${err.message}`);
      });
    });
    client.on('message', (topic, payload) => this.events.onMessage(topic, payload));
    client.on('error', (e) => this.events.onBrokerState(this.state, describeBrokerError(e, s)));
    client.on('close', () => {
      if (this.stopped) return;
      this.setState('disconnected');
      if (this.retryTimer !== undefined) return;
      const wait = this.delayMs;
      this.delayMs = Math.min(this.delayMs * 2, s.reconnectMaxMs);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (!this.stopped) client.reconnect();
      }, wait);
      this.retryTimer.unref();
    });
  }

  connected(): boolean {
    return this.state === 'connected' && this.client?.connected === true;
  }

  /** Fire and forget; dropped (false) while disconnected. */
  publish(topic: string, payload: string, opts: { retain?: boolean; qos?: 0 | 1 } = {}): boolean {
    if (!this.connected() || this.client === null) return false;
    this.client.publish(topic, payload, { qos: opts.qos ?? 0, retain: opts.retain ?? false });
    return true;
  }

  /** Says offline (retained) and disconnects: a clean shutdown is not a crash to the others. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    if (client === null) return;
    if (client.connected) {
      await new Promise<void>((resolve) => {
        client.publish(this.topics.status, JSON.stringify(this.status(false)), { qos: 1, retain: true }, () =>
          resolve(),
        );
        setTimeout(resolve, 1000).unref();
      });
    }
    await new Promise<void>((resolve) => {
      client.end(true, {}, () => resolve());
      setTimeout(resolve, 1000).unref();
    });
  }

  private setState(state: BrokerState): void {
    if (state === this.state) return;
    this.state = state;
    this.events.onBrokerState(state);
  }
}
