/**
 * `npm run campaign`: bounded fault campaigns that print counts, not anecdotes.
 *
 *   npm run campaign                       the full form (about 35 minutes on a loaded 2-core machine)
 *   npm run campaign -- --quick            the short form the test suite runs (about 2 minutes)
 *   npm run campaign -- --only kills,fuzz  some of them (kills, corrupt, fuzz, soak, hostile)
 *   npm run campaign -- --json FILE        also writes the counts as JSON (after each campaign)
 *   npm run campaign -- --kills 30         overrides a count (--kills, --corrupt, --fuzz, --soak-min,
 *                                          --flood, --sockets)
 *
 * Full form: 200 SIGKILLs of the controller or the web process during running sessions; 200
 * starts on a truncated or corrupted database file; 10,000 fuzzed API requests across every
 * route and role; a one-hour accelerated soak of 8 stations; the hostile-LAN attacks replayed
 * (10,000 long-URL requests, cross-site commands, PIN and token guessing, resume rights, 500
 * Socket.IO clients from one address; lib/campaign-hostile.ts). Each campaign stops by itself; the
 * exit code is 1 when any verdict failed. docs/benchmarks.md records a full run.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { corruptCampaign } from './lib/campaign-corrupt.js';
import { fuzzCampaign } from './lib/campaign-fuzz.js';
import { hostileCampaign } from './lib/campaign-hostile.js';
import { killCampaign } from './lib/campaign-kills.js';
import { soakCampaign } from './lib/campaign-soak.js';
import { compiledRunner } from './lib/compile.js';

export const FULL = {
  kills: 200,
  corrupt: 200,
  fuzz: 10_000,
  soakMin: 60,
  soakStations: 8,
  flood: 10_000,
  sockets: 500,
};
export const QUICK = {
  kills: 5,
  corrupt: 10,
  fuzz: 300,
  soakMin: 10,
  soakStations: 4,
  flood: 1000,
  sockets: 60,
};
const NAMES = ['kills', 'corrupt', 'fuzz', 'soak', 'hostile'] as const;

const log = (m: string) => console.error(`[campaign] ${m}`);

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const n = { ...(argv.includes('--quick') ? QUICK : FULL) };
  const count = (flag: string) => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? Number(argv[i + 1]) : Number.NaN;
    return Number.isInteger(v) && v > 0 ? v : undefined;
  };
  n.kills = count('--kills') ?? n.kills;
  n.corrupt = count('--corrupt') ?? n.corrupt;
  n.fuzz = count('--fuzz') ?? n.fuzz;
  n.soakMin = count('--soak-min') ?? n.soakMin;
  n.flood = count('--flood') ?? n.flood;
  n.sockets = count('--sockets') ?? n.sockets;
  const onlyArg = argv[argv.indexOf('--only') + 1];
  const only = argv.includes('--only') && onlyArg ? onlyArg.split(',') : [...NAMES];
  const jsonAt = argv.indexOf('--json');
  const json = jsonAt >= 0 ? argv[jsonAt + 1] : undefined;
  log(
    `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, node ${process.version}, load ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const results: Record<string, { failures: string[] } & Record<string, unknown>> = {};
  const needsProcesses = only.includes('kills') || only.includes('corrupt') || only.includes('hostile');
  const runner = needsProcesses ? compiledRunner() : undefined;
  const machine = {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    node: process.version,
    loadAverageAtStart: os.loadavg(),
  };
  // Each campaign's counts are printed and written as soon as it ends: a later one that fails
  // (or a run stopped by hand) does not take the earlier counts with it.
  const done = (name: string, r: { failures: string[] } & Record<string, unknown>) => {
    results[name] = r;
    const { failures, ...counts } = r;
    console.log(`\n  ${name}: ${failures.length === 0 ? 'PASS' : `FAIL (${failures.length})`}`);
    for (const [k, v] of Object.entries(counts)) {
      const shown =
        typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : JSON.stringify(v);
      console.log(`    ${k.padEnd(24)} ${shown}`);
    }
    for (const f of failures.slice(0, 20)) console.log(`    ! ${f}`);
    if (json) {
      writeFileSync(
        json,
        `${JSON.stringify({ machine: { ...machine, loadAverageNow: os.loadavg() }, ...results }, null, 2)}\n`,
      );
    }
  };
  console.log('\nPresso Gateway fault campaigns');
  if (only.includes('kills') && runner) done('kills', { ...(await killCampaign(n.kills, runner, log)) });
  if (only.includes('corrupt') && runner)
    done('corrupt', { ...(await corruptCampaign(n.corrupt, runner, log)) });
  if (only.includes('fuzz')) done('fuzz', { ...(await fuzzCampaign(n.fuzz, log)) });
  if (only.includes('soak')) done('soak', { ...(await soakCampaign(n.soakMin, n.soakStations, log)) });
  if (only.includes('hostile') && runner)
    done('hostile', { ...(await hostileCampaign({ flood: n.flood, sockets: n.sockets }, runner, log)) });
  process.exitCode = Object.values(results).some((r) => r.failures.length > 0) ? 1 : 0;
}

void main().catch((e: unknown) => {
  console.error(`[campaign] failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
