/**
 * The processes a bench or campaign runs: the real controller on a chosen board (the server
 * tests' spawnController is fixed to the simulator profile and to tsx), and any script that
 * prints Fastify's "Server listening at" line (the web process, the bench's one-process baseline),
 * from sources through tsx or compiled (compile.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../gateway/paths.js';
import { TSX_RUNNER, type Runner } from './compile.js';
import { CONTROLLER_NODE_ARGS } from '../../ecosystem.config.js';

export interface Proc {
  child: ChildProcess;
  pid: number;
  /** Everything it wrote to stderr so far (for messages when it fails). */
  errors(): string;
  /** Sends `signal` and resolves when it has exited (at once if it already has). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function wrap(child: ChildProcess): Proc {
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    pid: child.pid ?? -1,
    errors: () => err,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface ControllerProc extends Proc {
  socketPath: string;
}

/** The controller (gateway/control-loop/main.ts) on `board` (a profile name or a path). */
export function spawnBenchController(
  dataDir: string,
  board: string,
  env: Record<string, string> = {},
  runner: Runner = TSX_RUNNER,
): ControllerProc {
  // The heap flags production uses (ecosystem.config.js), so RSS is measured as it will be.
  const child = spawn(
    process.execPath,
    [...CONTROLLER_NODE_ARGS, ...runner.argv('gateway/control-loop/main.ts')],
    {
      cwd: PACKAGE_ROOT,
      env: {
        ...process.env,
        PRESSO_DATA_DIR: dataDir,
        PRESSO_BOARD: board,
        PRESSO_LOG_PRESSURES: '0',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  return { ...wrap(child), socketPath: join(dataDir, 'controller.sock') };
}

const LISTENING = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/;

/** Starts `script` with tsx and resolves once it logs Fastify's listening line. */
export async function spawnListening(
  script: string,
  env: Record<string, string>,
  runner: Runner = TSX_RUNNER,
  timeoutMs = 30_000,
): Promise<Proc & { base: string }> {
  // BENCH_CPU_PROF_DIR=dir: V8 CPU profiles of the web process (and the baseline) into dir, for
  // finding where its CPU goes (docs/benchmarks.md); NODE_OPTIONS may not carry --cpu-prof.
  const prof = process.env.BENCH_CPU_PROF_DIR;
  const child = spawn(
    process.execPath,
    [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), ...runner.argv(script)],
    {
      cwd: PACKAGE_ROOT,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const proc = wrap(child);
  let out = '';
  let listening = false;
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      void proc.kill('SIGKILL');
      reject(new Error(`${script} not listening within ${timeoutMs} ms\n${out}${proc.errors()}`));
    }, timeoutMs);
    // Drained for the whole life of the process (a full pipe would block its logging), but only
    // searched until the line is found: the web process logs every request.
    child.stdout?.on('data', (c: Buffer) => {
      if (listening) return;
      out = (out + c.toString()).slice(-20_000);
      const m = LISTENING.exec(out);
      if (m?.[1] !== undefined) {
        listening = true;
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void proc.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code ?? signal}) before listening\n${out}${proc.errors()}`));
    });
  });
  return { ...proc, base };
}
