/**
 * The walk-up health screening (therapy-devices reference §d). Absolute contraindications block
 * a walk-up start; "ask a physician" answers do not block but are kept with the session, so staff
 * can see them. Questions are phrased so that "yes" is the answer that matters.
 */
import type { ScreeningAnswers } from '../store/types.js';

export interface ScreeningQuestion {
  id: string;
  text: string;
  /** True: a "yes" means no pressotherapy here (see a doctor first). */
  absolute: boolean;
}

export const SCREENING_QUESTIONS: readonly ScreeningQuestion[] = [
  {
    id: 'dvt',
    text: 'Do you have, or might you have, a blood clot (deep vein thrombosis) or an inflamed vein?',
    absolute: true,
  },
  { id: 'embolism', text: 'Have you had a pulmonary embolism (a clot in the lung)?', absolute: true },
  {
    id: 'heart-failure',
    text: 'Do you have heart failure that is not controlled, or fluid on the lungs?',
    absolute: true,
  },
  {
    id: 'arterial-disease',
    text: 'Do you have poor arterial circulation or peripheral arterial disease in the legs or arms?',
    absolute: true,
  },
  {
    id: 'infection',
    text: 'Is the skin of the treated limb infected or inflamed (cellulitis, erysipelas)?',
    absolute: true,
  },
  {
    id: 'wound',
    text: 'Do you have an open or infected wound, a recent skin graft or dermatitis where the garment sits?',
    absolute: true,
  },
  { id: 'cancer', text: 'Do you have active cancer in the area to be treated?', absolute: true },
  {
    id: 'fracture',
    text: 'Do you have a fracture or dislocation at or near the treated area?',
    absolute: true,
  },
  {
    id: 'neuropathy',
    text: 'Do you have severe numbness or nerve damage (neuropathy) in the treated limb?',
    absolute: true,
  },
  {
    id: 'physician-care',
    text: 'Are you pregnant, under a doctor’s care, or taking blood thinners?',
    absolute: false,
  },
  { id: 'recent-surgery', text: 'Have you had surgery or an injury recently?', absolute: false },
  { id: 'pacemaker', text: 'Do you have a pacemaker or another implanted device?', absolute: false },
];

export const BLOCKED_MESSAGE =
  'Pressotherapy is not safe for you today because of your answer about: %s. Please ask a member ' +
  'of staff or see your doctor before using the station.';

export type ScreeningOutcome =
  | { ok: true; record: ScreeningAnswers }
  | { ok: false; field: string; message: string; record?: ScreeningAnswers };

/** Every question must be answered; an absolute "yes" blocks with words a visitor understands. */
export function evaluateScreening(answers: Record<string, boolean> | undefined): ScreeningOutcome {
  if (answers === undefined) {
    return {
      ok: false,
      field: 'body.screening',
      message: 'body.screening: the health questions must be answered before a walk-up start',
    };
  }
  for (const key of Object.keys(answers)) {
    if (!SCREENING_QUESTIONS.some((q) => q.id === key)) {
      return {
        ok: false,
        field: `body.screening.${key}`,
        message: `body.screening.${key}: unknown question`,
      };
    }
  }
  const missing = SCREENING_QUESTIONS.find((q) => typeof answers[q.id] !== 'boolean');
  if (missing) {
    return {
      ok: false,
      field: `body.screening.${missing.id}`,
      message: `body.screening.${missing.id}: please answer "${missing.text}"`,
    };
  }
  const blocking = SCREENING_QUESTIONS.filter((q) => q.absolute && answers[q.id] === true);
  if (blocking.length > 0) {
    return {
      ok: false,
      field: `body.screening.${blocking[0]?.id ?? ''}`,
      message: BLOCKED_MESSAGE.replace(
        '%s',
        blocking.map((q) => q.text.replace(/\?$/, '').toLowerCase()).join('; '),
      ),
      record: { answers: { ...answers }, blocked: true },
    };
  }
  return { ok: true, record: { answers: { ...answers }, blocked: false } };
}
