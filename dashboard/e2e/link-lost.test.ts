/**
 * "No stale value ever shown as live": when the web process goes away the board shows the
 * link-lost banner and greys every station out; when it is back, the banner goes and values are
 * live again, without a reload.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserMissing, startGateway, allLive, openBoard } from './gateway.js';

const skip = browserMissing();

test(
  'the link-lost banner appears when the server goes away and clears when it returns',
  { skip: skip ?? false },
  async (t) => {
    const gw = await startGateway();
    t.after(() => gw.close());
    const board = await openBoard(gw);
    assert.equal(await board.getByTestId('link-banner').count(), 0, 'no banner while live');

    await gw.stopWeb();
    const banner = board.getByTestId('link-banner');
    await banner.waitFor({ timeout: 10_000 });
    assert.match(await banner.innerText(), /Connection to the gateway lost — values are not live/);
    await board.locator('.tile.stale').nth(3).waitFor();
    assert.equal(await board.locator('.tile.live').count(), 0, 'no station shown as live');
    const shown = await board
      .locator('[data-zone]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-pressure')));
    assert.ok(
      shown.every((p) => p === ''),
      'no pressure value is shown while the link is down',
    );
    // STOP stays on every tile, link or not.
    assert.equal(await board.getByRole('button', { name: /^Stop / }).count(), 4);

    await gw.startWeb();
    await banner.waitFor({ state: 'detached', timeout: 15_000 });
    await allLive(board);
  },
);
