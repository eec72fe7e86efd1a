/**
 * The centre bench (`npm run bench -- --centre`): one real gateway's centre board while ten other
 * gateways of eight stations each publish on the same broker.
 *
 * A real Mosquitto on a free loopback port; the real controller (simulator board) and web process
 * of gateway `gw-real` with PRESSO_MQTT_URL; ten simulated gateways (MQTT.js clients in this
 * process) that emit what a gateway emits: a retained `status` with a last will, and for each of
 * their 8 stations a retained `state` (the REST station view plus gatewayId, whole mmHg) at the
 * most a gateway sends, 2 a second, every one a change (running stations: pressures move); 20
 * Socket.IO clients on the real gateway subscribed to the overview and the centre, as wall boards.
 *
 * Measured: state-to-board latency (Date.now() when a board client receives a remote station's
 * message carrying a change, minus the state's `atEpochMs`, stamped by the publisher just before
 * it published; one machine, one clock), messages a second through the broker (a monitor client
 * subscribed to the centre's topics counts them), and the web process's CPU and RSS
 * (/proc, procstat.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { io as connect, type Socket } from 'socket.io-client';
import type { StatePayload } from '../../gateway/centre/schemas.js';
import { startBroker } from '../../gateway/centre/test-support/broker.js';
import type { Runner } from './compile.js';
import { sleep } from '../../test/support/http.js';
import { ProcMonitor } from './procstat.js';
import { spawnBenchController, spawnListening, type Proc } from './procs.js';
import { round, summary } from './stats.js';

export interface CentreBenchOptions {
  seconds: number;
  gateways: number;
  stationsPerGateway: number;
  clients: number;
  runner: Runner;
  log: (m: string) => void;
}

export interface CentreBenchResult {
  seconds: number;
  gateways: number;
  remoteStations: number;
  boardClients: number;
  statesPublished: number;
  /** What the monitor client received through the broker, per second. */
  brokerMessagesPerS: number;
  stateToBoardMs: { p50: number; p99: number; max: number; n: number };
  /** Remote stations each board client had at the end (all of them, if none was lost). */
  stationsOnBoard: { min: number; max: number };
  web: { cpuPercent: number; rssMb: number; rssPeakMb: number };
  controller: { cpuPercent: number; rssMb: number };
  loadAverage: { start: number[]; end: number[] };
}

const CENTRE = 'bench';
const STATE_RATE_HZ = 2;

/** A running station's state as a gateway publishes it (also the centre board's e2e test's). */
export function statePayload(gatewayId: string, n: number, tick: number): StatePayload {
  const zones = Array.from({ length: 8 }, (_, i) => ({
    zone: i + 1,
    pressureMmHg: Math.round(20 + 20 * Math.sin((tick + i + n) / 3)),
    targetMmHg: 40,
  }));
  return {
    id: `bay-${n}`,
    name: `${gatewayId} bay ${n}`,
    garment: 'leg',
    state: 'running',
    phase: { kind: 'holding', zone: (tick % 8) + 1 },
    program: { id: 'leg-circulation', name: 'Leg circulation', version: 1 },
    session: {
      id: `${gatewayId}-s${n}`,
      cycle: Math.floor(tick / 20),
      elapsedS: Math.floor(tick / STATE_RATE_HZ),
      remainingS: Math.max(0, 1800 - Math.floor(tick / STATE_RATE_HZ)),
      pressureMmHg: 40,
      durationMin: 30,
      adjustPending: false,
    },
    remainingS: Math.max(0, 1800 - Math.floor(tick / STATE_RATE_HZ)),
    zones,
    ceilingMmHg: 80,
    startCeiling: { ceilingMmHg: 80, highestTargetMmHg: 75, source: 'board' },
    sessionCeilingMmHg: 80,
    link: 'ok',
    alarms: [],
    walkUp: null,
    gatewayId,
    atEpochMs: Date.now(),
  };
}

