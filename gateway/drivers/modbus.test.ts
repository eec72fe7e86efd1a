/**
 * The Modbus drivers against peers none of us wrote: Debian's pymodbus 3.0 as the slave (TCP on
 * loopback, RTU over a socat pty pair with serialport 13). Real sockets, so the RealClock.
 * Needs `apt-get install -y python3-pymodbus socat mbpoll`; without them the tests fail and say so.
 */
import { ConfigError } from '../config-error.js';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { RealClock } from '../clock.js';
import { type DriverContext, type IoDevice } from './io.js';
import { modbusRtu, modbusTcp } from './modbus.js';
import { runs, spans } from './modbus/batching.js';
import { RECONNECT_MAX_MS } from './modbus/link.js';
import { ModbusSlave, PtyPair } from '../../test/modbus/peers.js';
import { SharedLinks } from './shared-links.js';

const clock = new RealClock();

function context(): DriverContext & { lines: string[] } {
  const lines: string[] = [];
  return {
    clock,
    lines,
    log: {
      info: (m) => lines.push(`info ${m}`),
      warn: (m) => lines.push(`warn ${m}`),
      error: (m) => lines.push(`error ${m}`),
    },
    openI2c: () => Promise.reject(new Error('no I2C here')),
    services: new Map(),
    links: new SharedLinks(),
  };
}

/** Opens a device and closes it at the end of the test. */
async function opened(t: TestContext, device: IoDevice): Promise<IoDevice> {
  t.after(() => device.close());
  await device.open();
  return device;
}

function tcpDevice(id: string, port: number, extra: Record<string, unknown> = {}, ctx = context()): IoDevice {
  const config = modbusTcp.parseConfig({ host: '127.0.0.1', port, unitId: 1, ...extra }, `devices.${id}`);
  return modbusTcp.create(id, config, ctx);
}

/** Polls `cond` every 10 ms until it holds or `ms` pass; returns how long it took. */
async function waitFor(what: string, ms: number, cond: () => boolean | Promise<boolean>): Promise<number> {
  const start = clock.now();
  while (!(await cond())) {
    if (clock.now() - start > ms) assert.fail(`${what}: not within ${ms} ms`);
    await clock.sleep(10);
  }
  return clock.now() - start;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = clock.now();
  await fn();
  return clock.now() - start;
}

