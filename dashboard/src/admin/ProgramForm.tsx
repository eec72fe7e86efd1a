/**
 * Every field of the program schema (gateway/control-loop/programs/schema.ts) as a form, ranges
 * from bounds.ts. The draft is kept as typed in (an empty optional field is left out) so the
 * server's checks, not this form, decide what is valid; their messages appear beside the field.
 */
import { PROGRAM_BOUNDS, type ProgramBound } from '../../../gateway/control-loop/programs/bounds.js';
import { GARMENT_CLASSES } from '../../../gateway/limits.js';
import { t } from '../i18n/index.js';
import { MODES } from './adminApi.js';
import { NumberField } from './fields.js';

/** A program as being edited: the schema's fields without `version`, any of them possibly wrong. */
export type Draft = Record<string, unknown>;

const B = PROGRAM_BOUNDS;

/** "1, 3" → [1, 3]; "" → undefined; a part that is not a number stays as text for the server to name. */
function parseList(text: string): unknown[] | undefined {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0) return undefined;
  return parts.map((s) => (Number.isFinite(Number(s)) ? Number(s) : s));
}

/** "2:10, 4:5" ↔ [{zone: 2, extraMmHg: 10}, …]. */
function parseBoosts(text: string): unknown[] | undefined {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0) return undefined;
  return parts.map((p) => {
    const [zone, extra] = p.split(':').map((x) => Number(x.trim()));
    return { zone, extraMmHg: extra };
  });
}

