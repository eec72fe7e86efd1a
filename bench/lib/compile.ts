/**
 * The bench measures the processes as they run in production: compiled JavaScript under plain
 * node (scripts/start.mjs and pm2 run dist/), not TypeScript through tsx, whose loader alone adds
 * tens of MB of RSS and a compile at start. The sources (gateway/, and the bench's baseline
 * process) are compiled into node_modules/.cache/presso-bench, inside the package so that
 * packages resolve and PACKAGE_ROOT is found as from dist/; incremental, so an unchanged tree
 * compiles in a second or two. dist/ itself is left alone (it belongs to `npm run build`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../gateway/paths.js';

export const BENCH_BUILD_DIR = join(PACKAGE_ROOT, 'node_modules', '.cache', 'presso-bench');

/** How to start a script: `entry` is a repository path like 'gateway/server/main.ts'. */
export interface Runner {
  kind: 'compiled' | 'tsx';
  argv(entry: string): string[];
}

export const TSX_RUNNER: Runner = {
  kind: 'tsx',
  argv: (entry) => ['--import', 'tsx', entry],
};

export function compiledRunner(): Runner {
  mkdirSync(BENCH_BUILD_DIR, { recursive: true });
  const config = join(BENCH_BUILD_DIR, 'tsconfig.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(PACKAGE_ROOT, 'tsconfig.json'),
      compilerOptions: {
        noEmit: false,
        incremental: true,
        tsBuildInfoFile: join(BENCH_BUILD_DIR, 'build.tsbuildinfo'),
        rootDir: PACKAGE_ROOT,
        outDir: BENCH_BUILD_DIR,
      },
      include: [
        join(PACKAGE_ROOT, 'gateway'),
        join(PACKAGE_ROOT, 'bench/baseline-process.ts'),
        // Profiling the virtual-time run with line numbers uses it compiled.
        join(PACKAGE_ROOT, 'bench/lib/virtual.ts'),
      ],
      exclude: [join(PACKAGE_ROOT, '**/*.test.ts'), join(PACKAGE_ROOT, 'gateway/**/test-support/**')],
    }),
  );
  const r = spawnSync(
    process.execPath,
    [join(PACKAGE_ROOT, 'node_modules/typescript/bin/tsc'), '-p', config],
    {
      cwd: PACKAGE_ROOT,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`compiling for the bench failed:\n${r.stdout}${r.stderr}`);
  return {
    kind: 'compiled',
    argv: (entry) => [join(BENCH_BUILD_DIR, entry.replace(/\.ts$/, '.js'))],
  };
}
