/**
 * Independent Modbus peers for the driver tests: the pymodbus slave in test/fixtures/modbus_slave.py
 * (Debian's python3-pymodbus) and a socat pty pair standing in for an RS-485 cable. Every process
 * started here is killed by the test's `t.after`, pass or fail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';

const PYTHON = '/usr/bin/python3';
const SLAVE = new URL('../fixtures/modbus_slave.py', import.meta.url).pathname;
const INSTALL_HINT = 'run `apt-get install -y python3-pymodbus socat mbpoll` (CI installs them)';
/** Importing pymodbus and binding takes ~0.5 s on this machine; allow for a loaded CI box. */
const START_TIMEOUT_MS = 8000;
const COMMAND_TIMEOUT_MS = 3000;

let checked = false;

/** Fails (does not skip) when the peers are missing: CI must run these tests. */
export function requirePeers(): void {
  if (checked) return;
  const py = spawnSync(PYTHON, ['-c', 'import pymodbus.server.async_io, serial_asyncio'], {
    encoding: 'utf8',
  });
  if (py.error || py.status !== 0) {
    throw new Error(
      `the Modbus tests need Debian's pymodbus 3.0 under ${PYTHON}: ${INSTALL_HINT}\n${py.error?.message ?? py.stderr}`,
    );
  }
  const socat = spawnSync('socat', ['-V'], { encoding: 'utf8' });
  if (socat.error || socat.status !== 0)
    throw new Error(`the Modbus tests need socat (the RTU tests use it as the cable): ${INSTALL_HINT}`);
  checked = true;
}

/** Kills `child` with SIGKILL and resolves once it has exited. */
function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export type Table = 'co' | 'di' | 'hr' | 'ir';

export class ModbusSlave {
  private readonly replies: ((line: string) => void)[] = [];
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    /** TCP port, or the pty path for RTU. */
    readonly where: string,
  ) {}

  get port(): number {
    return Number(this.where);
  }

  /** `args`: ['tcp', '127.0.0.1', '0'] or ['rtu', path, baud]. Killed at the end of `t`. */
  static async start(t: TestContext, args: string[]): Promise<ModbusSlave> {
    requirePeers();
    const child = spawn(PYTHON, [SLAVE, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    t.after(() => killHard(child));
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const lines = createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`modbus slave did not start in ${START_TIMEOUT_MS} ms: ${stderr}`)),
        START_TIMEOUT_MS,
      );
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`modbus slave exited (${code}) before it was ready: ${stderr}`));
      });
      lines.once('line', (line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
    const m = /^ready (.+)$/.exec(first);
    if (!m?.[1]) throw new Error(`modbus slave said "${first}" instead of ready: ${stderr}`);
    const slave = new ModbusSlave(child, m[1]);
    slave.stderr = stderr;
    child.stderr?.on('data', (s: string) => (slave.stderr += s));
    lines.on('line', (line) => slave.replies.shift()?.(line));
    return slave;
  }

  /** Sends one control command and returns the words after `ok`. */
  async command(line: string): Promise<string[]> {
    const reply = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`modbus slave did not answer "${line}": ${this.stderr}`)),
        COMMAND_TIMEOUT_MS,
      );
      this.replies.push((l) => {
        clearTimeout(timer);
        resolve(l);
      });
      this.child.stdin?.write(`${line}\n`);
    });
    const [status, ...rest] = reply.split(' ');
    if (status !== 'ok') throw new Error(`modbus slave: "${line}" -> "${reply}"`);
    return rest;
  }

  async get(table: Table, start: number, count: number): Promise<number[]> {
    return (await this.command(`get ${table} ${start} ${count}`)).map(Number);
  }

  async set(table: Table, start: number, values: readonly (number | boolean)[]): Promise<void> {
    await this.command(`set ${table} ${start} ${values.map((v) => Number(v)).join(' ')}`);
  }

  /** Table accesses by Modbus requests since the last call, as "FC:start:count". */
  async trace(): Promise<string[]> {
    return this.command('trace');
  }

  /** Freezes the slave (SIGSTOP): its sockets stay open and the kernel still accepts, but nothing answers. */
  freeze(): void {
    this.child.kill('SIGSTOP');
  }

  thaw(): void {
    this.child.kill('SIGCONT');
  }

  /** Simulates a crash: SIGKILL, no goodbye on the socket beyond what the kernel sends. */
  kill(): Promise<void> {
    return killHard(this.child);
  }
}

/**
 * A socat pty pair (a null-modem cable) at `a` <-> `b`. `unplug()` kills socat, which closes both
 * ptys as pulling a USB-RS485 adapter does; `plug()` makes a new pair at the same paths. socat
 * is killed and the directory removed at the end of `t`.
 */
export class PtyPair {
  private child: ChildProcess | undefined;

  private constructor(
    readonly a: string,
    readonly b: string,
  ) {}

  static async start(t: TestContext): Promise<PtyPair> {
    requirePeers();
    const dir = mkdtempSync(join(tmpdir(), 'presso-modbus-'));
    const pair = new PtyPair(join(dir, 'ttyA'), join(dir, 'ttyB'));
    t.after(async () => {
      await pair.unplug();
      rmSync(dir, { recursive: true, force: true });
    });
    await pair.plug();
    return pair;
  }

  async plug(): Promise<void> {
    await this.unplug();
    const { a, b } = this;
    const child = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
      stdio: 'ignore',
    });
    this.child = child;
    const until = Date.now() + START_TIMEOUT_MS;
    while (!(existsSync(a) && existsSync(b))) {
      if (child.exitCode !== null) throw new Error(`socat exited (${child.exitCode})`);
      if (Date.now() > until) throw new Error('socat did not create the pty pair');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async unplug(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await killHard(child);
  }
}
