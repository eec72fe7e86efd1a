/**
 * scripts/install-pi.sh in a temporary root: --dry-run prints every step and changes nothing; a
 * real run with --root --skip-system lays out the files a Pi gets (program, settings, units,
 * log rotation, I2C and UART settings), a second run changes nothing that was set, and
 * --uninstall removes what it should. The host's /etc, /opt and /boot are never touched: the
 * script refuses a real run with --root unless --skip-system is given.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../test/support/ensure-built.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const SCRIPT = join(REPO_ROOT, 'scripts/install-pi.sh');
/** Releases are named <version>-<hash of the release's files>. */
const RELEASE = `${(
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
).version.replaceAll('.', '\\.')}-[0-9a-f]{8}`;

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A fake Pi: Bookworm's os-release, a Node 22 at /usr/bin/node, the firmware's cmdline.txt. */
function fakePi(os = 'ID=debian\nVERSION_CODENAME=bookworm\n', node = 'v22.12.0'): string {
  const root = mkdtempSync(join(tmpdir(), 'presso-install-'));
  roots.push(root);
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'boot/firmware'), { recursive: true });
  writeFileSync(join(root, 'etc/os-release'), os);
  writeFileSync(join(root, 'usr/bin/node'), `#!/bin/sh\necho ${node}\n`);
  chmodSync(join(root, 'usr/bin/node'), 0o755);
  writeFileSync(
    join(root, 'boot/firmware/cmdline.txt'),
    'console=serial0,115200 console=tty1 root=PARTUUID=1 rootwait\n',
  );
  return root;
}

