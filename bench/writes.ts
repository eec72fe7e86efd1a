/**
 * What the gateway writes, measured: the real controller and web process on the simulator board,
 * one session on every station, then the bytes each process sent to storage (/proc/<pid>/io
 * write_bytes: the database's rewrites, reports, journal, backups) and the bytes of the log lines
 * each printed (what pm2's files and the journal receive), per session and per minute.
 *
 *   node --import tsx bench/writes.ts [--minutes 5]      (Linux: reads /proc; about minutes + 1 min)
 *
 * The pressure log runs at 60 s, the hardware default. docs/benchmarks.md turns the figures into
 * bytes per day and station.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../gateway/paths.js';
import { spawnWeb } from '../gateway/server/test-support/web-process.js';

const minutes = Number(process.argv[process.argv.indexOf('--minutes') + 1] || 5);
const TOKEN = 'bench-writes-admin-token-0123456789';
const PROGRAMS: Record<string, string> = {
  'bay-1': 'leg-circulation',
  'bay-2': 'leg-circulation',
  'bay-3': 'arm-lymphatic-drainage',
  'lounge-1': 'leg-circulation',
};

function writeBytes(pid: number): number {
  const m = /^write_bytes: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

function du(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p, `${rel}${name}/`);
      else if (!name.endsWith('.sock')) out[`${rel}${name}`] = s.size;
    }
  };
  walk(dir, '');
  return out;
}

async function api(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'presso-writes-'));
  // The simulator board at 20 Hz (its lowest rate), as the browser tests run it: on a shared 2-core
  // machine a 100 Hz tick trips the loop-stall rule, which vents and ends the sessions. What is
  // written per session and per log line does not depend on the tick rate.
  const board = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'config/simulator.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  board.loopRateHz = 20;
  const boardFile = join(dataDir, 'board.json');
  writeFileSync(boardFile, JSON.stringify(board));
  const controller = spawn(process.execPath, ['--import', 'tsx', 'gateway/control-loop/main.ts'], {
    cwd: PACKAGE_ROOT,
    env: { ...process.env, PRESSO_DATA_DIR: dataDir, PRESSO_BOARD: boardFile, PRESSO_LOG_PRESSURES: '60' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let controllerLog = 0;
  let pressureLines = 0;
  let pressureBytes = 0;
  for (const stream of [controller.stdout, controller.stderr]) {
    stream.on('data', (c: Buffer) => {
      controllerLog += c.length;
      for (const line of c.toString().split('\n')) {
        if (/ mmHg {2}z1 /.test(line)) {
          pressureLines++;
          pressureBytes += line.length + 1;
        }
      }
    });
  }
  const web = await spawnWeb(dataDir, { PRESSO_ADMIN_TOKEN: TOKEN });
  try {
    // Connected, every station idle; a loop-stall of the busy start is acknowledged as staff would.
    for (let i = 0; ; i++) {
      const h = (await api(web.base, 'GET', '/api/health').catch(() => null)) as {
        controller?: string;
      } | null;
      if (h?.controller === 'connected') {
        const { active } = (await api(web.base, 'GET', '/api/alarms')) as { active: { id: string }[] | null };
        for (const a of active ?? []) {
          await api(web.base, 'POST', `/api/alarms/${a.id}/acknowledge`, {}).catch(() => null);
        }
        const { stations } = (await api(web.base, 'GET', '/api/stations')) as {
          stations: { state: string }[];
        };
        if (stations.every((s) => s.state === 'idle')) break;
      }
      if (i > 200) throw new Error('the board did not become idle');
      await new Promise((r) => setTimeout(r, 300));
    }
    const startWeb = writeBytes(web.child.pid ?? 0);
    const startCtl = writeBytes(controller.pid ?? 0);
    const startLog = { ctl: controllerLog, web: web.output().length };
    const t0 = Date.now();
    for (const [id, programId] of Object.entries(PROGRAMS)) {
      await api(web.base, 'POST', `/api/stations/${id}/start`, {
        programId,
        durationMin: minutes,
        client: 'bench',
      });
    }
    for (;;) {
      await new Promise((r) => setTimeout(r, 5000));
      const { stations } = (await api(web.base, 'GET', '/api/stations')) as { stations: { state: string }[] };
      if (stations.every((s) => s.state === 'idle' || s.state === 'fault')) break;
    }
    await new Promise((r) => setTimeout(r, 3000)); // the store's batched write
    const elapsedMin = (Date.now() - t0) / 60_000;
    const result = {
      minutes,
      elapsedMin: Number(elapsedMin.toFixed(2)),
      stations: Object.keys(PROGRAMS).length,
      sessions: (await api(web.base, 'GET', '/api/sessions')) as unknown,
      webWriteBytes: writeBytes(web.child.pid ?? 0) - startWeb,
      controllerWriteBytes: writeBytes(controller.pid ?? 0) - startCtl,
      controllerLogBytes: controllerLog - startLog.ctl,
      webLogBytes: web.output().length - startLog.web,
      pressureLines,
      pressureLineBytes: pressureLines ? Math.round(pressureBytes / pressureLines) : 0,
      files: du(dataDir),
    };
    const sessions = (result.sessions as { sessions?: { status: string }[] }).sessions ?? [];
    console.log(
      JSON.stringify(
        {
          ...result,
          sessions: sessions.map((s) => s.status),
          load: readFileSync('/proc/loadavg', 'utf8').trim(),
        },
        null,
        2,
      ),
    );
  } finally {
    await web.kill();
    controller.kill('SIGTERM');
    await new Promise((r) => controller.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
