import { useEffect, useMemo, useState } from 'preact/hooks';
import { PROGRAM_BOUNDS } from '../../../gateway/control-loop/programs/bounds.js';
import { highestBaseMmHg, peakTargetMmHg } from '../../../gateway/control-loop/programs/profile.js';
import { effectiveCeiling, highestTargetMmHg, LIMITS } from '../../../gateway/limits.js';
import {
  api,
  ApiError,
  type CeilingView,
  type ClientSummary,
  type LiveFrame,
  type Program,
  type ScreeningQuestion,
  type StationView,
} from '../api.js';
import { ConsentBox } from '../components/ConsentBox.js';
import { usePoll } from '../components/hooks.js';
import { Modal } from '../components/Modal.js';
import { t } from '../i18n/index.js';
import { Screening } from '../walkup/Screening.js';

/** Search as the staff member types, but not on every key. */
const SEARCH_DELAY_MS = 200;

/**
 * The client part of the start: a search of the client records by name (staff and admin may read
 * them; for other roles it stays a plain name field), "new client" with the consent recorded, and
 * the health questions when the client's screening is due. Picking a record sends its id, so the
 * server applies the client's own ceiling.
 */
function useClientSearch(text: string, picked: ClientSummary | null) {
  const [matches, setMatches] = useState<ClientSummary[]>([]);
  const [consentVersion, setConsentVersion] = useState<string | null>(null);
  useEffect(() => {
    if (picked !== null || text.trim().length < 2) {
      setMatches([]);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      api<{ clients: ClientSummary[]; consentTextVersion: string }>(
        'GET',
        `/api/clients?q=${encodeURIComponent(text.trim())}`,
      ).then(
        (r) => {
          if (!live) return;
          setMatches(r.clients);
          setConsentVersion(r.consentTextVersion);
        },
        // A role without client records (support) types a name for this session only.
        () => live && setMatches([]),
      );
    }, SEARCH_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [text, picked]);
  return { matches, consentVersion };
}

/**
 * Staff start: client, program, pressure, duration, zones to skip, with the limits shown, then a
 * confirmation step (starting and raising pressure need one; stopping never does). It never offers
 * what the controller would refuse: the effective ceiling of a start here (the board's and the
 * one staff set, from GET /api/stations/:id) bounds the pressure slider so that the program's
 * highest zone stays under it, and a preset whose highest zone is above it at its own pressure
 * is shown disabled with the reason (gateway/limits.ts, programs/profile.ts).
 */
export function StartDialog({
  station,
  programs,
  onClose,
}: {
  station: LiveFrame;
  programs: Program[];
  onClose: (started: boolean) => void;
}) {
  const offered = useMemo(
    () => programs.filter((p) => p.garments.includes(station.garment)),
    [programs, station],
  );
  const [client, setClient] = useState('');
  const [picked, setPicked] = useState<ClientSummary | null>(null);
  const [consent, setConsent] = useState(false);
  const [questions, setQuestions] = useState<ScreeningQuestion[]>([]);
  const [asking, setAsking] = useState(false);
  const [answers, setAnswers] = useState<Record<string, boolean> | null>(null);
  const { matches, consentVersion } = useClientSearch(client, picked);
  const view = usePoll(() => api<StationView>('GET', `/api/stations/${encodeURIComponent(station.id)}`), 0, [
    station.id,
  ]);
  // Until the view arrives, the board's ceiling alone (the controller still refuses the rest).
  const stationCeiling: CeilingView = view.value?.startCeiling ?? {
    ...effectiveCeiling({ boardMmHg: station.ceilingMmHg }),
    highestTargetMmHg: highestTargetMmHg(station.ceilingMmHg),
  };
  // A client record's own limit lowers it further (the server applies the same rule, limits.ts).
  const ceiling: CeilingView =
    picked?.ceilingMmHg !== undefined && picked.ceilingMmHg < stationCeiling.ceilingMmHg
      ? {
          ceilingMmHg: picked.ceilingMmHg,
          source: 'client',
          highestTargetMmHg: highestTargetMmHg(picked.ceilingMmHg),
        }
      : stationCeiling;
  const zoneCount = station.zones.length;
  const tooHigh = (p: Program) => peakTargetMmHg(p, zoneCount, p.pressureMmHg) > ceiling.highestTargetMmHg;
  const [programId, setProgramId] = useState(offered.find((p) => !tooHigh(p))?.id ?? '');
  // A choice made before the station's own ceiling arrived may no longer fit: take the first that does.
  const program = offered.find((p) => p.id === programId && !tooHigh(p)) ?? offered.find((p) => !tooHigh(p));
  const minPressure = PROGRAM_BOUNDS.pressureMmHg.min;
  // Skipping zones only lowers the highest zone, so the bound without skips holds for any.
  const maxFor = (p: Program | undefined) =>
    Math.max(
      minPressure,
      p ? highestBaseMmHg(p, zoneCount, ceiling.highestTargetMmHg) : ceiling.highestTargetMmHg,
    );
  const maxPressure = maxFor(program);
  const maxMin = LIMITS.sessionMaxMin.default;
  const [chosen, setPressure] = useState(Math.min(program?.pressureMmHg ?? minPressure, maxPressure));
  // Within the bound even when the bound came down after the choice (the view arrived late).
  const pressure = Math.min(chosen, maxPressure);
  const [duration, setDuration] = useState(Math.min(program?.durationMin ?? 20, maxMin));
  const [skip, setSkip] = useState<number[]>([]);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const pickProgram = (id: string) => {
    setProgramId(id);
    const p = offered.find((x) => x.id === id);
    if (p) {
      setPressure(Math.min(p.pressureMmHg, maxFor(p)));
      setDuration(Math.min(p.durationMin, maxMin));
    }
  };

  const pick = (c: ClientSummary) => {
    setPicked(c);
    setClient(c.name);
    setAnswers(null);
    const preferred = offered.find((p) => p.id === c.preferredProgramId);
    // The pressure follows the client's limit by itself: it is kept under maxPressure.
    if (preferred) pickProgram(preferred.id);
  };

  const createClient = async () => {
    setError(null);
    try {
      pick(
        await api<ClientSummary>('POST', '/api/clients', {
          name: client.trim(),
          consentTextVersion: consentVersion ?? '1',
        }),
      );
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };

  const askScreening = async () => {
    const r = await api<{ questions: ScreeningQuestion[] }>('GET', '/api/screening');
    setQuestions(r.questions);
    setAsking(true);
  };

  // The server refuses such a start anyway (and keeps the answer on the record); saying so here
  // spares the client the confirmation step.
  const blocked = answers !== null && questions.some((q) => q.absolute && answers[q.id] === true);
  const needsAnswers = picked?.screeningDue === true && answers === null;

  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      await api('POST', `/api/stations/${encodeURIComponent(station.id)}/start`, {
        programId: program?.id,
        pressureMmHg: pressure,
        durationMin: duration,
        ...(skip.length > 0 ? { skipZones: skip } : {}),
        ...(picked !== null
          ? { clientId: picked.id, ...(answers !== null ? { screening: answers } : {}) }
          : client.trim() !== ''
            ? { client: client.trim() }
            : {}),
      });
      onClose(true);
    } catch (e) {
      setError(t('start.failed', { message: e instanceof ApiError ? e.message : String(e) }));
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  };

  if (asking) {
    return (
      <Modal title={t('start.title', { name: station.name })} wide>
        <Screening
          questions={questions}
          onDone={(a) => {
            setAnswers(a);
            setAsking(false);
          }}
        />
      </Modal>
    );
  }

  if (confirming && program) {
    return (
      <Modal title={t('start.confirmTitle')}>
        <p class="confirm-text" data-testid="start-confirm-text">
          {t('start.confirmText', {
            program: program.name,
            station: station.name,
            client: picked?.name ?? (client.trim() || '—'),
            pressure,
            duration,
            skip: skip.length > 0 ? skip.join(', ') : t('start.none'),
          })}
        </p>
        {pressure > program.pressureMmHg && (
          <p class="caution" data-testid="start-raised">
            {t('start.raised', { pressure, program: program.pressureMmHg })}
          </p>
        )}
        <div class="modal-actions">
          <button class="btn btn-secondary" onClick={() => setConfirming(false)}>
            {t('start.back')}
          </button>
          <button class="btn btn-go" disabled={busy} onClick={() => void start()}>
            {t('start.confirm')}
          </button>
        </div>
      </Modal>
    );
  }

  return (
    <Modal title={t('start.title', { name: station.name })} wide>
      <form
        class="start-form"
        onSubmit={(e) => {
          e.preventDefault();
          setConfirming(true);
        }}
      >
        <label class="field">
          <span>{t('start.client')}</span>
          <input
            name="client"
            maxLength={80}
            value={client}
            autocomplete="off"
            placeholder={t('start.clientHint')}
            readOnly={picked !== null}
            onInput={(e) => setClient((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        {picked === null && client.trim().length >= 2 && consentVersion !== null && (
          <div class="client-matches" data-testid="client-matches">
            {matches.map((c) => (
              <button
                type="button"
                key={c.id}
                class="btn btn-choice"
                data-testid="client-match"
                onClick={() => pick(c)}
              >
                {c.name}
              </button>
            ))}
            {!matches.some((c) => c.name.toLocaleLowerCase() === client.trim().toLocaleLowerCase()) && (
              <span class="client-new">
                <ConsentBox checked={consent} version={consentVersion} onChange={setConsent} />
                <button
                  type="button"
                  class="btn btn-secondary"
                  data-testid="client-new"
                  disabled={!consent}
                  onClick={() => void createClient()}
                >
                  {t('start.newClient', { name: client.trim() })}
                </button>
              </span>
            )}
          </div>
        )}
        {picked !== null && (
          <div class="client-picked" data-testid="client-picked">
            <span>{t('start.clientRecord', { name: picked.name })}</span>
            {picked.ceilingMmHg !== undefined && (
              <span> · {t('start.clientCeiling', { ceiling: picked.ceilingMmHg })}</span>
            )}{' '}
            <button
              type="button"
              class="btn btn-secondary"
              onClick={() => {
                setPicked(null);
                setAnswers(null);
                setClient('');
              }}
            >
              {t('start.unpick')}
            </button>
            {picked.screeningDue && answers === null && (
              <p class="caution" data-testid="screening-due">
                {t('start.screeningDue', { reason: picked.screeningDueReason ?? '' })}{' '}
                <button type="button" class="btn btn-primary" onClick={() => void askScreening()}>
                  {t('start.askScreening')}
                </button>
              </p>
            )}
            {answers !== null && !blocked && <p data-testid="screening-done">{t('start.screeningDone')}</p>}
            {blocked && (
              <p class="form-error" role="alert" data-testid="screening-blocked">
                {t('start.screeningBlocked')}
              </p>
            )}
          </div>
        )}
        <label class="field">
          <span>{t('start.program')}</span>
          <select
            name="program"
            value={program?.id ?? ''}
            onChange={(e) => pickProgram((e.currentTarget as HTMLSelectElement).value)}
          >
            {offered.map((p) =>
              tooHigh(p) ? (
                <option key={p.id} value={p.id} disabled data-reason="above-ceiling">
                  {t('start.aboveCeiling', {
                    name: p.name,
                    peak: peakTargetMmHg(p, zoneCount, p.pressureMmHg),
                    max: ceiling.highestTargetMmHg,
                  })}
                </option>
              ) : (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ),
            )}
          </select>
        </label>
        <label class="field">
          <span>
            {t('start.pressure')}: <output name="pressure-value">{pressure}</output> {t('unit.mmHg')}
          </span>
          <input
            name="pressure"
            type="range"
            min={minPressure}
            max={maxPressure}
            step={1}
            value={pressure}
            onInput={(e) => setPressure(Number((e.currentTarget as HTMLInputElement).value))}
          />
        </label>
        <label class="field">
          <span>
            {t('start.duration')} ({t('unit.min')})
          </span>
          <input
            name="duration"
            type="number"
            min={1}
            max={maxMin}
            value={duration}
            onInput={(e) =>
              setDuration(
                Math.max(1, Math.min(maxMin, Number((e.currentTarget as HTMLInputElement).value) || 1)),
              )
            }
          />
        </label>
        <fieldset class="field">
          <legend>{t('start.skip')}</legend>
          <div class="zone-toggles">
            {station.zones.map((z) => {
              const on = skip.includes(z.zone);
              return (
                <button
                  type="button"
                  key={z.zone}
                  class={`btn btn-toggle ${on ? 'on' : ''}`}
                  aria-pressed={on}
                  onClick={() =>
                    setSkip(on ? skip.filter((n) => n !== z.zone) : [...skip, z.zone].sort((a, b) => a - b))
                  }
                >
                  {z.zone}
                </button>
              );
            })}
          </div>
        </fieldset>
        <p class="limits" data-testid="start-limits">
          {t('start.limits', {
            min: minPressure,
            max: maxPressure,
            ceiling: ceiling.ceilingMmHg,
            source: t(`ceiling.${ceiling.source}`),
            maxMin,
          })}
        </p>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <div class="modal-actions">
          <button type="button" class="btn btn-secondary" onClick={() => onClose(false)}>
            {t('start.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={!program || needsAnswers || blocked}>
            {t('start.next')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
