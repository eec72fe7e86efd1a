/**
 * package.json's `engines` is what the code and every installed dependency really need: the lowest
 * version of each Node line it accepts satisfies the `engines` of every package in the lockfile, so
 * `npm ci` on a supported Node prints no EBADENGINE warning (the overrides in package.json pin the
 * CommonJS builds of cookie and content-disposition, whose ESM-only majors declare Node >= 22).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { it } from 'node:test';

const require = createRequire(import.meta.url);
const semver = require('semver') as {
  satisfies(v: string, range: string, o?: { includePrerelease: boolean }): boolean;
  minVersion(range: string): { version: string } | null;
};
const read = (f: string): unknown => JSON.parse(readFileSync(new URL(`../${f}`, import.meta.url), 'utf8'));

it('the lowest Node of every supported line satisfies every locked package, and the one running the tests is supported', () => {
  const range = (read('package.json') as { engines: { node: string } }).engines.node;
  const lows = range.split('||').map((part) => semver.minVersion(part.trim())?.version ?? part);
  assert.deepEqual(lows, ['20.19.0', '22.13.0'], `engines.node is ${range}`);
  const lock = read('package-lock.json') as { packages: Record<string, { engines?: { node?: string } }> };
  const bad: string[] = [];
  for (const [where, pkg] of Object.entries(lock.packages)) {
    const want = pkg.engines?.node;
    if (!where || want === undefined) continue;
    for (const v of lows)
      if (!semver.satisfies(v, want)) bad.push(`${where} wants node ${want}; ${v} is not`);
  }
  assert.deepEqual(bad, [], 'npm ci would print EBADENGINE for these');
  assert.ok(
    semver.satisfies(process.versions.node, range),
    `Node ${process.versions.node} is outside ${range}`,
  );
});