async function mqttClient(
  url: string,
  id: string,
  will?: { topic: string; payload: string },
): Promise<MqttClient> {
  const c = mqtt.connect(url, {
    clientId: id,
    protocolVersion: 5,
    reconnectPeriod: 0,
    ...(will ? { will: { ...will, qos: 1, retain: true } } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

export async function runCentreBench(o: CentreBenchOptions): Promise<CentreBenchResult> {
  const loadStart = os.loadavg().map((x) => round(x));
  const broker = await startBroker();
  const dataDir = mkdtempSync(join(tmpdir(), 'presso-centre-bench-'));
  const procs: Proc[] = [];
  const mqttClients: MqttClient[] = [];
  const sockets: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    const controller = spawnBenchController(dataDir, 'simulator', {}, o.runner);
    procs.push(controller);
    const web = await spawnListening(
      'gateway/server/main.ts',
      {
        PRESSO_DATA_DIR: dataDir,
        PRESSO_MQTT_URL: broker.url,
        PRESSO_GATEWAY_ID: 'gw-real',
        PRESSO_CENTRE_ID: CENTRE,
        // 20 boards from one address (this process).
        PRESSO_MAX_SOCKETS_PER_ADDRESS: String(o.clients + 4),
      },
      o.runner,
    );
    procs.push(web);
    o.log(`gateway gw-real at ${web.base}, broker ${broker.url}`);

    // The monitor: everything the centre's topics carry, counted.
    let brokerMessages = 0;
    const monitor = await mqttClient(broker.url, 'bench-monitor');
    mqttClients.push(monitor);
    monitor.on('message', () => brokerMessages++);
    await monitor.subscribeAsync(`presso/${CENTRE}/#`);

    // The boards.
    const latencies: number[] = [];
    const seen: Set<string>[] = [];
    let measuring = false;
    for (let i = 0; i < o.clients; i++) {
      const s = connect(web.base, { transports: ['websocket'], reconnection: false });
      sockets.push(s);
      const ids = new Set<string>();
      seen.push(ids);
      s.on('station', (m: Record<string, unknown> & { id: string; t?: number }) => {
        if (!m.id.includes('/')) return;
        ids.add(m.id);
        // A keepalive carries only the id and the header; a change carries fields.
        if (measuring && typeof m.t === 'number' && Object.keys(m).length > 2)
          latencies.push(Date.now() - m.t);
      });
      await new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('connect_error', (e) =>
          reject(new Error(`board ${i + 1} could not connect: ${e.message}\n${web.errors().slice(-4000)}`)),
        );
      });
      await s.timeout(5000).emitWithAck('subscribe', { overview: true });
      await s.timeout(5000).emitWithAck('subscribe', { centre: true });
    }

    // The simulated gateways.
    let published = 0;
    for (let g = 0; g < o.gateways; g++) {
      const id = `gw-sim-${g + 1}`;
      const status = `presso/${CENTRE}/${id}/status`;
      const c = await mqttClient(broker.url, `bench-${id}`, {
        topic: status,
        payload: JSON.stringify({ online: false, gatewayId: id }),
      });
      mqttClients.push(c);
      c.publish(status, JSON.stringify({ online: true, gatewayId: id, url: `http://${id}.local:8080` }), {
        qos: 1,
        retain: true,
      });
      let tick = 0;
      // Stations of one gateway spread over the interval, as their frames are.
      for (let n = 1; n <= o.stationsPerGateway; n++) {
        const start = setTimeout(
          () => {
            const timer = setInterval(() => {
              c.publish(
                `presso/${CENTRE}/${id}/stations/bay-${n}/state`,
                JSON.stringify(statePayload(id, n, tick++)),
                {
                  qos: 0,
                  retain: true,
                },
              );
              published++;
            }, 1000 / STATE_RATE_HZ);
            timers.push(timer);
          },
          Math.random() * (1000 / STATE_RATE_HZ),
        );
        timers.push(start);
      }
    }

    // Warm-up: every board has every remote station.
    const remoteStations = o.gateways * o.stationsPerGateway;
    for (const until = Date.now() + 30_000; seen.some((s) => s.size < remoteStations); await sleep(100)) {
      if (Date.now() > until) {
        o.log(
          `warning: after 30 s the boards have ${seen.map((s) => s.size).join(', ')} of ${remoteStations} stations`,
        );
        break;
      }
    }
    o.log(
      `measuring for ${o.seconds} s: ${o.gateways} gateways × ${o.stationsPerGateway} stations, ${o.clients} boards`,
    );
    const mon = new ProcMonitor({ web: web.pid, controller: controller.pid });
    mon.start(1000);
    measuring = true;
    const msgs0 = brokerMessages;
    const pub0 = published;
    const t0 = performance.now();
    await sleep(o.seconds * 1000);
    measuring = false;
    const wallS = (performance.now() - t0) / 1000;
    const usage = mon.stop();
    const sizes = seen.map((s) => s.size);
    const sum = summary(latencies);
    return {
      seconds: round(wallS, 1),
      gateways: o.gateways,
      remoteStations,
      boardClients: o.clients,
      statesPublished: published - pub0,
      brokerMessagesPerS: round((brokerMessages - msgs0) / wallS, 1),
      stateToBoardMs: { p50: round(sum.p50, 1), p99: round(sum.p99, 1), max: round(sum.max, 1), n: sum.n },
      stationsOnBoard: { min: Math.min(...sizes), max: Math.max(...sizes) },
      web: {
        cpuPercent: round(usage.web?.cpuPercent ?? 0, 1),
        rssMb: round(usage.web?.rssMb ?? 0, 1),
        rssPeakMb: round(usage.web?.rssPeakMb ?? 0, 1),
      },
      controller: {
        cpuPercent: round(usage.controller?.cpuPercent ?? 0, 1),
        rssMb: round(usage.controller?.rssMb ?? 0, 1),
      },
      loadAverage: { start: loadStart, end: os.loadavg().map((x) => round(x)) },
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    for (const s of sockets) s.close();
    await Promise.all(mqttClients.map((c) => c.endAsync(true).catch(() => undefined)));
    for (const p of procs.reverse()) await p.kill();
    await broker.kill();
    broker.remove();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
