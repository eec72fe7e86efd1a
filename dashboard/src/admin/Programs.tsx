/**
 * Programs: the list (built-in presets marked), copying a preset, editing every field of the
 * program schema with the schema's errors beside each field, a live preview on a chosen station
 * (POST /api/programs/preview runs the controller's own plan and sequencer there, and answers the
 * refusal a start would get), saving as a new version, older versions, and archiving.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { GarmentClass } from '../../../gateway/limits.js';
import { api, type Actor, type Program } from '../api.js';
import { usePoll } from '../components/poll.js';
import { t } from '../i18n/index.js';
import { canEditPrograms, type PreviewAnswer, type ProgramRecord } from './adminApi.js';
import { FieldError, useFieldErrors } from './fields.js';
import { ProgramForm, type Draft } from './ProgramForm.js';
import { LineChart, zoneColour, type LineSeries } from './LineChart.js';

const PREVIEW_DELAY_MS = 300;

interface Editing {
  draft: Draft;
  /** POST (a new id) or PUT (a new version of an existing program). */
  isNew: boolean;
  builtIn: boolean;
  /** Viewing an older version: read-only. */
  version?: number;
}

function draftOf(p: Program): Draft {
  const { version: _v, ...rest } = p;
  return structuredClone(rest) as Draft;
}

