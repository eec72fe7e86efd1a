/**
 * The bench's load generator, in a process of its own so that it does not share the web
 * process's event loop (on a 2-core machine it still shares the CPUs: the report says so).
 *
 * - `clients` Socket.IO clients (websocket transport): half follow the overview, half follow one
 *   station each (round robin). Every `station` message is counted in bytes (the socket.io packet
 *   as it came off the websocket, framing of the websocket itself excluded) and, from the sample
 *   time `t` it carries, its latency: Date.now() at receipt minus the controller's sample time,
 *   both CLOCK_REALTIME of this one machine, so no clock offset enters.
 * - `rps` HTTP requests per second against read endpoints of the API, scheduled on absolute
 *   deadlines (a slow answer does not lower the offered rate), each with a 5 s timeout.
 *
 * Runs until the parent sends 'stop' (or `maxMs` passes), then sends its figures and exits.
 * Started with fork() by bench/run.ts; config as JSON in argv[2].
 */
import { io as ioClient, type Socket } from 'socket.io-client';

export interface LoadConfig {
  base: string;
  token: string;
  stations: string[];
  clients: number;
  rps: number;
  maxMs: number;
}

export interface LoadResult {
  clients: { connected: number; overview: number; station: number };
  durationS: number;
  /** Station-follower latencies (20 Hz stream), ms. */
  stationLatencyMs: number[];
  /** Overview latencies (5 Hz stream), ms. */
  overviewLatencyMs: number[];
  bytesPerClientPerS: { overview: number; station: number };
  /** The same bytes by Socket.IO event (station, alarm, session, …) and client kind: where they go. */
  bytesByEventPerClientPerS: Record<'overview' | 'station', Record<string, number>>;
  http: {
    sent: number;
    byStatus: Record<string, number>;
    errors: number;
    latencyMs: number[];
    offeredRps: number;
    achievedRps: number;
  };
  disconnects: number;
}

/** A sample of latencies is enough for percentiles; the cap bounds the message to the parent. */
const MAX_LATENCY_SAMPLES = 200_000;

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
  const headers = { authorization: `Bearer ${cfg.token}` };
  const sockets: { s: Socket; kind: 'overview' | 'station'; bytes: number }[] = [];
  const byEvent: Record<'overview' | 'station', Record<string, number>> = { overview: {}, station: {} };
  const stationLatency: number[] = [];
  const overviewLatency: number[] = [];
  let disconnects = 0;
  let measuring = false;

  await Promise.all(
    Array.from({ length: cfg.clients }, async (_, i) => {
      const kind = i % 2 === 0 ? 'overview' : 'station';
      const s = ioClient(cfg.base, { transports: ['websocket'], reconnection: true, forceNew: true });
      const entry = { s, kind, bytes: 0 } as (typeof sockets)[number];
      sockets.push(entry);
      s.io.on('open', () => {
        // Each (re)connection opens a new engine: count the packets of every one.
        s.io.engine.on('data', (d: unknown) => {
          if (!measuring) return;
          const n = typeof d === 'string' ? Buffer.byteLength(d) : (d as Buffer).length;
          entry.bytes += n;
          // A Socket.IO event packet reads 2["name",… (engine.io has taken its own type off);
          // anything else (pings, acks) is "other".
          const name = typeof d === 'string' ? (/^2\["([^"]+)"/.exec(d)?.[1] ?? 'other') : 'binary';
          const tally = byEvent[entry.kind];
          tally[name] = (tally[name] ?? 0) + n;
        });
      });
      s.on('disconnect', () => {
        if (measuring) disconnects++;
      });
      // `t`: the sample time every view message carries (gateway/ipc/views.ts).
      s.on('station', (msg: { t?: number }) => {
        if (!measuring || typeof msg.t !== 'number') return;
        const list = kind === 'station' ? stationLatency : overviewLatency;
        if (list.length < MAX_LATENCY_SAMPLES) list.push(Date.now() - msg.t);
      });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 10_000);
        s.once('connect', () => {
          clearTimeout(t);
          resolve();
        });
      });
      const sub =
        kind === 'overview'
          ? { overview: true }
          : { stationId: cfg.stations[(i >> 1) % cfg.stations.length] };
      s.emit('subscribe', sub);
    }),
  );
  const connected = sockets.filter((x) => x.s.connected).length;

  const paths = [
    '/api/stations',
    ...cfg.stations.map((id) => `/api/stations/${id}`),
    '/api/health',
    '/api/alarms',
    '/api/sessions?limit=20',
    '/api/programs',
    '/api/maintenance',
  ];
  let sent = 0;
  let errors = 0;
  const byStatus: Record<string, number> = {};
  const httpLatency: number[] = [];
  let stopped = false;
  const inflight = new Set<Promise<void>>();

  measuring = true;
  const t0 = performance.now();
  const periodMs = 1000 / cfg.rps;
  const driver = (async () => {
    let n = 0;
    while (!stopped && performance.now() - t0 < cfg.maxMs) {
      const due = t0 + n * periodMs;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      // Requests that fell due while this loop slept are sent now, so the offered rate holds.
      while (!stopped && t0 + n * periodMs <= performance.now()) {
        const path = paths[n % paths.length] as string;
        n++;
        sent++;
        const start = performance.now();
        const p = fetch(`${cfg.base}${path}`, { headers, signal: AbortSignal.timeout(5000) })
          .then(async (res) => {
            await res.arrayBuffer();
            byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
            if (httpLatency.length < MAX_LATENCY_SAMPLES) httpLatency.push(performance.now() - start);
          })
          .catch(() => {
            errors++;
          })
          .finally(() => inflight.delete(p));
        inflight.add(p);
      }
    }
  })();

  await new Promise<void>((resolve) => {
    process.on('message', (m) => {
      if (m === 'stop') resolve();
    });
    setTimeout(resolve, cfg.maxMs).unref();
  });
  stopped = true;
  measuring = false;
  const durationS = (performance.now() - t0) / 1000;
  await driver;
  await Promise.race([Promise.all(inflight), new Promise((r) => setTimeout(r, 5000))]);
  for (const x of sockets) x.s.close();

  const per = (kind: 'overview' | 'station') => {
    const list = sockets.filter((x) => x.kind === kind);
    return list.length === 0 ? 0 : list.reduce((a, x) => a + x.bytes, 0) / list.length / durationS;
  };
  const perEvent = (kind: 'overview' | 'station') => {
    const n = sockets.filter((x) => x.kind === kind).length;
    return Object.fromEntries(
      Object.entries(byEvent[kind]).map(([k, v]) => [k, n === 0 ? 0 : Math.round(v / n / durationS)]),
    );
  };
  const ok = Object.entries(byStatus).reduce((a, [, n]) => a + n, 0);
  const result: LoadResult = {
    clients: {
      connected,
      overview: sockets.filter((x) => x.kind === 'overview').length,
      station: sockets.filter((x) => x.kind === 'station').length,
    },
    durationS,
    stationLatencyMs: stationLatency,
    overviewLatencyMs: overviewLatency,
    bytesPerClientPerS: { overview: per('overview'), station: per('station') },
    bytesByEventPerClientPerS: {
      overview: perEvent('overview'),
      station: perEvent('station'),
    },
    http: {
      sent,
      byStatus,
      errors,
      latencyMs: httpLatency,
      offeredRps: sent / durationS,
      achievedRps: ok / durationS,
    },
    disconnects,
  };
  process.send?.(result, () => process.exit(0));
}

void main().catch((e: unknown) => {
  console.error(`[load] ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
