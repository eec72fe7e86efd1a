/**
 * The real web process (`node --import tsx gateway/server/main.ts`) as a child, for tests that
 * must crash it (SIGKILL) or see what it does with a data dir at start. It listens on PORT=0 and
 * the address is read from Fastify's "Server listening at" log line, so no port can be taken by
 * someone else between picking and binding it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { PACKAGE_ROOT } from '../../paths.js';

export interface WebProcess {
  child: ChildProcess;
  /** http://127.0.0.1:<port> (https:// when the test set PRESSO_TLS_CERT) */
  base: string;
  /** Everything it wrote to stdout and stderr so far (for assertion messages). */
  output(): string;
  /** Sends `signal` (SIGTERM by default) and resolves when the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const LISTENING = /Server listening at (https?:\/\/127\.0\.0\.1:\d+)/;

export async function spawnWeb(
  dataDir: string,
  env: Record<string, string>,
  // tsx compiles the server on start: seconds on an idle machine, far more under a loaded CI.
  startTimeoutMs = 60_000,
): Promise<WebProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/server/main.ts'], {
    cwd: PACKAGE_ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', PRESSO_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const base = await new Promise<string>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () => fail(new Error(`web process not listening within ${startTimeoutMs} ms`)),
      startTimeoutMs,
    );
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A process that never came up is not left behind for t.after to find.
      void kill('SIGKILL');
      reject(new Error(`${e.message}\n--- its output ---\n${log}`));
    };
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const m = LISTENING.exec(log);
      if (m?.[1] !== undefined && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    child.once('exit', (code, signal) =>
      fail(new Error(`web process exited (${code ?? signal}) before listening`)),
    );
  });
  return { child, base, output: () => log, kill };
}
