/**
 * The walk-up station page (`/station/:id`), reached by the QR code on the station, for someone
 * who has never used it: health screening before the first start, a preset within the limits
 * staff set, time left, pause, and a STOP that is always on screen. Anonymous: the server checks
 * every limit and the screening again (routes/stations.ts); this page only makes them plain.
 */
import { useState } from 'preact/hooks';
import { PROGRAM_BOUNDS } from '../../../gateway/control-loop/programs/bounds.js';
import { highestBaseMmHg } from '../../../gateway/control-loop/programs/profile.js';
import {
  api,
  ApiError,
  stopStation,
  WALK_UP_STOP_REASON,
  type ProgramRecordView,
  type ScreeningQuestion,
  type StationView,
} from '../api.js';
import { useLiveLink, usePoll } from '../components/hooks.js';
import { LangSwitch } from '../components/LangSwitch.js';
import { AdjustButtons, Setpoint } from '../components/Adjust.js';
import { ZoneBars } from '../components/ZoneBars.js';
import { LinkBanner } from '../components/LinkBanner.js';
import { clock } from '../format.js';
import { t } from '../i18n/index.js';
import type { Live } from '../live.js';
import { questionText, Screening } from './Screening.js';

/** The lowest intensity offered is the lowest working pressure a program may have. */
const MIN_WALK_UP_MMHG = PROGRAM_BOUNDS.pressureMmHg.min;
const DURATION_STEP_MIN = 5;

type Answers = Record<string, boolean>;

export function WalkUp({ stationId, onLangChange }: { stationId: string; onLangChange: () => void }) {
  const live = useLiveLink([{ stationId }], stationId);

  const view = usePoll(
    () => api<StationView>('GET', `/api/stations/${encodeURIComponent(stationId)}`),
    15_000,
  );
  const questions = usePoll(() => api<{ questions: ScreeningQuestion[] }>('GET', '/api/screening'), 0);
  const programs = usePoll(() => api<{ programs: ProgramRecordView[] }>('GET', '/api/programs'), 0);

  // Kept for this visit (the browser tab) so a second session does not ask again.
  const storageKey = `presso.screening.${stationId}`;
  const [answers, setAnswers] = useState<Answers | null>(() => {
    const saved = sessionStorage.getItem(storageKey);
    return saved === null ? null : (JSON.parse(saved) as Answers);
  });
  const [stoppedByMe, setStoppedByMe] = useState(false);

  const frame = live.frames.get(stationId);
  const isLive = live.isLive(stationId);
  const walkUp = view.value?.walkUp ?? null;
  const qs = questions.value?.questions ?? [];
  const blocking = answers === null ? [] : qs.filter((q) => q.absolute && answers[q.id] === true);
  const caution = answers !== null && qs.some((q) => !q.absolute && answers[q.id] === true);

  const stop = () => {
    setStoppedByMe(true);
    void stopStation(stationId, WALK_UP_STOP_REASON).catch(() => undefined);
  };

  let body;
  if (frame === undefined || view.value === null || questions.value === null) {
    body = <p class="walkup-message">{t('link.connecting')}</p>;
  } else if (frame.session !== null && (frame.state === 'running' || frame.state === 'paused')) {
    body = <Running stationId={stationId} frame={frame} live={isLive} />;
  } else if (frame.state === 'fault' && !stoppedByMe) {
    body = <p class="walkup-message walkup-warn">{t('walkup.fault')}</p>;
  } else if (
    frame.state === 'venting' ||
    (stoppedByMe && (frame.state === 'idle' || frame.state === 'fault'))
  ) {
    // After their own STOP the visitor is told it worked and staff know, even if the station has
    // also gone to a fault meanwhile: that is for staff to deal with, not for them.
    body = (
      <div class="walkup-message">
        <p>{stoppedByMe ? t('walkup.stopped') : t('walkup.busy', { state: t(`state.${frame.state}`) })}</p>
        {frame.state === 'idle' && (
          <button class="btn btn-primary btn-large" onClick={() => setStoppedByMe(false)}>
            {t('walkup.again')}
          </button>
        )}
      </div>
    );
  } else if (frame.state !== 'idle') {
    body = <p class="walkup-message">{t('walkup.busy', { state: t(`state.${frame.state}`) })}</p>;
  } else if (walkUp === null) {
    body = <p class="walkup-message">{t('walkup.notAvailable')}</p>;
  } else if (answers === null) {
    body = (
      <Screening
        questions={qs}
        onDone={(a) => {
          sessionStorage.setItem(storageKey, JSON.stringify(a));
          setAnswers(a);
        }}
      />
    );
  } else if (blocking.length > 0) {
    body = (
      <section class="blocked" role="alert" data-testid="screening-blocked">
        <h2>{t('walkup.blockedTitle')}</h2>
        <p>{t('walkup.blocked', { what: blocking.map(questionText).join(' · ') })}</p>
      </section>
    );
  } else {
    body = (
      <Chooser
        stationId={stationId}
        limits={walkUp}
        zoneCount={frame?.zones.length ?? 1}
        programs={(programs.value?.programs ?? [])
          .map((r) => r.program)
          .filter((p) => walkUp.programs.includes(p.id))}
        answers={answers}
        caution={caution}
      />
    );
  }

  return (
    <div class="walkup">
      <LinkBanner link={live.link} controllerDown={live.link === 'up' && frame !== undefined && !isLive} />
      <header class="walkup-head">
        <h1>{t('walkup.welcome', { name: frame?.name ?? stationId })}</h1>
        <LangSwitch onChange={onLangChange} />
      </header>
      <main class="walkup-main">{body}</main>
      <footer class="walkup-stop-bar">
        <button class="btn btn-stop btn-stop-huge" onClick={stop} data-testid="walkup-stop">
          {t('walkup.stop')}
        </button>
        <div class="discomfort">
          <strong>{t('walkup.discomfortTitle')}</strong> {t('walkup.discomfort')}
        </div>
      </footer>
    </div>
  );
}

