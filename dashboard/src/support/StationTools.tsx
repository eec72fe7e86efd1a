import { useState } from 'preact/hooks';
import { SIM_FAULT_KINDS } from '../../../gateway/sim/faults.js';
import { api, ApiError, type SelfTestResult } from '../api.js';
import { Modal } from '../components/Modal.js';
import { t } from '../i18n/index.js';

const SELF_TESTS = ['valve-click', 'sensor-zero', 'leak'] as const;

/** The simulator's fault injection for one station (a simulated board only). */
export function FaultPanel({ stationId, zones }: { stationId: string; zones: number }) {
  const [kind, setKind] = useState<string>(SIM_FAULT_KINDS[0]?.kind ?? 'leak');
  const [zone, setZone] = useState(1);
  const [active, setActive] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const info = SIM_FAULT_KINDS.find((f) => f.kind === kind);
  const needsZone = info?.scope === 'zone' || info?.scope === 'zone-or-station';
  const base = `/api/sim/stations/${encodeURIComponent(stationId)}/faults`;
  const run = (p: Promise<{ active: string[] }>) =>
    p.then(
      (r) => {
        setActive(r.active);
        setError(null);
      },
      (e: unknown) =>
        setError(t('support.error', { message: e instanceof ApiError ? e.message : String(e) })),
    );
  return (
    <div class="fault-panel" data-testid="fault-panel">
      <h3>{t('support.faults')}</h3>
      <div class="row">
        <label class="field">
          <span>{t('support.fault')}</span>
          <select
            name="fault"
            value={kind}
            onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value)}
          >
            {SIM_FAULT_KINDS.map((f) => (
              <option key={f.kind} value={f.kind} title={f.description}>
                {f.kind}
              </option>
            ))}
          </select>
        </label>
        {needsZone && (
          <label class="field">
            <span>{t('support.zone')}</span>
            <select
              name="zone"
              value={zone}
              onChange={(e) => setZone(Number((e.currentTarget as HTMLSelectElement).value))}
            >
              {Array.from({ length: zones }, (_, i) => i + 1).map((z) => (
                <option key={z} value={z}>
                  {z}
                </option>
              ))}
            </select>
          </label>
        )}
        <button
          class="btn btn-warn"
          onClick={() => void run(api('POST', base, { kind, ...(needsZone ? { zone } : {}) }))}
        >
          {t('support.inject')}
        </button>
        <button
          class="btn btn-secondary"
          onClick={() =>
            // A station's clear leaves the board-wide emergency stop pressed (gateway/sim/world.ts).
            void run(
              api('DELETE', base).then(() => api<{ active: string[] }>('DELETE', `${base}?kind=estop`)),
            )
          }
        >
          {t('support.clearFaults')}
        </button>
      </div>
      {info && <p class="muted">{info.description}</p>}
      {active !== null && (
        <p data-testid="active-faults">
          {t('support.activeFaults', { list: active.length > 0 ? active.join(', ') : '—' })}
        </p>
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** The self-tests of one station, each confirmed first (a self-test inflates the garment). */
export function SelfTests({
  stationId,
  stationName,
  onDone,
}: {
  stationId: string;
  stationName: string;
  onDone: () => void;
}) {
  const [confirm, setConfirm] = useState<(typeof SELF_TESTS)[number] | null>(null);
  const [running, setRunning] = useState<string | null>(null);
  const [result, setResult] = useState<SelfTestResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = (kind: (typeof SELF_TESTS)[number]) => {
    setConfirm(null);
    setRunning(kind);
    setError(null);
    api<SelfTestResult>('POST', `/api/stations/${encodeURIComponent(stationId)}/self-test`, { kind })
      .then(
        (r) => {
          setResult(r);
          onDone();
        },
        (e: unknown) =>
          setError(t('support.error', { message: e instanceof ApiError ? e.message : String(e) })),
      )
      .finally(() => setRunning(null));
  };
  return (
    <div class="self-tests">
      <h3>{t('support.selfTests')}</h3>
      <div class="row">
        {SELF_TESTS.map((k) => (
          <button key={k} class="btn btn-secondary" disabled={running !== null} onClick={() => setConfirm(k)}>
            {running === k ? t('support.running') : t('support.run', { kind: k })}
          </button>
        ))}
      </div>
      {result && (
        <div class={`self-test-result ${result.ok ? 'ok' : 'bad'}`}>
          <strong>
            {result.kind}: {result.ok ? '✓' : '✗'}
          </strong>
          <ul>
            {result.details.map((d, i) => (
              <li key={i}>{d}</li>
            ))}
          </ul>
        </div>
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {confirm !== null && (
        <Modal title={t('support.selfTests')}>
          <p>{t('support.confirmSelfTest', { kind: confirm, station: stationName })}</p>
          <div class="modal-actions">
            <button class="btn btn-secondary" onClick={() => setConfirm(null)}>
              {t('support.cancel')}
            </button>
            <button class="btn btn-primary" onClick={() => run(confirm)}>
              {t('support.yes')}
            </button>
          </div>
        </Modal>
      )}
    </div>
  );
}