/** A TCP port nobody listens on right now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise<void>((r) => server.close(() => r()));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

describe('modbus config and channels (no peers)', () => {
  test('parseConfig fills defaults and rejects unknown keys and bad values with the field path', () => {
    const c = modbusTcp.parseConfig({ host: 'io.local', unitId: 1 }, 'devices.io1');
    assert.equal(c.port, 502);
    assert.equal(c.timeoutMs, 200);
    assert.equal(c.pollHz, undefined);
    assert.throws(() => modbusTcp.parseConfig({ host: 'x', unitId: 1, tiemoutMs: 5 }, 'devices.io1'), {
      name: 'ConfigError',
      message: /devices\.io1\.tiemoutMs: unknown key/,
    });
    assert.throws(
      () => modbusTcp.parseConfig({ host: 'x', unitId: 1, pressure: { scale: 0 } }, 'devices.io1'),
      {
        message: /devices\.io1\.pressure\.scale: must be a non-zero number/,
      },
    );
    const r = modbusRtu.parseConfig(
      { path: '/dev/ttyUSB0', baudRate: 19200, parity: 'even', unitId: 3 },
      'devices.bus',
    );
    assert.deepEqual([r.dataBits, r.stopBits, r.timeoutMs], [8, 1, 200]);
    assert.throws(
      () => modbusRtu.parseConfig({ path: '/dev/x', baudRate: 9600, parity: 'E', unitId: 1 }, 'devices.bus'),
      {
        message: /devices\.bus\.parity: must be one of none, even, odd/,
      },
    );
    assert.throws(
      () =>
        modbusRtu.parseConfig({ path: '/dev/x', baudRate: 9600, parity: 'none', unitId: 0 }, 'devices.bus'),
      {
        message: /devices\.bus\.unitId/,
      },
    );
  });

  test('checkChannel explains the syntax; channelKey makes pwm hr:N and pressure hr:N clash', () => {
    const c = modbusTcp.parseConfig(
      { host: 'x', unitId: 1, pressure: { scale: 0.1 }, pwmFullScale: 1000 },
      'd',
    );
    assert.equal(modbusTcp.checkChannel('digital-out', 'coil:7', c), undefined);
    assert.equal(modbusTcp.checkChannel('digital-in', ' DI:3 ', c), undefined);
    assert.equal(modbusTcp.checkChannel('pressure-in', 'ir:0', c), undefined);
    assert.equal(modbusTcp.checkChannel('pressure-in', 'hr:4', c), undefined);
    assert.equal(modbusTcp.checkChannel('pwm-out', 'hr:5', c), undefined);
    assert.match(
      modbusTcp.checkChannel('digital-out', 'di:7', c) ?? '',
      /wrong table: digital-out channels are "coil:N"/,
    );
    assert.match(modbusTcp.checkChannel('digital-out', '7', c) ?? '', /not a Modbus channel/);
    assert.match(modbusTcp.checkChannel('digital-out', 'coil:65536', c) ?? '', /not a Modbus channel/);
    const bare = modbusTcp.parseConfig({ host: 'x', unitId: 1 }, 'd');
    assert.match(
      modbusTcp.checkChannel('pressure-in', 'ir:0', bare) ?? '',
      /needs the device's "pressure" scaling/,
    );
    assert.match(modbusTcp.checkChannel('pwm-out', 'hr:0', bare) ?? '', /needs the device's "pwmFullScale"/);
    assert.equal(
      modbusTcp.channelKey?.('pwm-out', 'HR:05', c),
      modbusTcp.channelKey?.('pressure-in', 'hr:5', c),
    );
    const device = modbusTcp.create('io1', bare, context());
    assert.throws(() => device.pressureInput('ir:0'), ConfigError);
  });

  test('reads span gaps within the protocol limit; writes go in runs of consecutive addresses', () => {
    assert.deepEqual(spans([7, 2, 3], 125), [{ start: 2, count: 6 }]);
    assert.deepEqual(spans([0, 124, 125], 125), [
      { start: 0, count: 125 },
      { start: 125, count: 1 },
    ]);
    assert.deepEqual(runs([0, 1, 2, 3, 5], 1968), [
      { start: 0, count: 4 },
      { start: 5, count: 1 },
    ]);
    assert.deepEqual(runs([0, 1, 2], 2), [
      { start: 0, count: 2 },
      { start: 2, count: 1 },
    ]);
  });
});

describe('modbus-tcp against pymodbus', () => {
  test('open() with nothing listening names the device and the refusal; the module comes online by itself later', async (t) => {
    const port = await closedPort();
    const io = tcpDevice('io1', port, { pressure: { scale: 1 } });
    const p = io.pressureInput('ir:0');
    t.after(() => io.close());
    await assert.rejects(
      io.open(),
      /modbus-tcp device io1: cannot connect to 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    );
    assert.equal(io.health().state, 'offline');
    assert.match(io.health().message ?? '', /cannot connect \(ECONNREFUSED\); next attempt in \d+ ms/);
    const took = await timed(() => io.sample());
    assert.ok(took < 20, `sample() while nothing listens: ${took} ms`);
    assert.equal(p.read().health, 'error');

    const slave = await ModbusSlave.start(t, ['tcp', '127.0.0.1', String(port)]);
    await slave.set('ir', 0, [5]);
    await waitFor('health ok once the module is there', RECONNECT_MAX_MS + 2000, async () => {
      await io.sample();
      return io.health().state === 'ok';
    });
    assert.equal(p.read().mmHg, 5);
  });

  test('batched reads and writes reach the independent slave, scaled to mmHg', async (t) => {
    const slave = await ModbusSlave.start(t, ['tcp', '127.0.0.1', '0']);
    await slave.set('di', 0, [1, 0, 1, 1]);
    await slave.set('ir', 2, [1234]);
    await slave.set('ir', 7, [0x10000 - 100]); // int16 -100
    await slave.set('hr', 10, [500]);
    await slave.set('co', 4, [1]); // not ours: must survive our writes

    const io = tcpDevice('io1', slave.port, {
      timeoutMs: 150,
      pressure: { scale: 0.1, offset: -10, signed: true },
      pwmFullScale: 1000,
    });
    const valves = [0, 1, 2, 3, 5].map((n) => io.digitalOutput(`coil:${n}`));
    const inputs = [0, 1, 2, 3].map((n) => io.digitalInput(`di:${n}`));
    const p2 = io.pressureInput('ir:2');
    const p7 = io.pressureInput('ir:7');
    const p10 = io.pressureInput('hr:10');
    const pumps = [io.pwmOutput('hr:20'), io.pwmOutput('hr:21')];
    await opened(t, io);
    assert.equal(io.health().state, 'ok');
    await slave.trace(); // forget the probe in open()

    await io.sample();
    assert.deepEqual(
      await slave.trace(),
      ['2:0:4', '4:2:6', '3:10:1'],
      'one request per table, spanning the addresses in use',
    );
    assert.deepEqual(
      inputs.map((i) => i.value),
      [true, false, true, true],
    );
    assert.equal(p2.read().health, 'ok');
    assert.ok(Math.abs(p2.read().mmHg - 113.4) < 1e-9, `ir:2 = ${p2.read().mmHg}`);
    assert.ok(Math.abs(p7.read().mmHg - -20) < 1e-9, `ir:7 = ${p7.read().mmHg}`);
    assert.ok(Math.abs(p10.read().mmHg - 40) < 1e-9, `hr:10 = ${p10.read().mmHg}`);
    p2.setZeroOffset(3.4);
    await io.sample();
    assert.ok(Math.abs(p2.read().mmHg - 110) < 1e-9);
    await slave.trace();

    [true, false, true, true, true].forEach((on, i) => valves[i]?.set(on));
    pumps[0]?.set(0.25);
    pumps[1]?.set(1.5); // clamped to 1
    await io.flush();
    assert.deepEqual(
      await slave.trace(),
      ['15:0:4', '15:5:1', '16:20:2'],
      'FC15 per run of consecutive coils, one FC16',
    );
    assert.deepEqual(await slave.get('co', 0, 7), [1, 0, 1, 1, 1, 1, 0]);
    assert.deepEqual(await slave.get('hr', 20, 2), [250, 1000]);

    await io.safe();
    assert.deepEqual(
      await slave.get('co', 0, 7),
      [0, 0, 0, 0, 1, 0, 0],
      'safe() clears our coils, leaves coil 4',
    );
    assert.deepEqual(await slave.get('hr', 20, 2), [0, 0]);
    assert.equal(io.health().state, 'ok');
    assert.equal(io.health().errors, 0);
  });

  test('pollHz caps traffic: skipped samples are stale, unchanged outputs are not rewritten, changes are', async (t) => {
    const slave = await ModbusSlave.start(t, ['tcp', '127.0.0.1', '0']);
    const io = tcpDevice('io1', slave.port, { pollHz: 2, pressure: { scale: 1 } });
    const p = io.pressureInput('ir:0');
    const valve = io.digitalOutput('coil:0');
    await opened(t, io);
    await slave.trace();
    await io.sample();
    await io.sample();
    assert.equal(p.read().health, 'stale');
    await io.flush();
    await io.flush();
    valve.set(true);
    await io.flush();
    assert.deepEqual(await slave.trace(), ['4:0:1', '15:0:1', '15:0:1']);
  });

  test('a Modbus exception names the register: at open(), and at run time without upsetting the link', async (t) => {
    const slave = await ModbusSlave.start(t, ['tcp', '127.0.0.1', '0']);
    const bad = tcpDevice('bad', slave.port, { pressure: { scale: 1 } });
    bad.pressureInput('ir:150');
    t.after(() => bad.close());
    await assert.rejects(
      bad.open(),
      /modbus-tcp device bad: unit 1 at 127\.0\.0\.1:\d+ refused read ir:150 \(FC04 start 150, count 1\): illegal data address \(exception 2\)/,
    );

    await slave.set('ir', 0, [42]);
    const io = await opened(t, tcpDevice('io1', slave.port, { pressure: { scale: 1 } }));
    const good = io.pressureInput('ir:0');
    const late = io.pressureInput('hr:120'); // asked for after open(), so the probe did not see it
    await io.sample();
    assert.equal(io.health().state, 'degraded');
    assert.match(
      io.health().message ?? '',
      /refused read hr:120 \(FC03 start 120, count 1\): illegal data address \(exception 2\)/,
    );
    assert.equal(late.read().health, 'error');
    assert.equal(good.read().health, 'ok', 'the other table was still read');
    assert.equal(good.read().mmHg, 42);
    await io.sample();
    assert.equal(io.health().state, 'degraded', 'a persistent fault stays reported');
  });

  test('an unknown unit id times out into an error; the link and the next requests still work', async (t) => {
    const slave = await ModbusSlave.start(t, ['tcp', '127.0.0.1', '0']);
    await slave.set('ir', 0, [7]);
    const timeoutMs = 100;
    const board = context(); // one board: its devices on one host:port share the link
    const probeFails = tcpDevice('u9', slave.port, { unitId: 9, timeoutMs, pressure: { scale: 1 } }, board);
    probeFails.pressureInput('ir:0');
    t.after(() => probeFails.close()); // a failed open() keeps retrying until close()
    const rejected = await timed(() =>
      assert.rejects(
        probeFails.open(),
        /modbus-tcp device u9: no answer from 127\.0\.0\.1:\d+ unit 9 for \d+ ms \(timeout on read ir:0 \(FC04 start 0, count 1\)\); next try in 100 ms/,
      ),
    );
    assert.ok(rejected < timeoutMs + 300, `open() took ${rejected} ms`);
    assert.equal(probeFails.health().state, 'offline');

    const u1 = await opened(t, tcpDevice('u1', slave.port, { timeoutMs, pressure: { scale: 1 } }, board));
    const u9 = await opened(
      t,
      tcpDevice('u9', slave.port, { unitId: 9, timeoutMs, pressure: { scale: 1 } }, board),
    );
    const p1 = u1.pressureInput('ir:0');
    const p9 = u9.pressureInput('ir:0');

    const took = await timed(() => u9.sample());
    assert.ok(took >= timeoutMs - 5 && took < timeoutMs + 300, `timed-out sample took ${took} ms`);
    assert.equal(u9.health().state, 'degraded');
    assert.match(
      u9.health().message ?? '',
      /no answer from 127\.0\.0\.1:\d+ unit 9 within 100 ms to read ir:0/,
    );
    assert.equal(p9.read().health, 'error');

    await u1.sample();
    assert.equal(u1.health().state, 'ok');
    assert.equal(p1.read().mmHg, 7);

    await u9.sample();
    await u9.sample();
    assert.equal(u9.health().state, 'offline', 'three misses in a row');
    assert.match(u9.health().message ?? '', /no answer from 127\.0\.0\.1:\d+ unit 9 for \d+ ms/);
    const skipped = await timed(() => u9.sample());
    assert.ok(skipped < 20, `an offline unit is not re-asked every tick (${skipped} ms)`);

    await slave.set('ir', 0, [8]);
    await u1.sample();
    assert.equal(u1.health().state, 'ok');
    assert.equal(p1.read().mmHg, 8);
  });

  test('link drop: offline at once, ticks stay prompt, recovers by itself on the same port', async (t) => {
    let slave = await ModbusSlave.start(t, ['tcp', '127.0.0.1', '0']);
    const port = slave.port;
    await slave.set('ir', 0, [100]);
    const timeoutMs = 100;
    const ctx = context();
    const io = await opened(t, tcpDevice('io1', port, { timeoutMs, pressure: { scale: 1 } }, ctx));
    const valve = io.digitalOutput('coil:0');
    const p = io.pressureInput('ir:0');

    // The control loop: sample, stage, flush every 10 ms; records the slowest tick per phase.
    let slowest = 0;
    let ticks = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        const took = await timed(async () => {
          await io.sample();
          valve.set(ticks % 2 === 0);
          await io.flush();
        });
        slowest = Math.max(slowest, took);
        ticks++;
        await clock.sleep(10);
      }
    })();
    t.after(async () => {
      running = false;
      await loop;
    });

    await waitFor('first samples', 2000, () => ticks > 5 && p.read().mmHg === 100);
    assert.equal(io.health().state, 'ok');

    await slave.kill();
    const killedAt = clock.now();
    slowest = 0;
    const toOffline = await waitFor('health offline', 1000, () => io.health().state === 'offline');
    assert.match(
      io.health().message ?? '',
      new RegExp(`no answer from 127\\.0\\.0\\.1:${port} unit 1 for \\d+ ms`),
    );
    assert.equal(p.read().health, 'error');
    const ticksBefore = ticks;
    await clock.sleep(400);
    assert.ok(ticks - ticksBefore > 10, `ticks kept coming while offline (${ticks - ticksBefore} in 400 ms)`);
    assert.ok(slowest < timeoutMs + 150, `slowest tick while offline: ${slowest} ms`);
    assert.equal(io.health().state, 'offline');

    slave = await ModbusSlave.start(t, ['tcp', '127.0.0.1', String(port)]);
    await slave.set('ir', 0, [321]);
    const restartedAt = clock.now();
    await waitFor('health ok again', RECONNECT_MAX_MS + 2000, () => io.health().state === 'ok');
    const toOk = clock.now() - restartedAt;
    await waitFor('values flow again', 1000, () => p.read().mmHg === 321);
    await waitFor('outputs flow again', 1000, async () => (await slave.get('co', 0, 1))[0] === 1);
    assert.ok(slowest < timeoutMs + 150, `slowest tick overall: ${slowest} ms`);
    // One warning per new reason, not one per reconnect attempt.
    const warnings = ctx.lines.filter((l) => l.startsWith('warn'));
    // FIN if the slave died between requests, RST if a request was in flight.
    assert.match(warnings[0] ?? '', /link lost \((closed by the peer|ECONNRESET)\)/);
    assert.ok(warnings.length <= 3, warnings.join('\n'));
    t.diagnostic(
      `offline ${toOffline.toFixed(0)} ms after the kill; ok ${toOk.toFixed(0)} ms after the restart; slowest tick ${slowest.toFixed(1)} ms; down ${(restartedAt - killedAt).toFixed(0)} ms`,
    );
  });
  test('a hung slave (SIGSTOP): offline after three timeouts, each call bounded, recovers on SIGCONT', async (t) => {
    const slave = await ModbusSlave.start(t, ['tcp', '127.0.0.1', '0']);
    t.after(() => slave.thaw()); // SIGKILL works on a stopped process too; this is belt and braces
    await slave.set('ir', 0, [55]);
    const timeoutMs = 100;
    const io = await opened(t, tcpDevice('io1', slave.port, { timeoutMs, pressure: { scale: 1 } }));
    const valve = io.digitalOutput('coil:0');
    const p = io.pressureInput('ir:0');

    let slowest = 0;
    let running = true;
    const loop = (async () => {
      for (let n = 0; running; n++) {
        slowest = Math.max(slowest, await timed(() => io.sample()));
        valve.set(n % 2 === 0);
        slowest = Math.max(slowest, await timed(() => io.flush()));
        await clock.sleep(10);
      }
    })();
    t.after(async () => {
      running = false;
      await loop;
    });
    await waitFor('first samples', 2000, () => p.read().mmHg === 55 && io.health().state === 'ok');

    slave.freeze();
    const toOffline = await waitFor('health offline', 1500, () => io.health().state === 'offline');
    assert.match(
      io.health().message ?? '',
      /no answer from 127\.0\.0\.1:\d+ unit 1 for \d+ ms \(timeout on /,
    );
    assert.equal(p.read().health, 'error');
    await clock.sleep(600);
    assert.ok(slowest < timeoutMs + 150, `slowest sample()/flush() while hung: ${slowest} ms`);

    slave.thaw();
    await slave.set('ir', 0, [66]);
    const toOk = await waitFor('health ok again', RECONNECT_MAX_MS + 2000, () => io.health().state === 'ok');
    await waitFor('values flow again', 1000, () => p.read().mmHg === 66);
    t.diagnostic(
      `offline ${toOffline.toFixed(0)} ms after SIGSTOP; ok ${toOk.toFixed(0)} ms after SIGCONT; slowest call ${slowest.toFixed(1)} ms`,
    );
  });
});

describe('modbus-rtu against pymodbus over a socat pty pair', () => {
  test('reads, writes, an unknown unit times out and the bus keeps working', async (t) => {
    const { a, b } = await PtyPair.start(t);
    const baudRate = 115200;
    const slave = await ModbusSlave.start(t, ['rtu', b, String(baudRate)]);
    await slave.set('di', 2, [1]);
    await slave.set('ir', 3, [2500]);

    const config = (unitId: number) =>
      modbusRtu.parseConfig(
        { path: a, baudRate, parity: 'none', unitId, timeoutMs: 100, pressure: { scale: 0.1 } },
        `devices.u${unitId}`,
      );
    const board = context(); // one board: its devices on one serial port share the bus
    const io = modbusRtu.create('u1', config(1), board);
    const valves = [io.digitalOutput('coil:0'), io.digitalOutput('coil:1')];
    const di = io.digitalInput('di:2');
    const p = io.pressureInput('ir:3');
    await opened(t, io);
    assert.equal(io.health().state, 'ok');

    await io.sample();
    assert.equal(di.value, true);
    assert.equal(p.read().mmHg, 250);
    valves[1]?.set(true);
    await io.flush();
    assert.deepEqual(await slave.get('co', 0, 2), [0, 1]);

    const u9 = await opened(t, modbusRtu.create('u9', config(9), board));
    const p9 = u9.pressureInput('ir:3');
    const took = await timed(() => u9.sample());
    assert.equal(u9.health().state, 'degraded');
    assert.match(
      u9.health().message ?? '',
      new RegExp(`no answer from ${a.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} unit 9 within 100 ms`),
    );
    assert.equal(p9.read().health, 'error');
    assert.ok(took < 100 + 50 + 200, `timeout took ${took} ms`);

    await slave.set('ir', 3, [2600]);
    await io.sample();
    assert.equal(io.health().state, 'ok');
    assert.equal(p.read().mmHg, 260);

    // The board samples and flushes every device at once; on one bus they must take turns.
    await slave.set('ir', 3, [2700]);
    valves[0]?.set(true);
    await Promise.all([u9.sample(), io.sample(), io.flush(), u9.flush()]);
    assert.equal(io.health().state, 'ok');
    assert.equal(p.read().mmHg, 270);
    assert.deepEqual(await slave.get('co', 0, 2), [1, 1]);

    const clash = modbusRtu.create('clash', { ...config(2), baudRate: 9600 }, board);
    await assert.rejects(clash.open(), /modbus-rtu device clash: .* is already open at 115200 8N1/);
  });

  test('the adapter vanishes (socat killed): offline at once, reopened by itself when it is back', async (t) => {
    const cable = await PtyPair.start(t);
    const baudRate = 115200;
    let slave = await ModbusSlave.start(t, ['rtu', cable.b, String(baudRate)]);
    await slave.set('ir', 0, [10]);
    const config = modbusRtu.parseConfig(
      { path: cable.a, baudRate, parity: 'none', unitId: 1, timeoutMs: 100, pressure: { scale: 1 } },
      'devices.bus',
    );
    const io = await opened(t, modbusRtu.create('bus', config, context()));
    const p = io.pressureInput('ir:0');
    await io.sample();
    assert.equal(p.read().mmHg, 10);

    await slave.kill();
    await cable.unplug();
    await waitFor('health offline', 1000, async () => {
      const took = await timed(() => io.sample());
      assert.ok(took < 100 + 150, `sample() took ${took} ms`);
      return io.health().state === 'offline';
    });
    assert.match(io.health().message ?? '', /no answer from .*ttyA unit 1 for \d+ ms/);
    const slowest = Math.max(...(await Promise.all([0, 1, 2].map(() => timed(() => io.sample())))));
    assert.ok(slowest < 20, `sample() while the port is gone: ${slowest} ms`);

    await cable.plug();
    slave = await ModbusSlave.start(t, ['rtu', cable.b, String(baudRate)]);
    await slave.set('ir', 0, [20]);
    await waitFor('health ok again', RECONNECT_MAX_MS + 2000, async () => {
      await io.sample();
      return io.health().state === 'ok';
    });
    assert.equal(p.read().mmHg, 20);
  });
});