function Chooser({
  stationId,
  limits,
  zoneCount,
  programs,
  answers,
  caution,
}: {
  stationId: string;
  limits: NonNullable<StationView['walkUp']>;
  zoneCount: number;
  programs: ProgramRecordView['program'][];
  answers: Answers;
  caution: boolean;
}) {
  // The intensity of each preset goes up to the walk-up maximum, and only as far as keeps its
  // strongest zone under the effective ceiling (the walk-up maximum, the station's own limits);
  // a preset that cannot run under it at all is shown but cannot be chosen.
  const maxOf = (p: (typeof programs)[number]) =>
    Math.min(limits.maxPressureMmHg, highestBaseMmHg(p, zoneCount, limits.ceiling.highestTargetMmHg));
  const runnable = (p: (typeof programs)[number]) => maxOf(p) >= MIN_WALK_UP_MMHG;
  const [programId, setProgramId] = useState(programs.find(runnable)?.id ?? '');
  const program = programs.find((p) => p.id === programId && runnable(p)) ?? programs.find(runnable);
  const maxP = program ? maxOf(program) : limits.maxPressureMmHg;
  const [chosen, setPressure] = useState(Math.min(program?.pressureMmHg ?? maxP, maxP));
  const pressure = Math.min(chosen, maxP);
  const durations = [];
  for (let m = DURATION_STEP_MIN; m <= limits.maxDurationMin; m += DURATION_STEP_MIN) durations.push(m);
  if (durations.length === 0) durations.push(limits.maxDurationMin);
  const [duration, setDuration] = useState(
    Math.min(program?.durationMin ?? limits.maxDurationMin, limits.maxDurationMin),
  );
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      await api('POST', `/api/stations/${encodeURIComponent(stationId)}/start`, {
        programId: program?.id,
        pressureMmHg: pressure,
        durationMin: duration,
        screening: answers,
      });
    } catch (e) {
      setError(t('walkup.startFailed', { message: e instanceof ApiError ? e.message : String(e) }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="chooser">
      {caution && <p class="caution">{t('walkup.cautionNote')}</p>}
      <h2>{t('walkup.pickPreset')}</h2>
      <div class="presets" role="radiogroup" aria-label={t('walkup.pickPreset')}>
        {programs.map((p) => (
          <button
            key={p.id}
            role="radio"
            aria-checked={p.id === program?.id}
            class={`btn preset ${p.id === program?.id ? 'on' : ''}`}
            disabled={!runnable(p)}
            onClick={() => {
              setProgramId(p.id);
              setPressure(Math.min(p.pressureMmHg, maxOf(p)));
              setDuration(Math.min(p.durationMin, limits.maxDurationMin));
            }}
          >
            <strong>{p.name}</strong>
            {runnable(p) ? (
              p.description && <span>{p.description}</span>
            ) : (
              <span class="preset-reason">{t('walkup.presetTooStrong')}</span>
            )}
          </button>
        ))}
      </div>
      <label class="field big-field">
        <span>
          {t('walkup.intensity')}: <strong>{pressure}</strong> {t('unit.mmHg')}
        </span>
        <input
          type="range"
          name="intensity"
          min={Math.min(MIN_WALK_UP_MMHG, maxP)}
          max={maxP}
          value={pressure}
          onInput={(e) => setPressure(Number((e.currentTarget as HTMLInputElement).value))}
        />
        <span class="range-ends" aria-hidden="true">
          <span>{Math.min(MIN_WALK_UP_MMHG, maxP)}</span>
          <span>
            {maxP} {t('unit.mmHg')}
          </span>
        </span>
      </label>
      <div class="field big-field">
        <span>{t('walkup.duration')}</span>
        <div class="durations" role="radiogroup" aria-label={t('walkup.duration')}>
          {durations.map((m) => (
            <button
              key={m}
              role="radio"
              aria-checked={m === duration}
              class={`btn btn-choice ${m === duration ? 'on' : ''}`}
              onClick={() => setDuration(m)}
            >
              {m} {t('unit.min')}
            </button>
          ))}
        </div>
      </div>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <button class="btn btn-go btn-large" disabled={busy || !program} onClick={() => void start()}>
        {t('walkup.start')}
      </button>
    </section>
  );
}

function Running({
  stationId,
  frame,
  live,
}: {
  stationId: string;
  frame: NonNullable<ReturnType<Live['frames']['get']>>;
  live: boolean;
}) {
  const paused = frame.state === 'paused';
  const act = (what: 'pause' | 'resume') =>
    void api('POST', `/api/stations/${encodeURIComponent(stationId)}/${what}`, {}).catch(() => undefined);
  return (
    <section class={`running ${live ? '' : 'stale'}`}>
      <div class="program-name">{frame.session?.programName}</div>
      <div class="time-left" data-testid="time-left">
        <span>{t('walkup.timeLeft')}</span>
        <strong>{live && frame.session ? clock(frame.session.remainingS) : '—'}</strong>
        {!live && <em>{t('value.notLive')}</em>}
      </div>
      {live && (
        <div class="adjust" data-testid="adjust">
          <Setpoint frame={frame} />
          <AdjustButtons frame={frame} stronger={false} large />
        </div>
      )}
      <ZoneBars zones={frame.zones} scaleMmHg={frame.ceilingMmHg} live={live} />
      <button class="btn btn-secondary btn-large" onClick={() => act(paused ? 'resume' : 'pause')}>
        {paused ? t('walkup.resume') : t('walkup.pause')}
      </button>
    </section>
  );
}
