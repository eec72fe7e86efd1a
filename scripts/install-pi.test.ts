/**
 * scripts/install-pi.sh in a temporary root, for Raspberry Pi OS Bookworm and Trixie: --dry-run
 * prints every step and changes nothing; a real run with --root --skip-system lays out the files a
 * Pi gets (program with its dashboard, settings, HTTPS certificate from the local CA, units, log
 * rotation, persistent journal, avahi, the config.txt block with I2C speed, boot pin states and
 * UART), a second run changes nothing that was set, and --uninstall removes what it should; an
 * update that does not report healthy is rolled back; what it cannot install it refuses with the
 * reason. The host's /etc, /opt and /boot are never touched: the script refuses a real run with
 * --root unless --skip-system is given. The real install under systemd in a Debian 13 container
 * is test/trixie (run by .ci/run).
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
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
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureBuilt, ensureDashboardBuilt } from '../test/support/ensure-built.js';

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

const OS = {
  bookworm: 'ID=debian\nVERSION_CODENAME=bookworm\n',
  trixie: 'ID=debian\nVERSION_CODENAME=trixie\n',
} as const;

/**
 * A fake Pi: the OS's os-release, a Node at /usr/bin/node that answers --version and
 * `-p process.arch` as a 64-bit Node 22 does (or as told), the firmware's config.txt and cmdline.txt.
 */
function fakePi(os: string = OS.bookworm, node = 'v22.14.0', arch = 'arm64'): string {
  const root = mkdtempSync(join(tmpdir(), 'presso-install-'));
  roots.push(root);
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'boot/firmware'), { recursive: true });
  writeFileSync(join(root, 'etc/os-release'), os);
  writeFileSync(join(root, 'etc/hostname'), 'raspberrypi\n');
  writeFileSync(join(root, 'usr/bin/node'), `#!/bin/sh\n[ "$1" = -p ] && echo ${arch} || echo ${node}\n`);
  chmodSync(join(root, 'usr/bin/node'), 0o755);
  // What Raspberry Pi Imager leaves: the site's own lines must survive every run.
  writeFileSync(join(root, 'boot/firmware/config.txt'), 'dtparam=audio=on\n[cm4]\notg_mode=1\n');
  writeFileSync(
    join(root, 'boot/firmware/cmdline.txt'),
    'console=serial0,115200 console=tty1 root=PARTUUID=1 rootwait\n',
  );
  return root;
}

/** A copy of the checkout's release items, to install a second, different release from. */
function copyCheckout(opts: { dashboard: boolean }): string {
  const dir = mkdtempSync(join(tmpdir(), 'presso-checkout-'));
  roots.push(dir);
  for (const item of [
    'package.json',
    'package-lock.json',
    'ecosystem.config.js',
    'dist',
    'config',
    'scripts',
    'systemd',
    'docs',
    'README.md',
    ...(opts.dashboard ? ['dashboard/dist'] : []),
  ]) {
    cpSync(join(REPO_ROOT, item), join(dir, item), { recursive: true });
  }
  return dir;
}

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function install(...args: string[]): Run {
  return installFrom(SCRIPT, ...args);
}

function installFrom(script: string, ...args: string[]): Run {
  const r = spawnSync('bash', [script, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The same, without blocking this process's event loop (a health server of the test answers meanwhile). */
function installAsync(script: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('bash', [script, ...args], { encoding: 'utf8', timeout: 60_000 }, (e, out, err) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err }),
    );
  });
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

/** The config.txt block for a board on Pi GPIO (pi-hat: heartbeat on BCM4, e-stop on BCM17) with I2C chips. */
const PI_HAT_BLOCK = [
  '# BEGIN presso-gateway: written by scripts/install-pi.sh from the board profile; edits here are replaced',
  '[all]',
  'dtparam=i2c_arm=on',
  'dtparam=i2c_arm_baudrate=400000',
  'gpio=4=op,dl',
  'gpio=17=ip,pu',
  '# END presso-gateway',
].join('\n');

