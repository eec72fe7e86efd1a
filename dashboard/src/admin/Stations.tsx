/**
 * Stations: per station, walk-up use on or off, the programs offered for it, the walk-up maximum
 * pressure and length, and the station's own ceiling, each with the range the server allows on
 * that station (GET /api/stations/:id/settings); the QR sheet for its walk-up page. Staff and admin
 * change them; the other roles read them.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, type Actor } from '../api.js';
import { usePoll } from '../components/poll.js';
import { t } from '../i18n/index.js';
import { QrSheet } from '../staff/QrSheet.js';
import {
  canEditStations,
  type ProgramRecord,
  type SettingRanges,
  type StationSettingsView,
} from './adminApi.js';
import { FieldError, NumberField, useFieldErrors } from './fields.js';

interface StationRow {
  id: string;
  name: string;
  garment: string;
  ceilingMmHg: number;
}

export function StationsPage({ actor }: { actor: Actor }) {
  const stations = usePoll(
    () => api<{ stations: StationRow[] }>('GET', '/api/stations').then((r) => r.stations),
    0,
  );
  const programs = usePoll(
    () => api<{ programs: ProgramRecord[] }>('GET', '/api/programs').then((r) => r.programs),
    0,
  );
  const [qrFor, setQrFor] = useState<StationRow | null>(null);
  const editable = canEditStations(actor.role);
  return (
    <div class="station-settings">
      {!editable && <p class="muted">{t('admin.readOnly')}</p>}
      {stations.error && <p class="form-error">{stations.error}</p>}
      {(stations.value ?? []).map((s) => (
        <StationCard
          key={s.id}
          station={s}
          programs={(programs.value ?? []).filter((p) =>
            (p.program.garments as string[]).includes(s.garment),
          )}
          editable={editable}
          onQr={() => setQrFor(s)}
        />
      ))}
      {qrFor && <QrSheet stations={[{ id: qrFor.id, name: qrFor.name }]} onClose={() => setQrFor(null)} />}
    </div>
  );
}

function StationCard({
  station,
  programs,
  editable,
  onQr,
}: {
  station: StationRow;
  programs: ProgramRecord[];
  editable: boolean;
  onQr: () => void;
}) {
  const [form, setForm] = useState<StationSettingsView | null>(null);
  const [ranges, setRanges] = useState<SettingRanges | null>(null);
  const [saved, setSaved] = useState(false);
  const errors = useFieldErrors();
  const load = () =>
    void api<{ settings: StationSettingsView; ranges: SettingRanges }>(
      'GET',
      `/api/stations/${encodeURIComponent(station.id)}/settings`,
    ).then((r) => {
      setForm(r.settings);
      setRanges(r.ranges);
    }, errors.take);
  useEffect(load, [station.id]);
  if (form === null || ranges === null) {
    return (
      <section class="card">
        <h2>{station.name}</h2>
        <FieldError errors={errors} field="" />
      </section>
    );
  }
  const set = (patch: Partial<StationSettingsView>) => {
    setSaved(false);
    setForm({ ...form, ...patch });
  };
  const save = (e: Event) => {
    e.preventDefault();
    errors.clear();
    const { stationId: _id, ...body } = form;
    api('PUT', `/api/stations/${encodeURIComponent(station.id)}/settings`, body).then(() => {
      setSaved(true);
      load();
    }, errors.take);
  };
  const num = (v: string) => (v.trim() === '' ? undefined : Number(v));
  return (
    <section class="card" data-station-settings={station.id}>
      <form class="admin-form" noValidate onSubmit={save}>
        <h2>
          {station.name} <small class="muted">{station.id}</small>
        </h2>
        <fieldset disabled={!editable} class="plain">
          <label class="check">
            <input
              type="checkbox"
              name="walkUpEnabled"
              checked={form.walkUpEnabled}
              onChange={(e) => set({ walkUpEnabled: (e.currentTarget as HTMLInputElement).checked })}
            />
            <span>{t('stations.walkUp')}</span>
          </label>
          <fieldset class="field">
            <legend>{t('stations.programs')}</legend>
            <div class="check-list">
              {programs.map((p) => (
                <label class="check" key={p.program.id}>
                  <input
                    type="checkbox"
                    name={`program-${p.program.id}`}
                    checked={form.walkUpPrograms.includes(p.program.id)}
                    onChange={(e) =>
                      set({
                        walkUpPrograms: (e.currentTarget as HTMLInputElement).checked
                          ? [...form.walkUpPrograms, p.program.id]
                          : form.walkUpPrograms.filter((x) => x !== p.program.id),
                      })
                    }
                  />
                  <span>{p.program.name}</span>
                </label>
              ))}
            </div>
            <FieldError errors={errors} field="body.walkUpPrograms" />
          </fieldset>
          <NumberField
            name="walkUpMaxPressureMmHg"
            label={t('stations.maxPressure')}
            unit={t('unit.mmHg')}
            value={form.walkUpMaxPressureMmHg}
            range={ranges.walkUpMaxPressureMmHg}
            onValue={(v) => set({ walkUpMaxPressureMmHg: v ?? 0 })}
            errors={errors}
          />
          <NumberField
            name="walkUpMaxDurationMin"
            label={t('stations.maxDuration')}
            unit={t('unit.min')}
            value={form.walkUpMaxDurationMin}
            range={ranges.walkUpMaxDurationMin}
            onValue={(v) => set({ walkUpMaxDurationMin: v ?? 0 })}
            errors={errors}
          />
          <NumberField
            name="ceilingMmHg"
            label={t('stations.ceiling')}
            unit={t('unit.mmHg')}
            value={form.ceilingMmHg}
            range={ranges.ceilingMmHg}
            hint={t('stations.ceilingHint', { board: ranges.ceilingMmHg.max })}
            onValue={(v) => {
              const { ceilingMmHg: _c, ...rest } = form;
              setSaved(false);
              setForm(v === undefined ? rest : { ...rest, ceilingMmHg: v });
            }}
            parse={num}
            errors={errors}
          />
        </fieldset>
        <FieldError errors={errors} field="" />
        <div class="row">
          {editable && (
            <button type="submit" class="btn btn-primary">
              {t('stations.save')}
            </button>
          )}
          <button type="button" class="btn btn-secondary" onClick={onQr}>
            {t('stations.qr')}
          </button>
          <a class="btn btn-secondary" href={`/station/${encodeURIComponent(station.id)}`}>
            {t('stations.openWalkUp')}
          </a>
          {saved && (
            <span role="status" class="ok-note">
              {t('stations.saved')}
            </span>
          )}
        </div>
      </form>
    </section>
  );
}