export function ProgramForm({
  draft,
  onChange,
  problems,
  idEditable,
  disabled,
}: {
  draft: Draft;
  onChange: (d: Draft) => void;
  problems: Record<string, string>;
  idEditable: boolean;
  disabled: boolean;
}) {
  const set = (key: string, value: unknown) => {
    const next = { ...draft };
    if (value === undefined) delete next[key];
    else next[key] = value;
    onChange(next);
  };
  const setIn = (group: 'pulse' | 'lymphatic', key: string, value: number | undefined) => {
    const current = { ...((draft[group] as Record<string, unknown> | undefined) ?? {}) };
    if (value === undefined) delete current[key];
    else current[key] = value;
    set(group, Object.keys(current).length === 0 ? undefined : current);
  };
  const problem = (field: string) => {
    const own = Object.entries(problems).filter(
      ([k]) => k === field || k.startsWith(`${field}[`) || k.startsWith(`${field}.`),
    );
    return own.length === 0 ? null : (
      <p class="form-error" role="alert" data-field={field}>
        {own.map(([, m]) => m).join('; ')}
      </p>
    );
  };
  const text = (key: string, label: string, opts: { maxLength?: number; readOnly?: boolean } = {}) => (
    <label class="field">
      <span>{label}</span>
      <input
        name={key}
        value={(draft[key] as string | undefined) ?? ''}
        maxLength={opts.maxLength}
        readOnly={opts.readOnly}
        onInput={(e) => {
          const v = (e.currentTarget as HTMLInputElement).value;
          set(key, v === '' && key === 'description' ? undefined : v);
        }}
      />
      {problem(key)}
    </label>
  );
  const number = (
    key: string,
    label: string,
    bound: ProgramBound,
    value: unknown,
    onValue: (v: number | undefined) => void,
    field = key,
    step: number | 'any' = 'any',
  ) => (
    <NumberField
      name={field}
      label={label}
      unit={bound.unit}
      value={value}
      range={bound}
      step={step}
      onValue={onValue}
    >
      {problem(field)}
    </NumberField>
  );
  const top = (key: string, label: string, bound: ProgramBound, step: number | 'any' = 'any') =>
    number(key, label, bound, draft[key], (v) => set(key, v), key, step);
  const mode = draft.mode as string | undefined;
  const pulse = (draft.pulse as Record<string, unknown> | undefined) ?? {};
  const lymphatic = (draft.lymphatic as Record<string, unknown> | undefined) ?? {};
  const garments = (draft.garments as string[] | undefined) ?? [];
  const listText = (v: unknown) => (Array.isArray(v) ? v.join(', ') : '');
  const boostText = (v: unknown) =>
    Array.isArray(v)
      ? (v as { zone?: unknown; extraMmHg?: unknown }[])
          .map((b) => `${String(b.zone)}:${String(b.extraMmHg)}`)
          .join(', ')
      : '';

  return (
    <fieldset class="plain program-form" disabled={disabled}>
      {text('id', t('programs.f.id'), { maxLength: 48, readOnly: !idEditable })}
      {text('name', t('programs.f.name'), { maxLength: 60 })}
      {text('description', t('programs.f.description'), { maxLength: 500 })}
      <fieldset class="field">
        <legend>{t('programs.f.garments')}</legend>
        <div class="check-list">
          {GARMENT_CLASSES.map((g) => (
            <label class="check" key={g}>
              <input
                type="checkbox"
                name={`garment-${g}`}
                checked={garments.includes(g)}
                onChange={(e) =>
                  set(
                    'garments',
                    (e.currentTarget as HTMLInputElement).checked
                      ? [...garments, g]
                      : garments.filter((x) => x !== g),
                  )
                }
              />
              <span>{t(`garment.${g}`)}</span>
            </label>
          ))}
        </div>
        {problem('garments')}
      </fieldset>
      <label class="field">
        <span>{t('programs.f.mode')}</span>
        <select
          name="mode"
          value={mode ?? ''}
          onChange={(e) => set('mode', (e.currentTarget as HTMLSelectElement).value)}
        >
          {MODES.map((m) => (
            <option key={m} value={m}>
              {t(`mode.${m}`)}
            </option>
          ))}
        </select>
        <small class="muted">
          {mode && (MODES as readonly string[]).includes(mode)
            ? t(`modeHint.${mode as (typeof MODES)[number]}`)
            : ''}
        </small>
        {problem('mode')}
      </label>
      <div class="form-cols">
        {top('pressureMmHg', t('programs.f.pressure'), B.pressureMmHg, 1)}
        {top('gradientStepMmHg', t('programs.f.gradient'), B.gradientStepMmHg)}
      </div>
      <label class="field">
        <span>{t('programs.f.offsets')} (mmHg)</span>
        <input
          name="zoneOffsetsMmHg"
          value={listText(draft.zoneOffsetsMmHg)}
          placeholder="0, -5, 5"
          onChange={(e) => set('zoneOffsetsMmHg', parseList((e.currentTarget as HTMLInputElement).value))}
        />
        <small class="muted">
          {t('programs.f.offsetsHint', { min: B.zoneOffsetMmHg.min, max: B.zoneOffsetMmHg.max })}
        </small>
        {problem('zoneOffsetsMmHg')}
      </label>
      <div class="form-cols">
        <label class="field">
          <span>{t('programs.f.skip')}</span>
          <input
            name="skipZones"
            value={listText(draft.skipZones)}
            placeholder="2, 4"
            onChange={(e) => set('skipZones', parseList((e.currentTarget as HTMLInputElement).value))}
          />
          {problem('skipZones')}
        </label>
        <label class="field">
          <span>{t('programs.f.boosts')}</span>
          <input
            name="boostZones"
            value={boostText(draft.boostZones)}
            placeholder="2:10"
            onChange={(e) => set('boostZones', parseBoosts((e.currentTarget as HTMLInputElement).value))}
          />
          <small class="muted">
            {t('programs.f.boostsHint', { min: B.boostMmHg.min, max: B.boostMmHg.max })}
          </small>
          {problem('boostZones')}
        </label>
      </div>
      <div class="form-cols">
        {top('inflateMaxS', t('programs.f.inflateMax'), B.inflateMaxS)}
        {top('holdS', t('programs.f.hold'), B.holdS)}
        {top('releaseS', t('programs.f.release'), B.releaseS)}
        {top('restS', t('programs.f.rest'), B.restS)}
      </div>
      {(mode === 'wave' || draft.overlapS !== undefined) &&
        top('overlapS', t('programs.f.overlap'), B.overlapS)}
      {(mode === 'pulse' || draft.pulse !== undefined) && (
        <div class="form-cols">
          {number(
            'pulse.holdFraction',
            t('programs.f.pulseHold'),
            B.pulseHoldFraction,
            pulse.holdFraction,
            (v) => setIn('pulse', 'holdFraction', v),
          )}
          {number('pulse.peakS', t('programs.f.pulsePeak'), B.pulsePeakS, pulse.peakS, (v) =>
            setIn('pulse', 'peakS', v),
          )}
        </div>
      )}
      {(mode === 'lymphatic' || draft.lymphatic !== undefined) && (
        <div class="form-cols">
          {number(
            'lymphatic.preClearZones',
            t('programs.f.preClearZones'),
            B.preClearZones,
            lymphatic.preClearZones,
            (v) => setIn('lymphatic', 'preClearZones', v),
            'lymphatic.preClearZones',
            1,
          )}
          {number(
            'lymphatic.preClearHoldS',
            t('programs.f.preClearHold'),
            B.preClearHoldS,
            lymphatic.preClearHoldS,
            (v) => setIn('lymphatic', 'preClearHoldS', v),
          )}
        </div>
      )}
      <div class="form-cols">
        {top('rampUpCycles', t('programs.f.rampCycles'), B.rampUpCycles, 1)}
        {top('rampStartFraction', t('programs.f.rampStart'), B.rampStartFraction)}
        {top('durationMin', t('programs.f.duration'), B.durationMin, 1)}
      </div>
      {problem('')}
    </fieldset>
  );
}