function install(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync('bash', [SCRIPT, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Every file and directory under `dir`, relative, skipping the copied program's contents. */
function tree(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const rel = `${prefix}${name}`;
    out.push(rel);
    const full = join(dir, name);
    if (rel.startsWith('opt/presso-gateway/releases/')) continue;
    if (statSync(full, { throwIfNoEntry: false })?.isDirectory() && !readlinkOk(full))
      out.push(...tree(full, `${rel}/`));
  }
  return out;
}
function readlinkOk(p: string): boolean {
  try {
    readlinkSync(p);
    return true;
  } catch {
    return false;
  }
}

describe('install-pi.sh', () => {
  // The installer copies the compiled program: build it when a fresh clone has none.
  before(() => ensureBuilt());

  it('--dry-run --root prints every step, in order, and changes nothing', () => {
    const root = fakePi();
    const before = tree(root);
    const r = install('--dry-run', '--root', root, '--profile', 'pi-hat');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(tree(root), before, 'a dry run leaves the root as it was');
    const steps = r.out.split('\n').filter((l) => l.startsWith('+ '));
    const expect = [
      /^\+ apt-get install -y --no-install-recommends build-essential python3 i2c-tools logrotate$/,
      new RegExp(`^\\+ append_line ${root}/boot/firmware/config.txt dtparam=i2c_arm=on$`),
      new RegExp(`^\\+ append_line ${root}/etc/modules-load.d/i2c-dev.conf i2c-dev$`),
      new RegExp(`^\\+ groupadd --system --root=${root} gpio$`),
      new RegExp(`^\\+ groupadd --system --root=${root} i2c$`),
      new RegExp(`^\\+ groupadd --system --root=${root} dialout$`),
      new RegExp(`^\\+ useradd --root=${root} --system .*--groups gpio,i2c,dialout presso$`),
      new RegExp(`^\\+ cp -R ${REPO_ROOT}/dist ${root}/opt/presso-gateway/releases/${RELEASE}/dist$`),
      new RegExp(`^\\+ npm ci --omit=dev .*--prefix ${root}/opt/presso-gateway/releases/${RELEASE}$`),
      new RegExp(`^\\+ ln -sfn releases/${RELEASE} ${root}/opt/presso-gateway/current$`),
      new RegExp(
        `^\\+ install -m 0640 ${REPO_ROOT}/config/pi-hat.json ${root}/etc/presso-gateway/board.json$`,
      ),
      new RegExp(`^\\+ write_settings ${root}/etc/presso-gateway/gateway.env$`),
      new RegExp(`^\\+ chown presso:presso ${root}/var/lib/presso-gateway ${root}/var/log/presso-gateway$`),
      new RegExp(
        `^\\+ install -m 0644 ${REPO_ROOT}/systemd/presso-gateway.service ${root}/etc/systemd/system/presso-gateway.service$`,
      ),
      new RegExp(
        `^\\+ install -m 0644 ${REPO_ROOT}/systemd/presso-gateway.logrotate ${root}/etc/logrotate.d/presso-gateway$`,
      ),
      new RegExp(`^\\+ systemctl --root=${root} enable presso-gateway.service$`),
    ];
    let at = 0;
    for (const re of expect) {
      const i = steps.findIndex((s, j) => j >= at && re.test(s));
      assert.ok(i >= 0, `step ${re} missing or out of order in:\n${steps.join('\n')}`);
      at = i + 1;
    }
    assert.match(r.out, /Dashboard: http:\/\/\S+:8080\//);
    // pi-hat has no Modbus RTU: the UART is left alone.
    assert.ok(!r.out.includes('enable_uart'), r.out);
  });

  it('refuses what it cannot do: wrong OS, old Node, a real run under --root, an unknown profile', () => {
    const bullseye = fakePi('ID=debian\nVERSION_CODENAME=bullseye\n');
    let r = install('--dry-run', '--root', bullseye);
    assert.equal(r.code, 1);
    assert.match(r.err, /VERSION_CODENAME=bullseye: this script is for Raspberry Pi OS Bookworm/);
    const node20 = fakePi(undefined, 'v20.19.0');
    r = install('--dry-run', '--root', node20);
    assert.equal(r.code, 1);
    assert.match(r.err, /is v20\.19\.0; Presso Gateway on the Pi needs Node\.js 22 LTS or newer/);
    r = install('--root', fakePi());
    assert.equal(r.code, 1);
    assert.match(r.err, /--root is for testing: add --dry-run or --skip-system/);
    r = install('--dry-run', '--root', fakePi(), '--profile', 'nope');
    assert.equal(r.code, 1);
    assert.match(r.err, /--profile nope: no .*config\/nope\.json \(profiles: .*\bpi-hat\b.*\)$/m);
  });

  it('--root --skip-system lays out the files, is idempotent, and --uninstall removes the program', () => {
    const root = fakePi();
    // A site whose board talks Modbus RTU over the UART: the serial console must go.
    mkdirSync(join(root, 'etc/presso-gateway'), { recursive: true });
    const rtuBoard = readFileSync(join(REPO_ROOT, 'config/modbus.json'), 'utf8').replaceAll(
      '"modbus-tcp"',
      '"modbus-rtu"',
    );
    writeFileSync(join(root, 'etc/presso-gateway/board.json'), rtuBoard);

    const first = install('--root', root, '--skip-system');
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /skip \(--skip-system\): useradd /);
    assert.match(first.out, /keeping \/etc\/presso-gateway\/board\.json/);
    const link = readlinkSync(join(root, 'opt/presso-gateway/current'));
    assert.match(link, new RegExp(`^releases/${RELEASE}$`));
    const release = join(root, 'opt/presso-gateway', link);
    assert.ok(existsSync(join(release, '.complete')), 'a complete copy is marked as such');
    for (const f of [
      'ecosystem.config.js',
      'dist/gateway/safe-state/main.js',
      'scripts/safe-state.mjs',
      'scripts/stop-controller.sh',
      'config/pi-hat.json',
    ]) {
      assert.ok(existsSync(join(release, f)), `${f} installed`);
    }
    const unit = readFileSync(join(root, 'etc/systemd/system/presso-gateway.service'), 'utf8');
    assert.equal(unit, readFileSync(join(REPO_ROOT, 'systemd/presso-gateway.service'), 'utf8'));
    // Enabled: the link points at the unit's path on the Pi (it dangles in the test root).
    assert.equal(
      readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/presso-gateway.service')),
      '/etc/systemd/system/presso-gateway.service',
    );
    assert.ok(existsSync(join(root, 'etc/logrotate.d/presso-gateway')));
    assert.equal(
      readFileSync(join(root, 'etc/presso-gateway/board.json'), 'utf8'),
      rtuBoard,
      'the site board is kept',
    );
    const env = readFileSync(join(root, 'etc/presso-gateway/gateway.env'), 'utf8');
    assert.match(env, /^PORT=8080$/m);
    assert.match(env, /^PRESSO_ADMIN_TOKEN=[0-9a-f]{48}$/m);
    assert.ok(!first.out.includes(env.match(/TOKEN=(\w+)/)?.[1] ?? '-'), 'the token is never printed');
    assert.equal(statSync(join(root, 'etc/presso-gateway/gateway.env')).mode & 0o777, 0o640);
    const config = () => readFileSync(join(root, 'boot/firmware/config.txt'), 'utf8');
    assert.equal(config(), 'dtparam=i2c_arm=on\nenable_uart=1\n');
    assert.equal(readFileSync(join(root, 'etc/modules-load.d/i2c-dev.conf'), 'utf8'), 'i2c-dev\n');
    const cmdline = () => readFileSync(join(root, 'boot/firmware/cmdline.txt'), 'utf8');
    assert.equal(cmdline(), 'console=tty1 root=PARTUUID=1 rootwait\n', 'serial console removed');
    assert.ok(
      existsSync(join(root, 'var/lib/presso-gateway')) && existsSync(join(root, 'var/log/presso-gateway')),
    );

    const second = install('--root', root, '--skip-system');
    assert.equal(second.code, 0, second.err);
    assert.equal(config(), 'dtparam=i2c_arm=on\nenable_uart=1\n', 'no line added twice');
    assert.equal(cmdline(), 'console=tty1 root=PARTUUID=1 rootwait\n');
    assert.equal(readFileSync(join(root, 'etc/presso-gateway/gateway.env'), 'utf8'), env, 'settings kept');
    assert.match(second.out, /keeping \/etc\/presso-gateway\/gateway\.env/);
    assert.match(second.out, /release \S+ is installed already/);
    assert.ok(!second.out.includes('+ cp '), 'nothing copied again');

    // The rollback path: the installer of an installed release puts that release back in place.
    const again = spawnSync(
      'bash',
      [join(release, 'scripts/install-pi.sh'), '--root', root, '--skip-system'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /installing release \S+ in place/);
    assert.equal(readlinkSync(join(root, 'opt/presso-gateway/current')), link);
    assert.ok(existsSync(join(release, 'dist/gateway/safe-state/main.js')), 'the release was not removed');

    const gone = install('--uninstall', '--root', root, '--skip-system');
    assert.equal(gone.code, 0, gone.err);
    assert.ok(!existsSync(join(root, 'opt/presso-gateway')));
    assert.ok(!existsSync(join(root, 'etc/systemd/system/presso-gateway.service')));
    assert.ok(
      !readdirSync(join(root, 'etc/systemd/system')).includes('multi-user.target.wants') ||
        !readdirSync(join(root, 'etc/systemd/system/multi-user.target.wants')).includes(
          'presso-gateway.service',
        ),
    );
    assert.ok(!existsSync(join(root, 'etc/logrotate.d/presso-gateway')));
    assert.ok(existsSync(join(root, 'etc/presso-gateway/gateway.env')), 'settings kept without --purge');
    const purged = install('--uninstall', '--purge', '--root', root, '--skip-system');
    assert.equal(purged.code, 0, purged.err);
    assert.ok(
      !existsSync(join(root, 'etc/presso-gateway')) && !existsSync(join(root, 'var/lib/presso-gateway')),
    );
  });
});
