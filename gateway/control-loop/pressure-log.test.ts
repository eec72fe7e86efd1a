import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pressureLogIntervalMs } from './pressure-log.js';

test('pressure log: 5 s on a simulated board, 60 s on hardware, PRESSO_LOG_PRESSURES overrides, junk is refused', () => {
  assert.equal(pressureLogIntervalMs(undefined, true), 5000);
  assert.equal(pressureLogIntervalMs(undefined, false), 60_000);
  assert.equal(pressureLogIntervalMs('', false), 60_000);
  assert.equal(pressureLogIntervalMs('0', false), 0, '0 turns the lines off');
  assert.equal(pressureLogIntervalMs('2.5', false), 2500);
  for (const bad of ['five', '-1', '1e9']) {
    assert.throws(
      () => pressureLogIntervalMs(bad, true),
      new RegExp(`^Error: PRESSO_LOG_PRESSURES: must be seconds from 0 \\(off\\) to 86400, got "${bad}"$`),
    );
  }
});
