/**
 * When the systemd watchdog may be fed. systemd's WatchdogSec= restarts the whole unit (and runs
 * ExecStopPost=, the safe-state program) when no WATCHDOG=1 arrives in time, so a ping must mean
 * "the gateway is doing its job", not merely "some process is alive":
 *
 * - the controller answers `hello` on its own socket within CONTROLLER_ANSWER_MS: its event loop,
 *   which also runs the control tick, is not blocked, and it reports a loop period (it ticks);
 * - the web process answers GET /api/health within HEALTH_ANSWER_MS and says it is connected to
 *   the controller: staff can reach the stations.
 *
 * pm2 already restarts a process that exits; the watchdog is for what pm2 cannot see: a process
 * that is alive but stuck, or a pm2 that has given up after too many restarts.
 */

export const CONTROLLER_ANSWER_MS = 1000;
export const HEALTH_ANSWER_MS = 2000;

/** What one round of checks saw. `undefined` = no answer, with the reason in `*Error`. */
export interface Observation {
  controllerLoopPeriodMs?: number;
  controllerError?: string;
  health?: { status?: unknown; controller?: unknown };
  healthError?: string;
}

export type Verdict = { healthy: true; status: string } | { healthy: false; status: string };

export function assess(o: Observation): Verdict {
  const problems: string[] = [];
  if (o.controllerLoopPeriodMs === undefined) {
    problems.push(`controller: ${o.controllerError ?? 'no answer'}`);
  } else if (!(o.controllerLoopPeriodMs > 0)) {
    problems.push(`controller: reports no control loop (period ${o.controllerLoopPeriodMs})`);
  }
  if (o.health === undefined) {
    problems.push(`web: ${o.healthError ?? 'no answer from /api/health'}`);
  } else if (o.health.controller !== 'connected') {
    problems.push(`web: not connected to the controller (controller: ${String(o.health.controller)})`);
  }
  if (problems.length > 0) return { healthy: false, status: `unhealthy: ${problems.join('; ')}` };
  return {
    healthy: true,
    status: `controller ticking every ${o.controllerLoopPeriodMs} ms, web connected (${String(o.health?.status)})`,
  };
}

/** The ping interval: a quarter of WATCHDOG_USEC, so one lost datagram never trips the watchdog. */
export function pingIntervalMs(watchdogUsec: string | undefined, fallbackMs = 5000): number {
  const usec = Number(watchdogUsec);
  if (!Number.isFinite(usec) || usec <= 0) return fallbackMs;
  return Math.max(100, Math.floor(usec / 1000 / 4));
}

/**
 * The address to ask for health: the web process's, with a wildcard bind turned into loopback
 * (which the installer's certificate names, so HTTPS verifies there too).
 */
export function healthUrl(host: string, port: number, https = false): string {
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host;
  return `${https ? 'https' : 'http'}://${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${port}/api/health`;
}
