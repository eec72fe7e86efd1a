/**
 * The centre as this web process has seen it on the broker: each gateway's retained status and
 * the latest state of each of its stations, with when it arrived. Plain data and a clock; the MQTT
 * link (link.ts) feeds it and the routes and the live hub read it.
 */
import type { CentreGateway, StatePayload, StatusPayload } from './schemas.js';

interface GatewayEntry {
  status: StatusPayload | null;
  statusAtMs: number | null;
  readonly stations: Map<string, { state: StatePayload; receivedAtMs: number }>;
}

/** A centre has a few gateways; a broker flooded with made-up ones must not grow this process. */
export const MAX_GATEWAYS = 64;
export const MAX_STATIONS_PER_GATEWAY = 64;

export class CentreRegistry {
  private readonly gateways = new Map<string, GatewayEntry>();

  constructor(
    readonly selfId: string,
    private readonly now: () => number = Date.now,
  ) {}

  private entry(gatewayId: string): GatewayEntry | undefined {
    let g = this.gateways.get(gatewayId);
    if (g === undefined) {
      if (this.gateways.size >= MAX_GATEWAYS) return undefined;
      g = { status: null, statusAtMs: null, stations: new Map() };
      this.gateways.set(gatewayId, g);
    }
    return g;
  }

  /** Returns false when the registry is full and the gateway is new. */
  onStatus(gatewayId: string, status: StatusPayload): boolean {
    const g = this.entry(gatewayId);
    if (g === undefined) return false;
    g.status = status;
    g.statusAtMs = this.now();
    return true;
  }

  onState(gatewayId: string, state: StatePayload): boolean {
    const g = this.entry(gatewayId);
    if (g === undefined) return false;
    if (!g.stations.has(state.id) && g.stations.size >= MAX_STATIONS_PER_GATEWAY) return false;
    g.stations.set(state.id, { state, receivedAtMs: this.now() });
    return true;
  }

  /**
   * On every (re)connect: a status heard before is not known to be true any more (a gateway that
   * died while the broker was away left no last will on the new one). The broker's retained
   * statuses, sent on subscribing, say again who is online.
   */
  forgetStatuses(): void {
    for (const g of this.gateways.values()) g.status = null;
  }

  onStateCleared(gatewayId: string, stationId: string): void {
    this.gateways.get(gatewayId)?.stations.delete(stationId);
  }

  online(gatewayId: string): boolean {
    return this.gateways.get(gatewayId)?.status?.online === true;
  }

  state(gatewayId: string, stationId: string): StatePayload | undefined {
    return this.gateways.get(gatewayId)?.stations.get(stationId)?.state;
  }

  gatewayList(): CentreGateway[] {
    return [...this.gateways.entries()]
      .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
      .map(([gatewayId, g]) => ({
        gatewayId,
        self: gatewayId === this.selfId,
        online: g.status?.online === true,
        ...(g.status?.name !== undefined ? { name: g.status.name } : {}),
        ...(g.status?.url !== undefined ? { url: g.status.url } : {}),
        lastSeenEpochMs: latest(g),
      }));
  }

  stations(): { gatewayId: string; online: boolean; ageMs: number; station: StatePayload }[] {
    const now = this.now();
    const out = [];
    for (const [gatewayId, g] of this.gateways) {
      for (const { state, receivedAtMs } of g.stations.values()) {
        out.push({ gatewayId, online: g.status?.online === true, ageMs: now - receivedAtMs, station: state });
      }
    }
    return out.sort(
      (a, b) =>
        a.gatewayId.localeCompare(b.gatewayId, undefined, { numeric: true }) ||
        a.station.id.localeCompare(b.station.id, undefined, { numeric: true }),
    );
  }
}

function latest(g: GatewayEntry): number | null {
  let at = g.statusAtMs;
  for (const s of g.stations.values()) if (at === null || s.receivedAtMs > at) at = s.receivedAtMs;
  return at;
}
