#!/usr/bin/env node
// Runs every *.test.ts under gateway/, scripts/, systemd/, test/, dashboard/ and bench/ with Node's own test runner (tsx loads
// TypeScript). Node 20's --test takes no globs, so the files are listed here.
// Usage: node scripts/run-tests.mjs [substring filter ...]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const files = ['gateway', 'scripts', 'systemd', 'test', 'dashboard', 'bench']
  .flatMap((d) => {
    try {
      return walk(join(root, d), []);
    } catch {
      return [];
    }
  })
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}

// Files that start real processes on the wall clock (the controller, the web server, Modbus
// peers) run one at a time after the rest: on a 2-core machine two of them side by side can
// starve a controller's tick long enough to trip its loop-stall rule, which is right for a
// controller and wrong for a test.
const REAL_TIME = [
  'gateway/server/',
  'control-loop/process.test',
  'control-loop/late-tick.test',
  'drivers/modbus.test',
  'drivers/gpio.test',
  'safe-state/safe-state.test',
  'test/pm2.test',
  'test/nspawn/',
  'dashboard/e2e/',
  'bench/',
];
const realTime = files.filter((f) => REAL_TIME.some((x) => f.includes(x)));
const virtual = files.filter((f) => !realTime.includes(f));

/** Runs one group, streaming its output, and returns the counts from its closing lines. */
function runGroup(group, concurrency) {
  return new Promise((resolvePromise) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=600000', ...group],
      { cwd: root, stdio: ['inherit', 'pipe', 'inherit'] },
    );
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    });
    child.on('close', (code) => {
      const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tail)?.[1] ?? 0);
      resolvePromise({
        code: code ?? 1,
        pass: count('pass'),
        fail: count('fail'),
        skipped: count('skipped'),
      });
    });
  });
}

let status = 0;
const total = { pass: 0, fail: 0, skipped: 0 };
for (const [group, concurrency] of [
  [virtual, 2],
  [realTime, 1],
]) {
  if (group.length === 0) continue;
  const r = await runGroup(group, concurrency);
  if (r.code !== 0) status = r.code;
  total.pass += r.pass;
  total.fail += r.fail;
  total.skipped += r.skipped;
}
// One closing line for both groups.
console.log(`\n${total.pass} passed, ${total.fail} failed, ${total.skipped} skipped`);
process.exit(status);
