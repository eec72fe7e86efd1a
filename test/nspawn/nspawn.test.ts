/**
 * presso-gateway.service under a real systemd 252 (PID 1 in systemd-nspawn), on the simulator board:
 * test/nspawn/boot-unit.sh builds the container and test/nspawn/driver.sh drives the unit inside it.
 * What only a real systemd shows: Type=notify readiness from the watchdog app, the watchdog
 * aborting a unit whose controller is frozen (pm2 sees nothing wrong), ExecStopPost= running after
 * every process of the unit is gone, the restart, and a clean stop with the controller stopped first.
 *
 * Needs root and systemd-nspawn (package systemd-container, in scripts/install-test-deps.sh); skipped
 * with the reason otherwise, or when this machine cannot boot a container at all.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../support/ensure-built.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (systemd-nspawn)';
  if (spawnSync('systemd-nspawn', ['--version']).error) {
    return 'systemd-nspawn is not installed (apt-get install systemd-container)';
  }
  return false;
}

/** The lines of `text` from the first one matching `from`, for order checks. */
function indexOf(lines: string[], re: RegExp, after = -1): number {
  return lines.findIndex((l, i) => i > after && re.test(l));
}

describe('presso-gateway.service under systemd in systemd-nspawn', () => {
  it(
    'starts on READY, is restarted by the watchdog, runs the safe state last, stops cleanly',
    { skip: skipReason() },
    (t) => {
      ensureBuilt();
      const out = mkdtempSync(join(tmpdir(), 'presso-nspawn-out-'));
      t.after(() => rmSync(out, { recursive: true, force: true }));
      const run = spawnSync('sh', [join(REPO_ROOT, 'test/nspawn/boot-unit.sh'), out], {
        encoding: 'utf8',
        timeout: 280_000,
      });
      const report = existsSync(join(out, 'report.txt')) ? readFileSync(join(out, 'report.txt'), 'utf8') : '';
      const consoleLog = existsSync(join(out, 'console.txt'))
        ? readFileSync(join(out, 'console.txt'), 'utf8')
        : '';
      if (report.trim() === '' && !consoleLog.includes('Welcome to')) {
        t.skip(`this machine cannot boot a container: ${consoleLog.split('\n').slice(0, 5).join(' | ')}`);
        return;
      }
      const where = `\n--- report ---\n${report}\n--- boot-unit.sh ---\n${run.stdout}${run.stderr}`;
      assert.match(report, /^start: exit 0 after (\d+) ms; state: success 0 active running/m, where);
      assert.match(report, /^health: \{"status":"ok","controller":"connected"/m, where);
      assert.match(report, /^status line: controller ticking every 10 ms, web connected/m, where);
      assert.match(report, /^restarted by the watchdog after \d+ ms; state: \S+ 1 /m, where);
      assert.match(report, /^after restart: \S+ 1 active running/m, where);
      const stopMs = Number(/^stop: (\d+) ms; state: success 0 inactive dead/m.exec(report)?.[1]);
      assert.ok(stopMs > 0 && stopMs < 20_000, `stop took ${stopMs} ms${where}`);
      t.diagnostic(`start ${/^start: exit 0 after (\d+) ms/m.exec(report)?.[1]} ms, stop ${stopMs} ms`);

      const journal = report.slice(report.indexOf('--- journal ---')).split('\n');
      // The watchdog abort: every process of the unit is killed, then the safe-state program runs.
      const timeout = indexOf(journal, /Watchdog timeout \(limit 6s\)!/);
      const mainGone = indexOf(journal, /Main process exited, code=killed, status=6\/ABRT/, timeout);
      const safeAfterAbort = indexOf(
        journal,
        /^\[safe-state\] board "simulator" is simulated: nothing physical to drive$/,
        mainGone,
      );
      assert.ok(
        timeout >= 0 && mainGone > timeout && safeAfterAbort > mainGone,
        `watchdog path out of order${where}`,
      );
      assert.ok(!report.includes('Processes still around after final SIGKILL'), where);
      // The clean stop: ExecStop= stops the controller first, it vents, then the rest, then the safe state.
      const stopping = indexOf(journal, /Stopping presso-gateway\.service/);
      const ctl = indexOf(journal, /Stopping app:controller/, stopping);
      const vent = indexOf(journal, /\[controller\] SIGINT: venting every station/, ctl);
      const web = indexOf(journal, /Stopping app:web/, vent);
      const safe = indexOf(journal, /^\[safe-state\] board "simulator" is simulated/, web);
      assert.ok(
        stopping >= 0 && ctl > stopping && vent > ctl && web > vent && safe > web,
        `stop path out of order${where}`,
      );
    },
  );
});
