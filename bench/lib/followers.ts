/**
 * What one live follower costs the web process (`npm run bench -- --followers`): the real
 * controller (4-station simulator board) and web process, compiled as production runs them, with
 * 0, then more Socket.IO clients that each follow the overview and every station (the heaviest a
 * client can ask for: 20 Hz per station). For each count: the web process's mean CPU and RSS
 * over the window, and /api/health's answer time. The per-follower figures are the slope between
 * none and the most; docs/benchmarks.md records them, docs/security.md sizes the caps with them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as ioClient, type Socket } from 'socket.io-client';
import { presetById } from '../../gateway/control-loop/programs/presets.js';
import { ControllerClient } from '../../gateway/ipc/client.js';
import { readyBoard } from '../../gateway/server/test-support/harness.js';
import type { Runner } from './compile.js';
import { call, sleep } from '../../test/support/http.js';
import { ProcMonitor } from './procstat.js';
import { spawnBenchController, spawnListening } from './procs.js';
import { round, summary } from './stats.js';

const STATIONS = ['bay-1', 'bay-2', 'bay-3', 'lounge-1'];

export interface FollowerRow {
  followers: number;
  connected: number;
  webCpuPercent: number;
  webRssMb: number;
  healthP50Ms: number;
  healthMaxMs: number;
}

export interface FollowerCost {
  rows: FollowerRow[];
  perFollower: { webCpuPercent: number; webRssMb: number };
  windowS: number;
}

export async function followerCost(
  counts: number[],
  windowS: number,
  runner: Runner,
  log: (m: string) => void,
): Promise<FollowerCost> {
  const dir = mkdtempSync(join(tmpdir(), 'presso-followers-'));
  const most = Math.max(...counts);
  const controller = spawnBenchController(dir, 'simulator', {}, runner);
  const web = await spawnListening(
    'gateway/server/main.ts',
    {
      PRESSO_DATA_DIR: dir,
      // Every client comes from 127.0.0.1: the caps are raised to the count measured.
      PRESSO_MAX_SOCKETS_PER_ADDRESS: String(most),
      PRESSO_MAX_SOCKETS: String(most),
    },
    runner,
  );
  const client = new ControllerClient({ log: { info: () => {}, warn: () => {}, error: () => {} } });
  const rows: FollowerRow[] = [];
  try {
    await client.connect(controller.socketPath, { retry: true });
    await readyBoard(client, 30_000);
    // Frames change every tick only while something runs: two stations run a session throughout
    // (started on the controller directly: the web process is what is measured, not its starts).
    const program = presetById('leg-circulation');
    if (program === undefined) throw new Error('no leg-circulation preset');
    for (const id of ['bay-1', 'bay-2']) {
      await client.request('start', {
        stationId: id,
        sessionId: `followers-${id}`,
        program,
        durationMin: 30,
      });
    }
    for (const n of counts) {
      const sockets: Socket[] = [];
      await Promise.all(
        Array.from({ length: n }, () => {
          const s = ioClient(web.base, { transports: ['websocket'], reconnection: false, forceNew: true });
          sockets.push(s);
          return new Promise<void>((resolve) => {
            s.once('connect', () => {
              s.emit('subscribe', { overview: true });
              for (const id of STATIONS) s.emit('subscribe', { stationId: id });
              resolve();
            });
            s.once('connect_error', () => resolve());
          });
        }),
      );
      await sleep(1000);
      const monitor = new ProcMonitor({ web: web.pid });
      monitor.start(500);
      const health: number[] = [];
      const until = Date.now() + windowS * 1000;
      while (Date.now() < until) {
        const t = performance.now();
        await call(web.base, '/api/health');
        health.push(performance.now() - t);
        await sleep(250);
      }
      const w = monitor.stop().web;
      const h = summary(health);
      const row: FollowerRow = {
        followers: n,
        connected: sockets.filter((s) => s.connected).length,
        webCpuPercent: round(w?.cpuPercent ?? 0, 1),
        webRssMb: round(w?.rssMb ?? 0, 1),
        healthP50Ms: round(h.p50, 1),
        healthMaxMs: round(h.max, 1),
      };
      rows.push(row);
      log(
        `${n} followers: web ${row.webCpuPercent} % CPU, ${row.webRssMb} MB, health p50 ${row.healthP50Ms} ms`,
      );
      for (const s of sockets) s.close();
      await sleep(1000);
    }
    await client.request('stop', {});
  } finally {
    await client.close();
    await web.kill();
    await controller.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  const none = rows.find((r) => r.followers === 0) ?? rows[0];
  const top = rows[rows.length - 1];
  const span = (top?.followers ?? 0) - (none?.followers ?? 0);
  return {
    rows,
    perFollower: {
      webCpuPercent: span > 0 ? round(((top?.webCpuPercent ?? 0) - (none?.webCpuPercent ?? 0)) / span, 3) : 0,
      webRssMb: span > 0 ? round(((top?.webRssMb ?? 0) - (none?.webRssMb ?? 0)) / span, 3) : 0,
    },
    windowS,
  };
}
