/**
 * A real Mosquitto for tests and the bench: started with its own config file on a free loopback
 * port, never the system's service on 1883 (Debian's package may start one). Optionally with a
 * password file and an ACL, and with TLS instead of plain MQTT (docs/centre.md has the same forms).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BrokerOptions {
  /** user → password; with it, anonymous clients are refused. */
  users?: Record<string, string>;
  /** The ACL file's text (needs users). */
  acl?: string;
  /** Reuse a port (a restart after a kill). */
  port?: number;
  /** A TLS listener (mqtts://) with these PEM files instead of plain MQTT. */
  tls?: BrokerTls;
}

export interface BrokerTls {
  /** The CA that signed the broker's certificate (and, with requireCertificate, the clients'). */
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Refuses clients without a certificate signed by caFile; a certificate's CN is its user name. */
  requireCertificate?: boolean;
  /** What mosquitto_pub and mosquitto_sub (mqttPub, retained) present when one is required. */
  toolCert?: { certFile: string; keyFile: string };
}

export interface Broker {
  port: number;
  url: string;
  dir: string;
  tls: BrokerTls | undefined;
  child: ChildProcess;
  output(): string;
  /** SIGKILL by default: a broker that dies. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** The same broker (port, users, ACL) started again. */
  restart(): Promise<Broker>;
  /** Removes its files (after kill). */
  remove(): void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export async function startBroker(opts: BrokerOptions = {}, dir?: string): Promise<Broker> {
  const home = dir ?? mkdtempSync(join(tmpdir(), 'presso-mosquitto-'));
  const port = opts.port ?? (await freePort());
  const lines = [
    `listener ${port} 127.0.0.1`,
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
  ];
  // As root (CI containers), Mosquitto would drop to its own user, which cannot read our 0600
  // files in a private temporary directory.
  if (process.getuid?.() === 0) lines.push('user root');
  const tls = opts.tls;
  if (tls !== undefined) {
    lines.push(`cafile ${tls.caFile}`, `certfile ${tls.certFile}`, `keyfile ${tls.keyFile}`);
    if (tls.requireCertificate === true)
      lines.push('require_certificate true', 'use_identity_as_username true');
  }
  if (opts.users !== undefined) {
    const pw = join(home, 'passwd');
    writeFileSync(pw, '', { mode: 0o600 });
    for (const [user, password] of Object.entries(opts.users)) {
      execFileSync('mosquitto_passwd', ['-b', pw, user, password]);
    }
    lines.push('allow_anonymous false', `password_file ${pw}`);
    if (opts.acl !== undefined) {
      writeFileSync(join(home, 'acl'), opts.acl, { mode: 0o600 });
      lines.push(`acl_file ${join(home, 'acl')}`);
    }
  } else lines.push('allow_anonymous true');
  const conf = join(home, 'mosquitto.conf');
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (const until = Date.now() + 10_000; !(await reachable(port));) {
    if (child.exitCode !== null || Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`mosquitto did not start on port ${port}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const broker: Broker = {
    port,
    url: `${tls !== undefined ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    tls,
    dir: home,
    child,
    output: () => log,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    restart: () => startBroker({ ...opts, port }, home),
    remove: () => rmSync(home, { recursive: true, force: true }),
  };
  return broker;
}

/** mosquitto_pub's and mosquitto_sub's address and, for a TLS broker, its CA (and certificate). */
function toolTarget(broker: Broker): string[] {
  const tls = broker.tls;
  const target = ['-h', '127.0.0.1', '-p', String(broker.port)];
  if (tls === undefined) return target;
  target.push('--cafile', tls.caFile);
  if (tls.toolCert !== undefined) target.push('--cert', tls.toolCert.certFile, '--key', tls.toolCert.keyFile);
  return target;
}

/** mosquitto_pub, as a client of its own (not a gateway). */
export function mqttPub(
  broker: Broker,
  topic: string,
  message: string,
  auth?: { user: string; password: string },
  retain = false,
): void {
  execFileSync(
    'mosquitto_pub',
    [
      ...toolTarget(broker),
      '-t',
      topic,
      '-q',
      '1',
      ...(retain ? ['-r'] : []),
      ...(auth ? ['-u', auth.user, '-P', auth.password] : []),
      // From stdin: a 40 KB payload does not fit an argument list on every system.
      '-s',
    ],
    { input: message, timeout: 10_000 },
  );
}

/** The retained messages under `filter`, read with mosquitto_sub: topic → payload. */
export function retained(
  broker: Broker,
  filter: string,
  auth?: { user: string; password: string },
): Map<string, string> {
  let out: string;
  try {
    out = execFileSync(
      'mosquitto_sub',
      [
        ...toolTarget(broker),
        '-t',
        filter,
        '-v',
        '--retained-only',
        '-W',
        '2',
        ...(auth ? ['-u', auth.user, '-P', auth.password] : []),
      ],
      { encoding: 'utf8', timeout: 10_000 },
    );
  } catch (e) {
    // -W ends it with a non-zero status once the retained messages are out.
    out = (e as { stdout?: string }).stdout ?? '';
  }
  const map = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf(' ');
    if (i > 0) map.set(line.slice(0, i), line.slice(i + 1));
  }
  return map;
}
