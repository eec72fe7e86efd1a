import { useState } from 'preact/hooks';
import type { ScreeningQuestion } from '../api.js';
import { hasKey, t } from '../i18n/index.js';

/** Question text in the visitor's language when the catalogue knows the id, else the server's. */
export function questionText(q: ScreeningQuestion): string {
  const key = `screening.${q.id}`;
  return hasKey(key) ? t(key) : q.text;
}

/**
 * The health questions (therapy-devices reference §d, served by GET /api/screening), one yes/no
 * pair each. Every question must be answered; what a "yes" means is decided by the caller.
 */
export function Screening({
  questions,
  onDone,
}: {
  questions: ScreeningQuestion[];
  onDone: (answers: Record<string, boolean>) => void;
}) {
  const [answers, setAnswers] = useState<Record<string, boolean>>({});
  const [missing, setMissing] = useState(false);
  return (
    <section class="screening" aria-labelledby="screening-title">
      <h2 id="screening-title">{t('walkup.screeningTitle')}</h2>
      <p>{t('walkup.screeningIntro')}</p>
      <ol class="questions">
        {questions.map((q) => (
          <li key={q.id} class="question" data-question={q.id}>
            <span class="question-text">{questionText(q)}</span>
            <span class="yes-no" role="radiogroup" aria-label={questionText(q)}>
              {([true, false] as const).map((v) => (
                <button
                  type="button"
                  key={String(v)}
                  role="radio"
                  aria-checked={answers[q.id] === v}
                  class={`btn btn-choice ${answers[q.id] === v ? 'on' : ''}`}
                  data-answer={v ? 'yes' : 'no'}
                  onClick={() => {
                    setAnswers({ ...answers, [q.id]: v });
                    setMissing(false);
                  }}
                >
                  {v ? t('walkup.yes') : t('walkup.no')}
                </button>
              ))}
            </span>
          </li>
        ))}
      </ol>
      {missing && (
        <p class="form-error" role="alert">
          {t('walkup.answerAll')}
        </p>
      )}
      <button
        class="btn btn-primary btn-large"
        onClick={() => {
          if (questions.every((q) => typeof answers[q.id] === 'boolean')) onDone(answers);
          else setMissing(true);
        }}
      >
        {t('walkup.continue')}
      </button>
    </section>
  );
}
