/**
 * The package root, found by walking up from this module to the first package.json, so paths
 * are the same whether the code runs from gateway/*.ts (tests) or dist/gateway/*.js (production).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${start}`);
    dir = up;
  }
  return dir;
}

export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** Where the controller listens and its clients connect, from the environment. */
export function controllerSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.PRESSO_CONTROLLER_SOCKET || join(env.PRESSO_DATA_DIR || './data', 'controller.sock'));
}
