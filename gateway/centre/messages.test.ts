import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readMessage, topics } from './messages.js';
import { MAX_PAYLOAD_BYTES } from './schemas.js';
import { StateGate } from './state-gate.js';
import { CentreRegistry, MAX_GATEWAYS } from './registry.js';

const state = {
  id: 'bay-1',
  name: 'Bay 1',
  garment: 'leg',
  state: 'idle',
  phase: null,
  program: null,
  session: null,
  remainingS: null,
  zones: [{ zone: 1, pressureMmHg: 0, targetMmHg: 0 }],
  ceilingMmHg: 80,
  startCeiling: { ceilingMmHg: 80, highestTargetMmHg: 75, source: 'board' },
  sessionCeilingMmHg: null,
  link: 'ok',
  alarms: [],
  walkUp: null,
  gatewayId: 'gw-b',
  atEpochMs: 1,
};
const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

test('a valid state, status and stop are read; everything else names what was wrong', () => {
  const t = topics('spa', 'gw-b');
  assert.equal(readMessage('spa', t.state('bay-1'), buf(state)).kind, 'state');
  assert.equal(readMessage('spa', t.status, buf({ online: false, gatewayId: 'gw-b' })).kind, 'status');
  const stop = readMessage('spa', 'presso/spa/gw-b/stations/bay-1/stop', buf({ by: 'gw-a: sam' }));
  assert.deepEqual(stop, {
    kind: 'stop',
    gatewayId: 'gw-b',
    stationId: 'bay-1',
    payload: { by: 'gw-a: sam' },
  });
  assert.equal(readMessage('spa', t.state('bay-1'), Buffer.alloc(0)).kind, 'state-cleared');

  const bad = (topic: string, payload: Buffer) => {
    const m = readMessage('spa', topic, payload);
    assert.equal(m.kind, 'bad', `${topic} ${payload.toString().slice(0, 40)}`);
    return m.kind === 'bad' ? m.problem : '';
  };
  assert.match(bad(t.state('bay-1'), buf('{nope')), /bay-1\/state: payload is not JSON/);
  assert.match(bad(t.state('bay-1'), buf({ ...state, state: 'flying' })), /state/);
  assert.match(bad(t.state('bay-2'), buf(state)), /does not match the topic/);
  assert.match(bad(t.status, buf({ online: true, gatewayId: 'gw-c' })), /not the topic's/);
  assert.match(bad('presso/spa/gw-b/stations/bay-1/stop', buf({ by: 5 })), /payload\.by/);
  assert.match(bad('presso/spa/gw-b/stations/bay-1/stop', buf({ by: 'x', run: 'pump' })), /unknown key/);
  assert.match(
    bad('presso/spa/gw-b/stations/bay-1/stop', Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 32)),
    /payload of \d+ bytes \(at most/,
  );
  // Another centre's topics, and topics no one reads, are not ours.
  assert.equal(readMessage('spa', 'presso/other/gw-b/status', buf('junk')).kind, 'ignored');
  assert.equal(readMessage('spa', 'presso/spa/gw-b/stations/bay-1/start', buf('{}')).kind, 'ignored');
});

test('states go out on change only, at most two a second per station', () => {
  const gate = new StateGate();
  assert.equal(
    gate.offer('bay-1', () => 'a', 0),
    true,
  );
  assert.equal(
    gate.offer('bay-1', () => 'a', 2000),
    false,
    'no change, nothing sent',
  );
  assert.equal(
    gate.offer('bay-1', () => 'b', 2100),
    true,
  );
  assert.equal(
    gate.offer('bay-1', () => 'c', 2400),
    false,
    'too soon after the last',
  );
  assert.equal(
    gate.offer('bay-2', () => 'c', 2400),
    true,
    'per station',
  );
  assert.equal(
    gate.offer('bay-1', () => 'c', 2600),
    true,
    'the latest goes out after the interval',
  );
  gate.reset();
  assert.equal(
    gate.offer('bay-1', () => 'c', 2601),
    true,
    'after a reconnect everything goes out again',
  );
});

test('the registry bounds what a flooded broker can make it hold', () => {
  const r = new CentreRegistry('gw-a', () => 1000);
  for (let i = 0; i < MAX_GATEWAYS; i++)
    assert.equal(r.onStatus(`g${i}`, { online: true, gatewayId: `g${i}` }), true);
  assert.equal(r.onStatus('one-too-many', { online: true, gatewayId: 'one-too-many' }), false);
  assert.equal(r.gatewayList().length, MAX_GATEWAYS);
  // After a reconnect no one is known to be online until the broker says so again.
  r.forgetStatuses();
  assert.ok(r.gatewayList().every((g) => !g.online));
  assert.equal(r.online('g1'), false);
});
