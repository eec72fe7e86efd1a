/**
 * Setting up and running a centre from the browser alone, in real Chromium against the real
 * gateway, starting from an empty database: the admin token's first sign-in, the first staff user
 * made on the Users page and the board unlocked with that PIN; a preset copied, its pressure
 * changed with the preview following, saved, started on a station from the board and made
 * stronger there; walk-up use enabled on a station, started from its walk-up page and made softer
 * there; history filtered with its CSV; the audit filtered, and the pages in German. Saves a screenshot of each admin page.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { ADMIN_TOKEN } from '../../gateway/server/test-support/harness.js';
import {
  browserMissing,
  gatewayForFile,
  readyBoard,
  SCREENSHOTS,
  waitShown,
  type Gateway,
} from './gateway.js';

const skip = browserMissing();
const STAFF = { id: 'mia', name: 'Mia Berg', pin: '246813' };
const PROGRAM = 'quick-legs';
let gw: Gateway;
let admin: Page;
let board: Page;

gatewayForFile(
  async (g) => {
    gw = g;
  },
  { users: false },
);

/** The zone-1 target a page's zone bars show. */
const zone1Target = (scope: Locator) => scope.locator('[data-zone="1"]').getAttribute('data-target');

/** Waits until the zone-1 bar of `scope` shows `mmHg` as its target (a new cycle took it on). */
async function zone1Follows(scope: Locator, mmHg: number, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: string | null = null;
  while (Date.now() < until) {
    last = await zone1Target(scope);
    if (last === String(mmHg)) return;
    await scope.page().waitForTimeout(250);
  }
  assert.fail(`zone 1 target stayed ${last}, expected ${mmHg}`);
}

/**
 * The rows' texts once every row satisfies `ok` (the list from before a filter may still be on
 * screen for a moment); fails with what was shown if that does not happen within 10 s.
 */
async function settledRows(rows: Locator, ok: (text: string) => boolean): Promise<string[]> {
  let texts: string[] = [];
  for (let i = 0; i < 50; i++) {
    texts = await rows.evaluateAll((els) => els.map((e) => e.textContent ?? ''));
    if (texts.length > 0 && texts.every(ok)) return texts;
    await rows.page().waitForTimeout(200);
  }
  assert.fail(`rows did not settle:\n${texts.join('\n')}`);
}

async function nav(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name, exact: true }).click();
}

test(
  'first run: the admin token signs in, the Users page makes the first staff user, the board unlocks with that PIN',
  { skip: skip ?? false },
  async () => {
    admin = await gw.page('/admin');
    await admin.getByTestId('first-run').waitFor();
    assert.match(await admin.getByTestId('first-run').innerText(), /no users yet/);
    await admin.locator('input[name=token]').fill(ADMIN_TOKEN);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByTestId('first-run-users').waitFor();
    assert.match(await admin.getByTestId('admin-user').innerText(), /token \(admin\)/);

    const form = admin.getByTestId('new-user');
    await form.locator('input[name=id]').fill(STAFF.id);
    await form.locator('input[name=name]').fill(STAFF.name);
    await form.locator('select[name=role]').selectOption('staff');
    // The API's rule, shown beside the field: a PIN is digits.
    await form.locator('input[name=secret]').fill('12ab');
    await form.getByRole('button', { name: 'Create user' }).click();
    const pinError = form.locator('[data-field="body.secret"]');
    await pinError.waitFor();
    assert.match(await pinError.innerText(), /PIN/);
    await form.locator('input[name=secret]').fill(STAFF.pin);
    await form.getByRole('button', { name: 'Create user' }).click();
    await admin.locator(`[data-user="${STAFF.id}"]`).waitFor();
    await admin.getByText(`User ${STAFF.id} created.`).waitFor();
    await admin.screenshot({ path: join(SCREENSHOTS, 'admin-users.png') });

    board = await gw.page('/');
    await board.getByRole('button', { name: 'Unlock', exact: true }).click();
    const dialog = board.getByRole('dialog');
    await dialog.locator('input[name=user]').fill(STAFF.id);
    for (const digit of STAFF.pin) {
      await dialog.locator('.pin-pad').getByRole('button', { name: digit, exact: true }).click();
    }
    await dialog.getByRole('button', { name: 'Unlock', exact: true }).click();
    await board.getByTestId('lock-state').getByText(`Unlocked: ${STAFF.id}`).waitFor();
  },
);