describe('install-pi.sh', () => {
  // The installer copies the compiled program and the built dashboard: build them when a fresh
  // clone has none.
  before(() => {
    ensureBuilt();
    ensureDashboardBuilt();
  });

  for (const codename of ['bookworm', 'trixie'] as const) {
    it(`${codename}: --dry-run --root prints every step, in order, and changes nothing`, () => {
      const root = fakePi(OS[codename]);
      const before = tree(root);
      const r = install('--dry-run', '--root', root, '--profile', 'pi-hat');
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(tree(root), before, 'a dry run leaves the root as it was');
      assert.match(r.out, new RegExp(`^install-pi: OS: debian ${codename}$`, 'm'));
      assert.match(r.out, /^install-pi: Node: v22\.14\.0 \(arm64\)$/m);
      const steps = r.out.split('\n').filter((l) => l.startsWith('+ '));
      const expect = [
        // The fake root has no packages: all are missing, so the lists are refreshed first.
        /^\+ apt-get update$/,
        /^\+ apt-get install -y --no-install-recommends build-essential python3 logrotate avahi-daemon openssl curl i2c-tools$/,
        new RegExp(
          `^\\+ write_block ${root}/boot/firmware/config.txt \\[all\\] dtparam=i2c_arm=on dtparam=i2c_arm_baudrate=400000 gpio=4=op,dl gpio=17=ip,pu$`,
        ),
        new RegExp(`^\\+ append_line ${root}/etc/modules-load.d/i2c-dev.conf i2c-dev$`),
        new RegExp(`^\\+ append_line ${root}/etc/modules-load.d/presso-gateway.conf usbserial$`),
        new RegExp(`^\\+ append_line ${root}/etc/modules-load.d/presso-gateway.conf cdc_acm$`),
        new RegExp(`^\\+ groupadd --system --root=${root} gpio$`),
        new RegExp(`^\\+ groupadd --system --root=${root} i2c$`),
        new RegExp(`^\\+ groupadd --system --root=${root} dialout$`),
        new RegExp(`^\\+ useradd --root=${root} --system .*--groups gpio,i2c,dialout presso$`),
        /^\+ hostnamectl set-hostname presso$/,
        new RegExp(
          `^\\+ install -m 0644 ${REPO_ROOT}/systemd/presso-gateway.avahi ${root}/etc/avahi/services/presso-gateway.service$`,
        ),
        new RegExp(`^\\+ cp -R ${REPO_ROOT}/dist ${root}/opt/presso-gateway/releases/${RELEASE}/dist$`),
        new RegExp(
          `^\\+ cp -R ${REPO_ROOT}/dashboard/dist ${root}/opt/presso-gateway/releases/${RELEASE}/dashboard/dist$`,
        ),
        new RegExp(`^\\+ npm ci --omit=dev .*--prefix ${root}/opt/presso-gateway/releases/${RELEASE}$`),
        // pi-hat drives GPIO (onoff) and I2C chips (i2c-bus): both must load before the link moves.
        new RegExp(`^\\+ load_native ${root}/opt/presso-gateway/releases/${RELEASE} onoff$`),
        new RegExp(`^\\+ load_native ${root}/opt/presso-gateway/releases/${RELEASE} i2c-bus$`),
        new RegExp(`^\\+ ln -sfn releases/${RELEASE} ${root}/opt/presso-gateway/current$`),
        new RegExp(
          `^\\+ install -m 0640 ${REPO_ROOT}/config/pi-hat.json ${root}/etc/presso-gateway/board.json$`,
        ),
        new RegExp(`^\\+ write_settings ${root}/etc/presso-gateway/gateway.env$`),
        new RegExp(`^\\+ bash ${REPO_ROOT}/scripts/make-tls.sh ${root}/etc/presso-gateway/tls presso$`),
        new RegExp(`^\\+ chown presso:presso ${root}/var/lib/presso-gateway ${root}/var/log/presso-gateway$`),
        new RegExp(
          `^\\+ install -m 0644 ${REPO_ROOT}/systemd/presso-gateway.service ${root}/etc/systemd/system/presso-gateway.service$`,
        ),
        new RegExp(
          `^\\+ install -m 0644 ${REPO_ROOT}/systemd/presso-gateway.logrotate ${root}/etc/logrotate.d/presso-gateway$`,
        ),
        new RegExp(
          `^\\+ install -m 0644 ${REPO_ROOT}/systemd/journald-presso-gateway.conf ${root}/etc/systemd/journald.conf.d/90-presso-gateway.conf$`,
        ),
        new RegExp(`^\\+ systemctl --root=${root} enable presso-gateway.service$`),
      ];
      let at = 0;
      for (const re of expect) {
        const i = steps.findIndex((s, j) => j >= at && re.test(s));
        assert.ok(i >= 0, `step ${re} missing or out of order in:\n${steps.join('\n')}`);
        at = i + 1;
      }
      assert.match(r.out, /Dashboard: https:\/\/presso\.local:8443\//);
      // pi-hat has no Modbus RTU: the UART is left alone.
      assert.ok(!r.out.includes('enable_uart'), r.out);
    });
  }

  it('refuses what it cannot do, and says why', () => {
    const refusals: [string[], RegExp][] = [
      [
        ['--root', fakePi('ID=debian\nVERSION_CODENAME=bullseye\n')],
        /VERSION_CODENAME=bullseye: this script is for 64-bit Raspberry Pi OS Bookworm \(12\) or Trixie \(13\)/,
      ],
      [
        ['--root', fakePi('ID=ubuntu\nVERSION_CODENAME=noble\n')],
        /says ID=ubuntu: Presso Gateway is installed on Raspberry Pi OS/,
      ],
      [
        ['--root', fakePi(OS.trixie, 'v22.12.0')],
        /is v22\.12\.0; Presso Gateway on the Pi needs Node\.js 22\.13\.0 \(22 LTS\) or newer/,
      ],
      [
        ['--root', fakePi(OS.bookworm, 'v20.19.0')],
        /is v20\.19\.0; Presso Gateway on the Pi needs Node\.js 22\.13\.0/,
      ],
      [
        ['--root', fakePi(OS.bookworm, 'v22.14.0', 'arm')],
        /is a 32-bit build \(arm\): install the 64-bit Raspberry Pi OS .* and Node\.js 22 for arm64/,
      ],
      [
        ['--root', fakePi(), '--profile', 'nope'],
        /--profile nope: no .*config\/nope\.json \(profiles: .*\bpi-hat\b.*\)$/m,
      ],
      [
        ['--root', fakePi(), '--name', 'Presso_1'],
        /--name Presso_1: use lower-case letters, digits and dashes/,
      ],
    ];
    for (const [args, why] of refusals) {
      const r = install('--dry-run', ...args);
      assert.equal(r.code, 1, `${args.join(' ')}:\n${r.out}`);
      assert.match(r.err, why);
    }
    // Node 20 is end of life: only for a test machine, and only when asked.
    const eol = install('--dry-run', '--root', fakePi(OS.trixie, 'v20.19.2'), '--accept-eol-node');
    assert.equal(eol.code, 0, eol.err);
    assert.match(eol.out, /Node v20\.19\.2 is end of life .*accepted by --accept-eol-node/);
    const old = install('--dry-run', '--root', fakePi(OS.trixie, 'v18.20.0'), '--accept-eol-node');
    assert.equal(old.code, 1);
    assert.match(old.err, /is v18\.20\.0; Presso Gateway on the Pi needs Node\.js 22\.13\.0/);
    const real = install('--root', fakePi());
    assert.equal(real.code, 1);
    assert.match(real.err, /--root is for testing: add --dry-run or --skip-system/);
    // A checkout built without the dashboard would give the tablet a "not built" page.
    const noDashboard = copyCheckout({ dashboard: false });
    const r = installFrom(join(noDashboard, 'scripts/install-pi.sh'), '--root', fakePi(), '--skip-system');
    assert.equal(r.code, 1);
    assert.match(r.err, /dashboard\/dist\/index\.html is missing: .*run npm ci && npm run build/);
  });

  it('--check-native proves the native modules the board needs load, and names the fix when not', () => {
    let r = install('--check-native', REPO_ROOT, '--profile', 'pi-direct');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /native module onoff loads\n.*native module i2c-bus loads/);
    const empty = mkdtempSync(join(tmpdir(), 'presso-release-'));
    roots.push(empty);
    mkdirSync(join(empty, 'node_modules'));
    r = install('--check-native', empty, '--profile', 'pi-hat');
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /onoff \(a native module the board needs\) does not load in .*\n {2}Error: Cannot find module 'onoff'/,
    );
    assert.match(r.err, /fix: apt-get install build-essential python3 && \(cd \S+ && npm ci --omit=dev/);
  });

  for (const codename of ['bookworm', 'trixie'] as const) {
    it(`${codename}: --root --skip-system lays out the files, is idempotent, and --uninstall removes the program`, () => {
      const root = fakePi(OS[codename]);
      const first = install('--root', root, '--skip-system', '--profile', 'pi-hat', '--name', 'lounge');
      assert.equal(first.code, 0, first.err);
      assert.match(first.out, /skip \(--skip-system\): useradd /);
      assert.match(first.out, /skip \(--skip-system\): hostnamectl set-hostname lounge/);
      const link = readlinkSync(join(root, 'opt/presso-gateway/current'));
      assert.match(link, new RegExp(`^releases/${RELEASE}$`));
      const release = join(root, 'opt/presso-gateway', link);
      assert.ok(existsSync(join(release, '.complete')), 'a complete copy is marked as such');
      for (const f of [
        'ecosystem.config.js',
        'dist/gateway/safe-state/main.js',
        'dashboard/dist/index.html',
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
      assert.match(
        readFileSync(join(root, 'etc/systemd/journald.conf.d/90-presso-gateway.conf'), 'utf8'),
        /^Storage=persistent$[\s\S]*^SystemMaxUse=64M$/m,
      );
      assert.match(
        readFileSync(join(root, 'etc/avahi/services/presso-gateway.service'), 'utf8'),
        /<type>_https\._tcp<\/type>\s*<port>8443<\/port>/,
      );
      const env = readFileSync(join(root, 'etc/presso-gateway/gateway.env'), 'utf8');
      assert.match(env, /^PORT=8443$/m);
      assert.match(env, /^PRESSO_HTTP_PORT=8080$/m);
      assert.match(env, /^PRESSO_HOSTNAME=lounge\.local$/m);
      assert.match(env, /^PRESSO_TLS_CERT=\/etc\/presso-gateway\/tls\/server\.crt$/m);
      assert.match(env, /^PRESSO_ADMIN_TOKEN=[0-9a-f]{48}$/m);
      assert.ok(!first.out.includes(env.match(/TOKEN=(\w+)/)?.[1] ?? '-'), 'the token is never printed');
      assert.equal(statSync(join(root, 'etc/presso-gateway/gateway.env')).mode & 0o777, 0o640);
      // The certificate is really signed by the local CA, for the gateway's name.
      const tls = join(root, 'etc/presso-gateway/tls');
      const verify = spawnSync(
        'openssl',
        ['verify', '-CAfile', join(tls, 'ca.crt'), join(tls, 'server.crt')],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(verify.status, 0, verify.stderr);
      const sans = spawnSync(
        'openssl',
        ['x509', '-in', join(tls, 'server.crt'), '-noout', '-ext', 'subjectAltName'],
        {
          encoding: 'utf8',
        },
      ).stdout;
      assert.match(sans, /DNS:lounge\.local, DNS:lounge, DNS:localhost, IP Address:127\.0\.0\.1/);
      assert.equal(statSync(join(tls, 'ca.key')).mode & 0o777, 0o600);
      assert.equal(statSync(join(tls, 'server.key')).mode & 0o777, 0o640);
      assert.match(
        first.out,
        /local CA fingerprint \(compare it on the tablet\): ([0-9A-F]{2}:){31}[0-9A-F]{2}$/m,
      );

      const config = () => readFileSync(join(root, 'boot/firmware/config.txt'), 'utf8');
      assert.equal(
        config(),
        `dtparam=audio=on\n[cm4]\notg_mode=1\n${PI_HAT_BLOCK}\n`,
        'the site lines kept, the block added',
      );
      assert.equal(readFileSync(join(root, 'etc/modules-load.d/i2c-dev.conf'), 'utf8'), 'i2c-dev\n');
      assert.equal(
        readFileSync(join(root, 'etc/modules-load.d/presso-gateway.conf'), 'utf8'),
        'usbserial\ncdc_acm\n',
      );
      const cmdline = () => readFileSync(join(root, 'boot/firmware/cmdline.txt'), 'utf8');
      assert.equal(
        cmdline(),
        'console=serial0,115200 console=tty1 root=PARTUUID=1 rootwait\n',
        'no UART: console kept',
      );

      const second = install('--root', root, '--skip-system');
      assert.equal(second.code, 0, second.err);
      assert.equal(config(), `dtparam=audio=on\n[cm4]\notg_mode=1\n${PI_HAT_BLOCK}\n`, 'no line added twice');
      assert.equal(readFileSync(join(root, 'etc/presso-gateway/gateway.env'), 'utf8'), env, 'settings kept');
      assert.match(second.out, /keeping \/etc\/presso-gateway\/gateway\.env/);
      assert.match(second.out, /make-tls: \S+server\.crt is current/);
      assert.match(
        second.out,
        /Dashboard: https:\/\/lounge\.local:8443\//,
        'the installed name and port are kept',
      );
      assert.match(second.out, /release \S+ is installed already/);
      assert.ok(!second.out.includes('+ cp '), 'nothing copied again');

      // The rollback path: the installer of an installed release puts that release back in place.
      const again = installFrom(join(release, 'scripts/install-pi.sh'), '--root', root, '--skip-system');
      assert.equal(again.code, 0, again.err);
      assert.match(again.out, /installing release \S+ in place/);
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
      assert.ok(!existsSync(join(root, 'etc/avahi/services/presso-gateway.service')));
      assert.ok(!existsSync(join(root, 'etc/systemd/journald.conf.d/90-presso-gateway.conf')));
      assert.ok(existsSync(join(root, 'etc/presso-gateway/gateway.env')), 'settings kept without --purge');
      const purged = install('--uninstall', '--purge', '--root', root, '--skip-system');
      assert.equal(purged.code, 0, purged.err);
      assert.ok(
        !existsSync(join(root, 'etc/presso-gateway')) && !existsSync(join(root, 'var/lib/presso-gateway')),
      );
    });
  }

  it('pi-direct: every pump and valve line is driven off from power-on, the e-stop input pulled up', () => {
    const root = fakePi(OS.trixie);
    const r = install('--root', root, '--skip-system', '--profile', 'pi-direct');
    assert.equal(r.code, 0, r.err);
    const block = readFileSync(join(root, 'boot/firmware/config.txt'), 'utf8').split('\n');
    const board = JSON.parse(readFileSync(join(REPO_ROOT, 'config/pi-direct.json'), 'utf8')) as {
      heartbeat: string;
      stations: { pump: { enable: string }; zones: { inlet: string; exhaust: string }[] }[];
    };
    const outputs = [
      board.heartbeat,
      ...board.stations.flatMap((s) => [s.pump.enable, ...s.zones.flatMap((z) => [z.inlet, z.exhaust])]),
    ].map((ref) => Number(ref.split(':')[1]));
    assert.equal(outputs.length, 10);
    for (const pin of outputs) assert.ok(block.includes(`gpio=${pin}=op,dl`), `BCM${pin} off from power-on`);
    assert.ok(block.includes('gpio=17=ip,pu'), 'the e-stop input is pulled up');
    assert.ok(block.includes('dtparam=i2c_arm_baudrate=400000'));
  });

  it('Modbus RTU on the header UART: the full UART per model, no serial console', () => {
    const root = fakePi(OS.trixie);
    mkdirSync(join(root, 'etc/presso-gateway'), { recursive: true });
    // A site whose board talks Modbus RTU over the header UART.
    const rtuBoard = readFileSync(join(REPO_ROOT, 'config/modbus.json'), 'utf8').replaceAll(
      '"modbus-tcp"',
      '"modbus-rtu", "path": "/dev/ttyAMA0"',
    );
    writeFileSync(join(root, 'etc/presso-gateway/board.json'), rtuBoard);
    const r = install('--root', root, '--skip-system');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /keeping \/etc\/presso-gateway\/board\.json/);
    assert.equal(
      readFileSync(join(root, 'etc/presso-gateway/board.json'), 'utf8'),
      rtuBoard,
      'the site board is kept',
    );
    const config = readFileSync(join(root, 'boot/firmware/config.txt'), 'utf8');
    const block = config.slice(config.indexOf('# BEGIN presso-gateway'));
    assert.equal(
      block,
      [
        '# BEGIN presso-gateway: written by scripts/install-pi.sh from the board profile; edits here are replaced',
        '[all]',
        'gpio=4=op,dl',
        'gpio=17=ip,pu',
        'enable_uart=1',
        '[pi4]',
        'dtoverlay=disable-bt',
        '[pi5]',
        'dtparam=uart0=on',
        '[all]',
        '# END presso-gateway',
        '',
      ].join('\n'),
      'no I2C on this board; the UART set up per model',
    );
    assert.equal(
      readFileSync(join(root, 'boot/firmware/cmdline.txt'), 'utf8'),
      'console=tty1 root=PARTUUID=1 rootwait\n',
      'serial console removed',
    );
    // A USB RS-485 adapter instead: the header UART and the console are left alone.
    const usb = fakePi(OS.bookworm);
    mkdirSync(join(usb, 'etc/presso-gateway'), { recursive: true });
    writeFileSync(
      join(usb, 'etc/presso-gateway/board.json'),
      rtuBoard.replaceAll('/dev/ttyAMA0', '/dev/ttyUSB0'),
    );
    assert.equal(install('--root', usb, '--skip-system').code, 0);
    assert.ok(!readFileSync(join(usb, 'boot/firmware/config.txt'), 'utf8').includes('enable_uart'));
    assert.match(readFileSync(join(usb, 'boot/firmware/cmdline.txt'), 'utf8'), /console=serial0,115200/);
  });

  it('an update that does not report healthy in time is rolled back to the release before it', async (t) => {
    const root = fakePi(OS.trixie);
    let answer = 503;
    const health = createServer((_req, res) => {
      res.writeHead(answer, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: answer === 200 ? 'ok' : 'degraded' }));
    });
    await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
    t.after(() => health.close());
    const url = `http://127.0.0.1:${(health.address() as AddressInfo).port}/api/health`;

    answer = 200;
    const checked = ['--root', root, '--skip-system', '--health-url', url, '--health-timeout', '2'];
    const first = await installAsync(SCRIPT, ...checked);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /release \S+ is healthy/);
    const good = readlinkSync(join(root, 'opt/presso-gateway/current'));

    // A new release (another build: other files, another name) that never becomes healthy.
    const next = copyCheckout({ dashboard: true });
    writeFileSync(join(next, 'README.md'), 'a later build\n');
    answer = 503;
    const bad = await installAsync(join(next, 'scripts/install-pi.sh'), ...checked);
    assert.equal(bad.code, 3, bad.out + bad.err);
    const badName = /program: \/opt\/presso-gateway\/current -> releases\/(\S+)/.exec(bad.out)?.[1];
    assert.ok(badName && `releases/${badName}` !== good, bad.out);
    assert.match(
      bad.out,
      new RegExp(
        `release ${badName} did not report healthy within 2 s: rolling back to ${good.replace('releases/', '')}`,
      ),
    );
    assert.match(bad.out, /skip \(--skip-system\): systemctl restart --no-block presso-gateway\.service/);
    assert.equal(
      readlinkSync(join(root, 'opt/presso-gateway/current')),
      good,
      'current points at the good release again',
    );
    assert.ok(
      existsSync(join(root, 'opt/presso-gateway/releases', badName, '.complete')),
      'the failed release is kept for a look',
    );
  });
});
