/**
 * The gateway's systemd notifier, run by pm2 next to the controller and the web process when the
 * unit runs under systemd (ecosystem.config.js adds it when NOTIFY_SOCKET is set).
 *
 * Every quarter of WATCHDOG_USEC it checks the gateway (health-gate.ts) and, only when healthy,
 * sends READY=1 and WATCHDOG=1 to systemd; otherwise it sends just a STATUS= line with what is
 * wrong (shown by `systemctl status`), so systemd restarts the unit when that lasts WatchdogSec.
 * READY=1 is repeated with every ping on purpose: systemd ignores it once started, and a first
 * datagram lost on a busy Pi would otherwise leave the start hanging until TimeoutStartSec.
 *
 * Messages go through the `systemd-notify` command (Node has no AF_UNIX datagram socket). As an
 * unprivileged user it sends with its own PID, which is not the unit's main PID (pm2-runtime is),
 * so the unit needs NotifyAccess=all. `systemd-notify` exits right after sending; if systemd
 * reads the datagram only after that, it may not find the sender's unit and drop the message,
 * which the quarter-period pings absorb (the watchdog trips only when every ping of a whole
 * period is lost).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { ControllerClient } from '../ipc/client.js';
import { controllerSocketPath } from '../paths.js';
import { loadConfig } from '../server/config.js';
import { loadTlsSettings } from '../server/https.js';
import {
  assess,
  CONTROLLER_ANSWER_MS,
  HEALTH_ANSWER_MS,
  healthUrl,
  pingIntervalMs,
  type Observation,
} from './health-gate.js';

const PREFIX = '[watchdog]';

function notify(vars: string[]): Promise<void> {
  return new Promise((resolve) => {
    execFile('systemd-notify', vars, { timeout: 2000 }, (err, _stdout, stderr) => {
      if (err)
        console.error(`${PREFIX} systemd-notify ${vars.join(' ')} failed: ${stderr.trim() || err.message}`);
      resolve();
    });
  });
}

/**
 * GET url as JSON. node:http(s) rather than fetch: fetch cannot be told to trust the gateway's
 * own certificate authority, and the HTTPS port answers only with that authority's certificate.
 */
function getJson(url: string, ca: Buffer | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const req = get(url, { timeout: HEALTH_ANSWER_MS, ...(ca ? { ca } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url} answered ${res.statusCode}`));
        else {
          try {
            resolve(JSON.parse(body));
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${HEALTH_ANSWER_MS} ms`)));
    req.on('error', reject);
  });
}

async function observe(client: ControllerClient, url: string, ca?: Buffer): Promise<Observation> {
  const o: Observation = {};
  const controller = client
    .request('hello', {}, CONTROLLER_ANSWER_MS)
    .then((info) => {
      o.controllerLoopPeriodMs = info.loop.periodMs;
    })
    .catch((e: unknown) => {
      o.controllerError = e instanceof Error ? e.message : String(e);
    });
  const web = getJson(url, ca)
    .then((health) => {
      o.health = health as Observation['health'];
    })
    .catch((e: unknown) => {
      o.healthError = `GET ${url}: ${e instanceof Error ? e.message : String(e)}`;
    });
  await Promise.all([controller, web]);
  return o;
}

async function main(): Promise<void> {
  if (!process.env.NOTIFY_SOCKET) {
    console.log(`${PREFIX} NOTIFY_SOCKET is not set (not under systemd): nothing to do`);
    return;
  }
  const config = loadConfig();
  const tls = loadTlsSettings();
  const url = healthUrl(config.host, config.port, tls !== undefined);
  const ca = tls?.caFile !== undefined ? readFileSync(tls.caFile) : undefined;
  const intervalMs = pingIntervalMs(process.env.WATCHDOG_USEC);
  const client = new ControllerClient({ log: { info: () => {}, warn: () => {}, error: () => {} } });
  client.connect(controllerSocketPath(), { retry: true }).catch(() => undefined);
  console.log(`${PREFIX} checking the controller and ${url} every ${intervalMs} ms`);

  let wasHealthy: boolean | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  const round = async () => {
    const verdict = assess(await observe(client, url, ca));
    if (stopping) return;
    if (verdict.healthy !== wasHealthy) {
      (verdict.healthy ? console.log : console.warn)(`${PREFIX} ${verdict.status}`);
      wasHealthy = verdict.healthy;
    }
    await notify(
      verdict.healthy ? ['READY=1', 'WATCHDOG=1', `STATUS=${verdict.status}`] : [`STATUS=${verdict.status}`],
    );
    if (!stopping) timer = setTimeout(() => void round(), intervalMs);
  };
  const stop = () => {
    stopping = true;
    clearTimeout(timer);
    void client.close().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await round();
}

void main();