test(
  'programs: copy a preset, change its pressure and see the preview move, save, start it from the board, make it stronger there',
  { skip: skip ?? false },
  async () => {
    await nav(admin, 'Programs');
    const preset = admin.locator('[data-program="leg-circulation"]');
    assert.match(await preset.innerText(), /built-in/);
    await preset.getByRole('button', { name: 'Copy' }).click();
    const editor = admin.getByTestId('program-editor');
    await editor.locator('input[name=id]').fill(PROGRAM);
    await editor.locator('input[name=name]').fill('Quick legs');
    const targets = editor.getByTestId('preview-targets');
    await targets.getByText(/45 · 40 · 35 · 30 · 25 mmHg/).waitFor();

    // The preview is the controller's plan: it moves with the pressure…
    await editor.locator('input[name=pressureMmHg]').fill('50');
    await targets.getByText(/50 · 45 · 40 · 35 · 30 mmHg/).waitFor();
    // …and says what the controller would refuse on this station.
    await editor.locator('input[name=pressureMmHg]').fill('110');
    const refused = editor.getByTestId('preview-refused');
    await refused.waitFor();
    assert.match(await refused.innerText(), /zone 1 would need 110 mmHg, above the 95 mmHg ceiling/);
    // A schema error is shown at its field.
    await editor.locator('input[name=holdS]').fill('500');
    await editor.locator('[data-field="holdS"]').waitFor();
    await editor.locator('input[name=holdS]').fill('2');
    await editor.locator('input[name=pressureMmHg]').fill('50');
    await editor.locator('input[name=releaseS]').fill('3');
    await editor.locator('input[name=restS]').fill('0');
    await editor.getByTestId('preview-ok').waitFor();
    await editor.getByTestId('preview-chart').locator('canvas').waitFor();
    await editor.evaluate((e) => e.scrollIntoView());
    await admin.screenshot({ path: join(SCREENSHOTS, 'admin-programs.png') });
    await editor.getByRole('button', { name: 'Create program' }).click();
    await admin.getByText('Saved Quick legs, version 1.').waitFor();

    // The board lists it (a fresh load reads the programs) and starts it.
    await board.reload();
    await board.getByTestId('lock-state').getByText(`Unlocked: ${STAFF.id}`).waitFor();
    await readyBoard(gw);
    const tile = board.locator('.tile[data-station="bay-1"]');
    await waitShown(gw, tile.getByRole('button', { name: 'Start…' }));
    await tile.getByRole('button', { name: 'Start…' }).click();
    const dialog = board.getByRole('dialog');
    await dialog.locator('input[name=client]').fill('Anna Example');
    await dialog.locator('select[name=program]').selectOption(PROGRAM);
    await dialog.locator('input[name=pressure]').fill('50');
    await dialog.locator('input[name=duration]').fill('10');
    await dialog.getByRole('button', { name: 'Review…' }).click();
    await dialog.getByRole('button', { name: 'Yes, start' }).click();
    await tile.getByTestId('setpoint').waitFor({ timeout: 15_000 });
    assert.equal(await tile.getByTestId('setpoint').getAttribute('data-mmhg'), '50');

    // Stronger asks once, then the new setpoint shows at once and the zones follow from the next cycle.
    await tile.getByRole('button', { name: 'Stronger: 55 mmHg' }).click();
    await tile.getByRole('button', { name: 'Stronger: 55 mmHg' }).click();
    await tile.locator('[data-testid=setpoint][data-mmhg="55"]').waitFor({ timeout: 5000 });
    await zone1Follows(tile, 55);
    await board.screenshot({ path: join(SCREENSHOTS, 'board-adjust.png') });
    await tile.getByRole('button', { name: 'Stop Bay 1' }).click();
  },
);

