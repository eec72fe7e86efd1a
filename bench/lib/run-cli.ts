/** `bench/run.ts` with `args` as a child process, for the bench's short-form tests. */
import { spawn } from 'node:child_process';
import { PACKAGE_ROOT } from '../../gateway/paths.js';

export async function runBenchCli(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
    cwd: PACKAGE_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (c: Buffer) => (out += c.toString());
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, out };
}
