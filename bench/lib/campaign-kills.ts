/**
 * Kill campaign: SIGKILL of the controller or of the web process, chosen at random, while
 * sessions run (and while starts are in flight), then a restart, and the checks a person would
 * make afterwards:
 *
 * - controller killed: once restarted, every station is idle with every output de-energised
 *   (pump off, inlets shut, exhausts open: the safe state the controller writes before anything
 *   else), and every session that was running is marked 'interrupted' in the history;
 * - web killed: the controller ran on (same pid) and its sessions are still running;
 * - either way, every session whose start was answered 2xx is in the history.
 *
 * The processes run as in production (compiled, plain node), on the 4-station simulator board.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControllerClient } from '../../gateway/ipc/client.js';
import type { SessionRecord } from '../../gateway/store/types.js';
import { readyBoard } from '../../gateway/server/test-support/harness.js';
import type { Runner } from './compile.js';
import { call, sleep } from '../../test/support/http.js';
import { spawnBenchController, spawnListening, type ControllerProc, type Proc } from './procs.js';

const TOKEN = 'campaign-admin-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const STATIONS = ['bay-1', 'bay-2', 'bay-3', 'lounge-1'];
const PROGRAM: Record<string, string> = {
  'bay-1': 'leg-circulation',
  'bay-2': 'leg-circulation',
  'bay-3': 'arm-circulation',
  'lounge-1': 'leg-relaxation',
};

export interface KillCounts {
  kills: number;
  controllerKills: number;
  webKills: number;
  acknowledgedSessions: number;
  runningAtKill: number;
  /** Verdict failures, each named (empty when every check held). */
  failures: string[];
  unsafeAfterRestart: number;
  lostSessions: number;
  notMarkedInterrupted: number;
  controllerDiedWithWeb: number;
  startsInFlightAtKill: number;
  /** Latched alarms found at the start of a round and acknowledged (by code). */
  latchedAlarmsAcknowledged: Record<string, number>;
  durationS: number;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export async function killCampaign(
  kills: number,
  runner: Runner,
  log: (m: string) => void = () => {},
  rand: () => number = Math.random,
): Promise<KillCounts> {
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'presso-kills-'));
  const env = { PRESSO_DATA_DIR: dir, PRESSO_ADMIN_TOKEN: TOKEN };
  const c: KillCounts = {
    kills: 0,
    controllerKills: 0,
    webKills: 0,
    acknowledgedSessions: 0,
    runningAtKill: 0,
    failures: [],
    unsafeAfterRestart: 0,
    lostSessions: 0,
    notMarkedInterrupted: 0,
    controllerDiedWithWeb: 0,
    startsInFlightAtKill: 0,
    latchedAlarmsAcknowledged: {},
    durationS: 0,
  };
  const acknowledged = new Set<string>();
  let controller: ControllerProc = spawnBenchController(dir, 'simulator', {}, runner);
  let web: Proc & { base: string } = await spawnListening('gateway/server/main.ts', env, runner);
  const client = new ControllerClient({ log: { info: () => {}, warn: () => {}, error: () => {} } });
  await client.connect(controller.socketPath, { retry: true });
  const linked = (base: string) =>
    until(
      'web linked to the controller',
      async () =>
        (await call<{ controller: string }>(base, '/api/health')).body.controller === 'connected'
          ? true
          : undefined,
      30_000,
    );
  const sessions = async (): Promise<Map<string, SessionRecord>> => {
    const r = await call<{ sessions: SessionRecord[] }>(web.base, '/api/sessions?limit=5000', {
      headers: AUTH,
    });
    return new Map(r.body.sessions.map((s) => [s.id, s]));
  };
  /** One round: sessions started, a kill, a restart, and the checks. */
  const round = async (i: number): Promise<void> => {
    await call(web.base, '/api/stop', { method: 'POST', headers: AUTH });
    await until('campaign client connected', async () => (client.isConnected ? true : undefined), 20_000);
    // Latched alarms (a loop stall when the machine is overloaded) are counted and acknowledged,
    // as staff would, so that every round starts from an idle board.
    for (const a of await client.request('alarms', {})) {
      if (!a.latched) continue;
      c.latchedAlarmsAcknowledged[a.code] = (c.latchedAlarmsAcknowledged[a.code] ?? 0) + 1;
      await client.request('acknowledge', { alarmId: a.id }).catch(() => undefined);
    }
    await readyBoard(client, 20_000);
    // Sessions on a random half or more of the stations; starts keep coming until the kill.
    let stopped = false;
    let inFlight = 0;
    const running = new Set<string>();
    const starter = async (id: string) => {
      while (!stopped) {
        inFlight++;
        try {
          const r = await call<{ session?: SessionRecord }>(web.base, `/api/stations/${id}/start`, {
            method: 'POST',
            headers: AUTH,
            body: { programId: PROGRAM[id], client: `Kill ${i}`, durationMin: 10 },
          });
          if (r.status >= 200 && r.status < 300 && r.body.session) {
            acknowledged.add(r.body.session.id);
            running.add(r.body.session.id);
            return;
          }
        } catch {
          if (stopped) return;
        } finally {
          inFlight--;
        }
        await sleep(50);
      }
    };
    const chosen = STATIONS.filter(() => rand() < 0.75);
    const starters = chosen.map(starter);
    await sleep(200 + rand() * 1500);
    const victim = rand() < 0.5 ? 'controller' : 'web';
    c.startsInFlightAtKill += inFlight;
    // What the controller runs at the kill, as its last frames (≤ 50 ms old) say: a session a
    // loop stall ended just before is a fault, not an interruption.
    const live = new Set(client.frames().map((f) => f.session?.id));
    for (const id of [...running]) if (!live.has(id)) running.delete(id);
    c.runningAtKill += running.size;
    const controllerPid = controller.pid;
    if (victim === 'controller') {
      await controller.kill('SIGKILL');
      stopped = true;
      await Promise.all(starters);
      c.controllerKills++;
      controller = spawnBenchController(dir, 'simulator', {}, runner);
      await linked(web.base);
      // The campaign's own client reconnects with its back-off (up to 2 s), after the web's.
      await until('campaign client reconnected', async () => (client.isConnected ? true : undefined), 20_000);
      await readyBoard(client, 20_000);
      const frames = await client.request('state', {});
      const unsafe = frames.filter(
        (f) => f.state !== 'idle' || f.pumpDuty !== 0 || f.zones.some((z) => z.inlet || z.exhaust),
      );
      if (unsafe.length > 0) {
        c.unsafeAfterRestart++;
        c.failures.push(`kill ${i}: outputs not safe after restart on ${unsafe.map((f) => f.id).join(', ')}`);
      }
      // The web process marks what was running as interrupted once it sees the new controller.
      const ids = [...running];
      const marked = await until(
        'running sessions marked interrupted',
        async () => {
          const s = await sessions();
          return ids.every((id) => s.get(id)?.status === 'interrupted') ? s : undefined;
        },
        15_000,
      ).catch(() => undefined);
      if (marked === undefined) {
        const s = await sessions();
        const bad = ids.filter((id) => s.get(id)?.status !== 'interrupted');
        c.notMarkedInterrupted += bad.length;
        c.failures.push(
          `kill ${i}: not marked interrupted: ${bad.map((id) => `${id}=${s.get(id)?.status}`).join(', ')}`,
        );
      }
    } else {
      await web.kill('SIGKILL');
      stopped = true;
      await Promise.all(starters);
      c.webKills++;
      web = await spawnListening('gateway/server/main.ts', env, runner);
      await linked(web.base);
      const alive = controller.child.exitCode === null && controller.child.signalCode === null;
      if (!alive || controller.pid !== controllerPid) {
        c.controllerDiedWithWeb++;
        c.failures.push(`kill ${i}: the controller did not survive the web process`);
      }
      const frames = await client.request('state', {});
      const runningIds = new Set(frames.map((f) => f.session?.id).filter((x): x is string => !!x));
      const s = await sessions();
      for (const id of running) {
        // A loop stall on a loaded machine may vent a session: it then ends as a fault, not lost.
        const rec = s.get(id);
        if (!runningIds.has(id) && rec?.status === 'running') {
          c.failures.push(`kill ${i}: ${id} neither running nor ended`);
        }
      }
    }
    c.kills++;
    const s = await sessions();
    const missing = [...acknowledged].filter((id) => !s.has(id));
    if (missing.length > 0) {
      c.lostSessions += missing.length;
      c.failures.push(`kill ${i}: acknowledged sessions missing: ${missing.join(', ')}`);
    }
  };
  try {
    await linked(web.base);
    for (let i = 0; i < kills; i++) {
      try {
        await round(i);
      } catch (e) {
        // A round that could not finish (a process too slow to come back on a loaded machine) is
        // a failure to report, and the next round starts from whatever is running.
        c.failures.push(`kill ${i}: ${(e as Error).message}`);
        if (controller.child.exitCode !== null || controller.child.signalCode !== null)
          controller = spawnBenchController(dir, 'simulator', {}, runner);
        if (web.child.exitCode !== null || web.child.signalCode !== null)
          web = await spawnListening('gateway/server/main.ts', env, runner);
        await linked(web.base).catch(() => undefined);
      }
      if ((i + 1) % 10 === 0 || i + 1 === kills)
        log(`kills: ${i + 1}/${kills}, ${acknowledged.size} sessions, ${c.failures.length} failures`);
    }
  } finally {
    await client.close().catch(() => undefined);
    await web.kill('SIGTERM');
    await controller.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  c.acknowledgedSessions = acknowledged.size;
  c.durationS = (Date.now() - t0) / 1000;
  return c;
}
