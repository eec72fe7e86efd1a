/**
 * The web process. Reads its settings (config.ts), opens the store, starts connecting to the
 * controller (and keeps reconnecting: the web process outlives controller restarts, and serves
 * history and health while the controller is away), then listens.
 *
 * On SIGTERM/SIGINT it closes the HTTP server (connected dashboards are disconnected, not waited
 * for), the controller link, then the store (the last reports are flushed). Therapy is not
 * affected: the controller runs on without the web process.
 *
 * Environment: PORT, HOST, PRESSO_DATA_DIR, PRESSO_ADMIN_TOKEN, PRESSO_SERVER_CONFIG,
 * PRESSO_CONTROLLER_SOCKET, PRESSO_LOGIN_ATTEMPTS_PER_MIN, PRESSO_HOSTNAME, PRESSO_MIN_PIN_DIGITS,
 * PRESSO_ALLOWED_HOSTS, PRESSO_MAX_SOCKETS_PER_ADDRESS, PRESSO_MAX_SOCKETS (see config.ts and
 * README.md); PRESSO_TLS_CERT, PRESSO_TLS_KEY, PRESSO_TLS_CA, PRESSO_HTTP_PORT (see https.ts);
 * PRESSO_MQTT_URL and the other centre settings (config.ts, docs/centre.md).
 */
import { surviveClosedOutput } from '../closed-output.js';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { ControllerClient } from '../ipc/client.js';
import { buildServer } from './app.js';
import { ClockWatch } from './clock-state.js';
import { ConfigError, loadConfig } from './config.js';
import {
  loadTlsSettings,
  readTlsFiles,
  startHttpRedirect,
  type TlsFiles,
  type TlsSettings,
} from './https.js';
import { openStore } from './open-store.js';

/** pm2 and systemd wait this long before SIGKILL; finish well within it. */
const SHUTDOWN_LIMIT_MS = 5000;

async function main(): Promise<void> {
  surviveClosedOutput();
  let config;
  let tls: TlsSettings | undefined;
  let tlsFiles: TlsFiles | undefined;
  try {
    config = loadConfig();
    tls = loadTlsSettings();
    if (tls) tlsFiles = readTlsFiles(tls);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`[server] settings error: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  mkdirSync(config.dataDir, { recursive: true });
  const clockWatch = new ClockWatch({
    log: { info: (m) => console.log(`[server] ${m}`), warn: (m) => console.warn(`[server] warning: ${m}`) },
  });
  // Known before the store opens: its first write may be a daily backup.
  await clockWatch.start();
  const store = await openStore(config.dataDir, () => clockWatch.trusted());
  const controller = new ControllerClient({
    log: {
      info: (m) => console.log(`[server] ${m}`),
      warn: (m) => console.warn(`[server] warning: ${m}`),
      error: (m) => console.error(`[server] error: ${m}`),
    },
  });
  // Not awaited: the server must answer (health says "disconnected") while the controller is down.
  controller.connect(config.controllerSocket, { retry: true }).catch((e: unknown) => {
    console.error(`[server] controller link: ${String(e)}`);
  });
  const app = await buildServer({
    config,
    store,
    controller,
    logger: { level: 'info' },
    clockWatch,
    ...(tlsFiles ? { https: tlsFiles } : {}),
  });
  await app.listen({ port: config.port, host: config.host });
  const redirect =
    tls?.httpPort !== undefined
      ? await startHttpRedirect({
          host: config.host,
          port: tls.httpPort,
          // The port really bound (PORT=0 picks one).
          httpsPort: (app.server.address() as AddressInfo).port,
          fallbackHost: config.hostname ?? '127.0.0.1',
          ...(tls.caFile !== undefined ? { caFile: tls.caFile } : {}),
        })
      : undefined;
  if (redirect) app.log.info(`plain HTTP on port ${tls?.httpPort} redirects to HTTPS on ${config.port}`);

  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info(`${why}: closing`);
    const timer = setTimeout(() => {
      console.error('[server] shutdown took too long; exiting anyway');
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS);
    timer.unref();
    try {
      clockWatch.stop();
      redirect?.closeAllConnections();
      redirect?.close();
      await app.close();
      await controller.close();
      await store.close();
    } catch (e) {
      console.error(`[server] error while closing: ${String(e)}`);
      process.exitCode = 1;
    }
    clearTimeout(timer);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

void main().catch((e: unknown) => {
  console.error(`[server] could not start: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
