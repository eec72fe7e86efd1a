/**
 * Commands are checked against their schemas (gateway/ipc/schemas.ts) by the controller itself,
 * and a malformed one is refused with the field named, at the real controller socket as well as
 * on a direct call; nothing changes on the board.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { IpcServer } from './server.js';
import { presetById } from '../control-loop/programs/presets.js';
import { harness } from '../control-loop/test-support/harness.js';
import { LineSplitter } from './lines.js';
import { CommandError, PROTOCOL_VERSION } from '../protocol.js';
import { validateCommand } from './validate.js';

const silent = { info: () => {}, warn: () => {}, error: () => {} };
const program = presetById('leg-circulation');

describe('command schemas', () => {
  test('a malformed command is refused naming the field and what it must be', () => {
    const cases: [string, unknown, RegExp][] = [
      [
        'start',
        { stationId: 'bay-1', sessionId: 's', program: 'leg-circulation' },
        /^start: program must be a program object \(the whole program: id, name, version, garments, mode, pressureMmHg and its timings\), not a program id: look the id up first$/,
      ],
      [
        'start',
        { stationId: 'bay-1', sessionId: 's', program, durationMin: '20' },
        /^start: durationMin must be a positive number of minutes$/,
      ],
      [
        'start',
        { stationId: 'bay-1', sessionId: 's', program, skipZones: [1, 'two'] },
        /^start: skipZones\[1\] /,
      ],
      ['start', { stationId: 'bay-1', program }, /^start: sessionId is required$/],
      ['stop', { station: 'bay-1' }, /^stop: unknown argument "station" \(check the spelling\)$/],
      [
        'self-test',
        { stationId: 'bay-1', kind: 'smoke' },
        /^self-test: kind must be one of valve-click, sensor-zero, leak$/,
      ],
      [
        'set-zero-offsets',
        { stationId: 'bay-1', offsetsMmHg: [0, 50] },
        /^set-zero-offsets: offsetsMmHg\[1\] must be <= 10$/,
      ],
      ['pause', { stationId: 7 }, /^pause: stationId must be a station id$/],
      ['hello', { extra: true }, /^hello: unknown argument "extra"/],
    ];
    for (const [cmd, args, message] of cases) {
      assert.throws(
        () => validateCommand(cmd as never, args),
        (e: unknown) => e instanceof CommandError && e.code === 'bad-request' && message.test(e.message),
        `${cmd} ${JSON.stringify(args)}`,
      );
    }
    // And a well-formed one passes untouched.
    const ok = { stationId: 'bay-1', sessionId: 's', program, pressureMmHg: 40, skipZones: [2] };
    assert.equal(validateCommand('start', ok), ok);
  });

  test('at the controller socket, a malformed start gets bad-request naming the field; the station stays idle', async (t) => {
    const h = await harness();
    const dir = mkdtempSync(join(tmpdir(), 'presso-schema-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'c.sock');
    const server = new IpcServer(h.ctrl, path, silent);
    await server.start();
    t.after(() => server.stop());
    const socket = connect(path);
    t.after(() => socket.destroy());
    const replies: Record<string, unknown>[] = [];
    const splitter = new LineSplitter();
    socket.on('data', (chunk: Buffer) => {
      for (const line of splitter.push(chunk).lines) {
        const m = JSON.parse(line) as Record<string, unknown>;
        if (typeof m.id === 'number') replies.push(m);
      }
    });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const send = (id: number, cmd: string, args: unknown) =>
      socket.write(`${JSON.stringify({ v: PROTOCOL_VERSION, id, cmd, args })}\n`);
    send(1, 'start', { stationId: 'bay-1', sessionId: 's1', program, pressureMmHg: 'high' });
    send(2, 'start', { stationId: 'bay-1', sessionId: 's1', programme: program });
    send(3, 'state', { stationId: 'bay-1' });
    const deadline = Date.now() + 5000;
    while (replies.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const byId = new Map(replies.map((r) => [r.id, r]));
    assert.deepEqual(byId.get(1)?.error, {
      code: 'bad-request',
      message: 'start: pressureMmHg must be a number of mmHg',
    });
    const second = byId.get(2)?.error as { code: string; message: string };
    assert.equal(second.code, 'bad-request');
    assert.match(second.message, /program/, 'names the missing or misspelt field');
    const [frame] = (byId.get(3)?.result ?? []) as { state: string; session: unknown }[];
    assert.equal(frame?.state, 'idle');
    assert.equal(frame?.session, null);
  });
});