test(
  'stations: enable walk-up on a station, start it from its walk-up page, make it softer there',
  { skip: skip ?? false },
  async () => {
    await nav(admin, 'Stations');
    const card = admin.locator('[data-station-settings="bay-2"]');
    await card.locator('input[name=walkUpEnabled]').waitFor();
    assert.match(await card.getByTestId('range-walkUpMaxPressureMmHg').innerText(), /allowed 20–95 mmHg/);
    // Above the board's ceiling: the server's answer at the field.
    await card.locator('input[name=ceilingMmHg]').fill('130');
    await card.getByRole('button', { name: 'Save' }).click();
    await card.locator('[data-field="body.ceilingMmHg"]', { hasText: /at most 100 mmHg/ }).waitFor();
    await card.locator('input[name=ceilingMmHg]').fill('');
    await card.locator('input[name=walkUpEnabled]').check();
    await card.locator(`input[name=program-${PROGRAM}]`).check();
    await card.locator('input[name=walkUpMaxPressureMmHg]').fill('40');
    await card.locator('input[name=walkUpMaxDurationMin]').fill('20');
    await card.getByRole('button', { name: 'Save' }).click();
    await card.getByText('Saved.').waitFor();
    // The station's QR sheet, for its walk-up page.
    await card.getByRole('button', { name: 'QR sheet' }).click();
    const sheet = admin.getByRole('dialog');
    await sheet.getByText(/\/station\/bay-2/).waitFor();
    assert.equal(await sheet.locator('img').count(), 1, 'one QR code, for this station');
    await sheet.getByRole('button', { name: 'Close' }).click();
    await admin.screenshot({ path: join(SCREENSHOTS, 'admin-stations.png'), fullPage: true });

    const visitor = await gw.page('/station/bay-2');
    const questions = visitor.locator('[data-question]');
    await waitShown(gw, questions.first());
    for (const q of await questions.all()) await q.locator('[data-answer="no"]').click();
    await visitor.getByRole('button', { name: 'Continue' }).click();
    await waitShown(gw, visitor.getByRole('heading', { name: 'Choose a program' }));
    await readyBoard(gw);
    await visitor.getByRole('button', { name: 'Start', exact: true }).click();
    await visitor.getByTestId('time-left').waitFor({ timeout: 15_000 });
    const running = visitor.locator('.running');
    assert.equal(await running.getByTestId('setpoint').getAttribute('data-mmhg'), '40');
    assert.equal(
      await running.getByRole('button', { name: /Stronger/ }).count(),
      0,
      'a walk-up user gets softer only',
    );
    await running.getByRole('button', { name: 'Softer: 35 mmHg' }).click();
    await running.locator('[data-testid=setpoint][data-mmhg="35"]').waitFor({ timeout: 5000 });
    await zone1Follows(running, 35);
    await visitor.screenshot({ path: join(SCREENSHOTS, 'walk-up-adjust.png') });
  },
);

test(
  'history: filter, download the CSV, one session with its adjustments',
  { skip: skip ?? false },
  async () => {
    await gw.admin('POST', '/api/stop', {});
    await nav(admin, 'History');
    const filters = admin.getByTestId('history-filters');
    await filters.locator('select[name=station]').selectOption('bay-1');
    await filters.getByRole('button', { name: 'Filter' }).click();
    const rows = admin.getByTestId('sessions-table').locator('tbody tr');
    await rows.first().waitFor();
    const shown = await settledRows(rows, (x) => x.includes('bay-1'));
    assert.equal(shown.length, 1, shown.join('\n'));

    const download = admin.waitForEvent('download');
    await filters.getByTestId('csv').click();
    const csv = readFileSync((await (await download).path()) as string, 'utf8');
    const lines = csv.trim().split('\r\n');
    assert.match(lines[0] ?? '', /^id,stationId,programId/);
    assert.equal(lines.length, 2, 'the header and the one filtered session');
    assert.match(lines[1] ?? '', new RegExp(`bay-1,${PROGRAM},1,Anna Example,${STAFF.id}`));
    assert.match(lines[1] ?? '', /mia 50→55 mmHg/);

    await rows.first().click();
    const detail = admin.getByTestId('session-detail');
    await detail
      .getByTestId('adjustments')
      .getByText(/mia: 50 → 55 mmHg/)
      .waitFor();
    assert.match(await detail.getByTestId('started-by').innerText(), new RegExp(STAFF.id));
    // The delivered-pressure chart needs the report, written when the session ended.
    await detail.getByTestId('session-chart').locator('canvas').waitFor({ timeout: 15_000 });
    await admin.screenshot({ path: join(SCREENSHOTS, 'admin-history.png'), fullPage: true });
  },
);

test('audit: filtered by action', { skip: skip ?? false }, async () => {
  await nav(admin, 'Audit');
  await admin.locator('input[name=action]').fill('adjust');
  await admin.getByRole('button', { name: 'Filter' }).click();
  const rows = admin.getByTestId('audit-table').locator('tbody tr');
  await admin.getByTestId('audit-table').getByText('/api/stations/bay-2/adjust').waitFor();
  const texts = await settledRows(rows, (x) => x.includes('adjust'));
  assert.ok(
    texts.some((x) => x.includes('/api/stations/bay-1/adjust')),
    'the board adjustment',
  );
  assert.ok(
    texts.some((x) => x.includes('walk-up') || x.includes('anonymous')),
    'the walk-up one',
  );
  await admin.screenshot({ path: join(SCREENSHOTS, 'admin-audit.png') });

  // The same pages in German.
  await admin.getByRole('combobox', { name: 'Language' }).selectOption('de');
  await admin.getByRole('navigation').getByRole('link', { name: 'Protokoll', exact: true }).waitFor();
  await admin.getByTestId('audit-table').getByRole('columnheader', { name: 'Wann' }).waitFor();
  await nav(admin, 'Programme');
  await admin.locator('[data-program="leg-circulation"]').getByText('eingebaut').waitFor();
});