export function ProgramsPage({ actor }: { actor: Actor }) {
  const programs = usePoll(
    () => api<{ programs: ProgramRecord[] }>('GET', '/api/programs').then((r) => r.programs),
    0,
  );
  const [editing, setEditing] = useState<Editing | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const editable = canEditPrograms(actor.role);
  const ids = new Set((programs.value ?? []).map((r) => r.program.id));

  const copy = (r: ProgramRecord) => {
    let id = `${r.program.id}-copy`.slice(0, 48);
    for (let n = 2; ids.has(id); n++) id = `${r.program.id}-copy-${n}`.slice(0, 48);
    setMessage(null);
    setEditing({
      draft: {
        ...draftOf(r.program),
        id,
        name: t('programs.copyName', { name: r.program.name }).slice(0, 60),
      },
      isNew: true,
      builtIn: false,
    });
  };

  return (
    <div class="programs-page">
      <section class="card program-list">
        <h2>{t('programs.title')}</h2>
        {!editable && <p class="muted">{t('admin.readOnly')}</p>}
        {message && (
          <p class="ok-note" role="status">
            {message}
          </p>
        )}
        <ul>
          {(programs.value ?? []).map((r) => (
            <li key={r.program.id} data-program={r.program.id}>
              <div>
                <strong>{r.program.name}</strong>{' '}
                {r.builtIn && <span class="tag">{t('programs.builtIn')}</span>}
                <div class="muted">
                  {r.program.id} · v{r.program.version} · {t(`mode.${r.program.mode}`)} ·{' '}
                  {r.program.pressureMmHg} {t('unit.mmHg')} · {r.program.durationMin} {t('unit.min')}
                </div>
              </div>
              <div class="row">
                <button
                  class="btn btn-secondary"
                  onClick={() => {
                    setMessage(null);
                    setEditing({ draft: draftOf(r.program), isNew: false, builtIn: r.builtIn });
                  }}
                >
                  {editable ? t('programs.edit') : t('programs.view')}
                </button>
                {editable && (
                  <button class="btn btn-secondary" onClick={() => copy(r)}>
                    {t('programs.copy')}
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      </section>
      {editing && (
        <Editor
          key={`${editing.draft.id}-${editing.isNew}-${editing.version ?? 'latest'}`}
          editing={editing}
          editable={editable && editing.version === undefined}
          latestVersion={programs.value?.find((r) => r.program.id === editing.draft.id)?.program.version}
          onSaved={(p) => {
            programs.refresh();
            setMessage(t('programs.saved', { name: p.name, version: p.version }));
            setEditing({ draft: draftOf(p), isNew: false, builtIn: false });
          }}
          onArchived={(id) => {
            programs.refresh();
            setMessage(t('programs.archived', { id }));
            setEditing(null);
          }}
          onVersion={(p, version) =>
            setEditing({ draft: draftOf(p), isNew: false, builtIn: editing.builtIn, version })
          }
          onClose={() => setEditing(null)}
        />
      )}
    </div>
  );
}

function Editor({
  editing,
  editable,
  latestVersion,
  onSaved,
  onArchived,
  onVersion,
  onClose,
}: {
  editing: Editing;
  editable: boolean;
  latestVersion: number | undefined;
  onSaved: (p: Program) => void;
  onArchived: (id: string) => void;
  onVersion: (p: Program, version: number | undefined) => void;
  onClose: () => void;
}) {
  const [draft, setDraft] = useState<Draft>(editing.draft);
  const stations = usePoll(
    () =>
      api<{ stations: { id: string; name: string; garment: string }[] }>('GET', '/api/stations').then(
        (r) => r.stations,
      ),
    0,
  );
  const fitting = (stations.value ?? []).filter((s) =>
    ((draft.garments as string[] | undefined) ?? []).includes(s.garment),
  );
  const [stationId, setStationId] = useState<string>('');
  const station = fitting.find((s) => s.id === stationId) ?? fitting[0];
  const [answer, setAnswer] = useState<PreviewAnswer | null>(null);
  const [confirmArchive, setConfirmArchive] = useState(false);
  const errors = useFieldErrors();

  useEffect(() => {
    if (station === undefined) {
      setAnswer(null);
      return;
    }
    const timer = window.setTimeout(() => {
      api<PreviewAnswer>('POST', '/api/programs/preview', { program: draft, stationId: station.id }).then(
        setAnswer,
        errors.take,
      );
    }, PREVIEW_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [draft, station?.id]);

  // Schema problems from the preview, by field (`program.holdS` → `holdS`), shown in place.
  const problems: Record<string, string> = {};
  for (const p of answer?.problems ?? []) {
    const key = p.path.replace(/^program\.?/, '');
    problems[key] ??= p.problem;
  }
  for (const [field, message] of Object.entries(errors.byField)) {
    problems[field.replace(/^body\.?/, '')] ??= message;
  }

  const save = (e: Event) => {
    e.preventDefault();
    errors.clear();
    const call = editing.isNew
      ? api<{ program: Program }>('POST', '/api/programs', draft)
      : api<{ program: Program }>('PUT', `/api/programs/${encodeURIComponent(draft.id as string)}`, draft);
    call.then((r) => onSaved(r.program), errors.take);
  };

  const loadVersion = (v: number) =>
    void api<ProgramRecord>(
      'GET',
      `/api/programs/${encodeURIComponent(draft.id as string)}?version=${v}`,
    ).then((r) => onVersion(r.program, v === latestVersion ? undefined : v), errors.take);

  return (
    <section class="card program-editor" data-testid="program-editor">
      <div class="panel-head">
        <h2>
          {editing.isNew ? t('programs.new') : (draft.name as string)}{' '}
          {!editing.isNew && <small class="muted">v{editing.version ?? latestVersion}</small>}
        </h2>
        {!editing.isNew && latestVersion !== undefined && latestVersion > 1 && (
          <label class="field inline">
            <span>{t('programs.version')}</span>
            <select
              name="version"
              value={String(editing.version ?? latestVersion)}
              onChange={(e) => loadVersion(Number((e.currentTarget as HTMLSelectElement).value))}
            >
              {Array.from({ length: latestVersion }, (_, i) => latestVersion - i).map((v) => (
                <option key={v} value={v}>
                  v{v}
                </option>
              ))}
            </select>
          </label>
        )}
        <button class="btn btn-secondary" onClick={onClose}>
          {t('programs.close')}
        </button>
      </div>
      {editing.builtIn && editable && <p class="muted">{t('programs.builtInNote')}</p>}
      {editing.version !== undefined && <p class="muted">{t('programs.oldVersion')}</p>}
      <div class="editor-grid">
        <form class="admin-form" noValidate onSubmit={save}>
          <ProgramForm
            draft={draft}
            onChange={setDraft}
            problems={problems}
            idEditable={editing.isNew}
            disabled={!editable}
          />
          <FieldError errors={errors} field="" />
          {editable && (
            <div class="row">
              <button type="submit" class="btn btn-primary" disabled={(answer?.problems.length ?? 0) > 0}>
                {editing.isNew ? t('programs.create') : t('programs.saveVersion')}
              </button>
              {!editing.isNew &&
                (confirmArchive ? (
                  <>
                    <span>{t('programs.archiveConfirm')}</span>
                    <button
                      type="button"
                      class="btn btn-warn"
                      onClick={() =>
                        void api('DELETE', `/api/programs/${encodeURIComponent(draft.id as string)}`).then(
                          () => onArchived(draft.id as string),
                          errors.take,
                        )
                      }
                    >
                      {t('programs.archiveYes')}
                    </button>
                  </>
                ) : (
                  <button type="button" class="btn btn-secondary" onClick={() => setConfirmArchive(true)}>
                    {t('programs.archive')}
                  </button>
                ))}
            </div>
          )}
        </form>
        <div class="preview">
          <h3>{t('programs.preview')}</h3>
          <label class="field">
            <span>{t('programs.previewOn')}</span>
            <select
              name="preview-station"
              value={station?.id ?? ''}
              onChange={(e) => setStationId((e.currentTarget as HTMLSelectElement).value)}
            >
              {fitting.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} ({t(`garment.${s.garment as GarmentClass}`)})
                </option>
              ))}
            </select>
          </label>
          {station === undefined && <p class="muted">{t('programs.noStation')}</p>}
          {answer?.preview && <Preview answer={answer} />}
          {(answer?.problems.length ?? 0) > 0 && (
            <p class="muted" data-testid="preview-problems">
              {t('programs.fixProblems', { n: answer?.problems.length ?? 0 })}
            </p>
          )}
        </div>
      </div>
    </section>
  );
}

function Preview({ answer }: { answer: PreviewAnswer }) {
  const p = answer.preview;
  const series = useMemo<LineSeries[]>(
    () =>
      (p?.zones ?? []).map((values, i) => ({
        label: t('board.zone', { n: i + 1 }),
        values,
        colour: zoneColour(i + 1),
      })),
    [p],
  );
  if (!p) return null;
  const ceiling = answer.station?.ceilingMmHg ?? 100;
  const refused = p.plan.violations;
  return (
    <div data-testid="preview">
      <LineChart
        x={p.tS}
        series={series}
        xLabel={t('programs.seconds')}
        yLabel={t('unit.mmHg')}
        yMax={Math.max(ceiling, ...p.plan.zones.map((z) => z.targetMmHg)) + 10}
        testId="preview-chart"
      />
      <p data-testid="preview-targets">
        {t('programs.targets')}:{' '}
        {p.plan.zones.map((z) => (z.skipped ? '—' : String(z.targetMmHg))).join(' · ')} {t('unit.mmHg')}
        {p.cycleS !== null && ` · ${t('programs.cycle', { s: Math.round(p.cycleS) })}`}
      </p>
      <p class="muted">{t('programs.previewNote', { ceiling, fill: p.assumedFillS })}</p>
      {refused.length > 0 ? (
        <div class="refused" role="alert" data-testid="preview-refused">
          <strong>{t('programs.wouldRefuse')}</strong>
          <ul>
            {refused.map((v, i) => (
              <li key={i}>{v.reason}</li>
            ))}
          </ul>
        </div>
      ) : (
        <p class="ok-note" data-testid="preview-ok">
          {t('programs.wouldStart')}
        </p>
      )}
    </div>
  );
}
