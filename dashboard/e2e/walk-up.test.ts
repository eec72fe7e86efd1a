/**
 * The walk-up station page in real Chromium: the health screening comes before any start, a "yes"
 * to an absolute contraindication blocks the start and sends the visitor to staff, all "no"
 * offers the presets within the limits staff set. Saves the walk-up screenshot.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { browserMissing, readyBoard, SCREENSHOTS, startGateway, waitShown, openBoard } from './gateway.js';

const skip = browserMissing();
const STATION = 'lounge-1';

test(
  'walk-up: a contraindication in the screening blocks the start; all "no" offers the presets',
  { skip: skip ?? false },
  async (t) => {
    const gw = await startGateway();
    t.after(() => gw.close());
    // Staff decide what a walk-up user may do on this station.
    await gw.admin('PUT', `/api/stations/${STATION}/settings`, {
      walkUpEnabled: true,
      walkUpPrograms: ['leg-relaxation', 'leg-circulation'],
      walkUpMaxPressureMmHg: 40,
      walkUpMaxDurationMin: 20,
    });

    const visitor = await gw.page(`/station/${STATION}`);
    await visitor.getByRole('heading', { name: 'Welcome to Lounge 1' }).waitFor();
    // STOP is on screen before anything else is asked.
    assert.ok(await visitor.getByTestId('walkup-stop').isVisible());
    await visitor.getByText('Tingling, numbness or pain?').waitFor();
    await waitShown(gw, visitor.getByRole('heading', { name: 'A few health questions first' }));
    const questions = visitor.locator('[data-question]');
    assert.ok((await questions.count()) >= 9, 'the contraindication questions are asked');
    assert.equal(
      await visitor.getByRole('button', { name: 'Start', exact: true }).count(),
      0,
      'no start before the screening',
    );

    // Everything "no" except a suspected blood clot, an absolute contraindication.
    for (const q of await questions.all()) {
      const id = await q.getAttribute('data-question');
      await q.locator(`[data-answer="${id === 'dvt' ? 'yes' : 'no'}"]`).click();
    }
    await visitor.getByRole('button', { name: 'Continue' }).click();
    const blocked = visitor.getByTestId('screening-blocked');
    await blocked.waitFor();
    assert.match(await blocked.innerText(), /Please do not use this station today/);
    assert.match(await blocked.innerText(), /blood clot/);
    assert.match(await blocked.innerText(), /ask a member of staff/);
    assert.equal(
      await visitor.getByRole('button', { name: 'Start', exact: true }).count(),
      0,
      'no way to start',
    );
    const station = await gw.admin<{ state: string }>('GET', `/api/stations/${STATION}`);
    assert.equal(station.state, 'idle');

    // A new visitor (own browser tab) who answers "no" throughout gets the presets within the limits.
    const next = await gw.page(`/station/${STATION}`);
    const nextQuestions = next.locator('[data-question]');
    await waitShown(gw, nextQuestions.first());
    for (const q of await nextQuestions.all()) await q.locator('[data-answer="no"]').click();
    await next.getByRole('button', { name: 'Continue' }).click();
    await waitShown(gw, next.getByRole('heading', { name: 'Choose a program' }));
    assert.equal(await next.locator('.preset').count(), 2, 'only the programs staff offered');
    assert.equal(
      await next.locator('input[name=intensity]').getAttribute('max'),
      '40',
      'intensity bounded by staff',
    );
    await readyBoard(gw);
    await next.screenshot({ path: join(SCREENSHOTS, 'walk-up.png') });

    // The start goes through with the answers, which the session keeps.
    await next.getByRole('button', { name: 'Start', exact: true }).click();
    await next.getByTestId('time-left').waitFor({ timeout: 10_000 });
    assert.match(await next.getByTestId('time-left').innerText(), /Time left\s+\d+:\d\d/);
    // Lists never carry screening answers (docs/privacy.md); one session's record does, to staff and above.
    const { sessions } = await gw.admin<{ sessions: { id: string; client: string; screening?: unknown }[] }>(
      'GET',
      `/api/sessions?station=${STATION}`,
    );
    assert.equal(sessions[0]?.client, 'walk-up');
    assert.equal(sessions[0]?.screening, undefined, 'no screening answers in a list');
    const one = await gw.admin<{ screening?: { blocked: boolean; answers: Record<string, boolean> } }>(
      'GET',
      `/api/sessions/${sessions[0]?.id ?? ''}`,
    );
    assert.equal(one.screening?.blocked, false);
    assert.equal(one.screening?.answers.dvt, false);

    // STOP: the page says the air is let out and staff were told, and the staff board says so.
    const board = await openBoard(gw);
    await next.getByTestId('walkup-stop').click();
    await next.getByText('A member of staff has been told').waitFor({ timeout: 10_000 });
    await board
      .getByRole('alert')
      .getByText('Lounge 1: a walk-up user pressed STOP — please check on them.')
      .waitFor({ timeout: 10_000 });
  },
);
