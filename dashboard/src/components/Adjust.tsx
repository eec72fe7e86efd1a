/**
 * Softer / stronger during a session (POST /api/stations/:id/adjust). The setpoint shown is the
 * controller's (the frame's session pressure), so it changes as soon as the controller accepts;
 * the zones take it on from the next cycle, which the note says while it is pending. Stronger
 * asks for a confirmation, as starting does; softer never does. The server and the controller
 * decide what is allowed; a refusal is shown in their words.
 */
import { useState } from 'preact/hooks';
import { PROGRAM_BOUNDS } from '../../../gateway/control-loop/programs/bounds.js';
import { api, ApiError, type LiveFrame } from '../api.js';
import { t } from '../i18n/index.js';

/** One step of softer or stronger: a gradient step, small enough to feel, large enough to notice. */
export const ADJUST_STEP_MMHG = 5;
const FLOOR_MMHG = PROGRAM_BOUNDS.pressureMmHg.min;

const adjustable = (frame: LiveFrame) =>
  frame.session !== null && (frame.state === 'running' || frame.state === 'paused');

/** The session's set pressure now, and whether the zones have yet to take it on. */
export function Setpoint({ frame }: { frame: LiveFrame }) {
  const s = frame.session;
  if (s === null || !adjustable(frame)) return null;
  return (
    <div class="adjust-setpoint" data-testid="setpoint" data-mmhg={s.pressureMmHg}>
      {t('adjust.setpoint', { p: s.pressureMmHg })}
      {s.adjustPending && <em> — {t('adjust.pending')}</em>}
    </div>
  );
}

/** The softer (and for staff, stronger) buttons; a refusal is shown below them. */
export function AdjustButtons({
  frame,
  stronger,
  large = false,
}: {
  frame: LiveFrame;
  /** Offer "stronger" too (staff); the walk-up page offers softer only. */
  stronger: boolean;
  large?: boolean;
}) {
  const [confirm, setConfirm] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const s = frame.session;
  if (s === null || !adjustable(frame)) return null;
  const setpoint = s.pressureMmHg;
  const softer = Math.max(FLOOR_MMHG, setpoint - ADJUST_STEP_MMHG);
  const harder = setpoint + ADJUST_STEP_MMHG;

  const send = (pressureMmHg: number) => {
    setBusy(true);
    setError(null);
    setConfirm(null);
    api('POST', `/api/stations/${encodeURIComponent(frame.id)}/adjust`, { pressureMmHg })
      .catch((e: unknown) =>
        setError(t('adjust.failed', { message: e instanceof ApiError ? e.message : String(e) })),
      )
      .finally(() => setBusy(false));
  };
  const size = large ? 'btn-large' : '';
  return (
    <>
      {confirm === null ? (
        <>
          <button
            class={`btn btn-secondary ${size}`}
            disabled={busy || setpoint <= FLOOR_MMHG}
            aria-label={t('adjust.softerLabel', { p: softer })}
            onClick={() => send(softer)}
          >
            {t('adjust.softer')}
          </button>
          {stronger && (
            <button
              class={`btn btn-secondary ${size}`}
              disabled={busy}
              aria-label={t('adjust.strongerLabel', { p: harder })}
              onClick={() => setConfirm(harder)}
            >
              {t('adjust.stronger')}
            </button>
          )}
        </>
      ) : (
        <>
          <button class={`btn btn-go ${size}`} onClick={() => send(confirm)}>
            {t('adjust.strongerLabel', { p: confirm })}
          </button>
          <button class={`btn btn-secondary ${size}`} onClick={() => setConfirm(null)}>
            {t('start.cancel')}
          </button>
        </>
      )}
      {error && (
        <p class="form-error adjust-error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}
