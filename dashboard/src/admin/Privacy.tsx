/**
 * The data-protection pages (docs/privacy.md): Clients (staff, admin: find, add, export, erase),
 * Privacy (admin: retention, screening age, consent text version) and Notifications (admin: the
 * channels, a test message per channel, and whether each one delivers).
 */
import { useState } from 'preact/hooks';
import { api, type ClientSummary } from '../api.js';
import { ConsentBox } from '../components/ConsentBox.js';
import { usePoll } from '../components/poll.js';
import { TextField } from '../components/TextField.js';
import { t } from '../i18n/index.js';
import { FieldError, useFieldErrors } from './fields.js';
import type { ChannelStatus, ChannelView, PrivacySettings } from './adminApi.js';

export function ClientsPage() {
  const [q, setQ] = useState('');
  const list = usePoll(
    () =>
      api<{ clients: ClientSummary[]; consentTextVersion: string }>(
        'GET',
        `/api/clients${q.trim() ? `?q=${encodeURIComponent(q.trim())}` : ''}`,
      ),
    0,
    [q],
  );
  const [erased, setErased] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [ceiling, setCeiling] = useState('');
  const [consent, setConsent] = useState(false);
  const errors = useFieldErrors();

  const create = (e: Event) => {
    e.preventDefault();
    errors.clear();
    api('POST', '/api/clients', {
      name: name.trim(),
      ...(ceiling.trim() ? { ceilingMmHg: Number(ceiling) } : {}),
      consentTextVersion: list.value?.consentTextVersion ?? '1',
    }).then(() => {
      setName('');
      setCeiling('');
      setConsent(false);
      list.refresh();
    }, errors.take);
  };

  return (
    <div class="admin-grid">
      <section class="card">
        <h2>{t('clients.title')}</h2>
        <TextField label={t('clients.search')} name="q" value={q} onValue={setQ} />
        {erased && (
          <p class="ok-note" role="status" data-testid="client-erased">
            {erased}
          </p>
        )}
        <table class="admin-table" data-testid="clients-table">
          <thead>
            <tr>
              <th>{t('clients.name')}</th>
              <th>{t('clients.ceiling')}</th>
              <th>{t('clients.screening')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(list.value?.clients ?? []).map((c) => (
              <tr key={c.id} data-client={c.name}>
                <td>{c.name}</td>
                <td>{c.ceilingMmHg ?? '—'}</td>
                <td>
                  {c.screeningAtEpochMs ? new Date(c.screeningAtEpochMs).toLocaleDateString() : '—'}
                  {c.screeningDue ? ` (${t('clients.due')})` : ''}
                </td>
                <td class="row">
                  <a
                    class="btn btn-secondary"
                    href={`/api/clients/${encodeURIComponent(c.id)}/export`}
                    download
                  >
                    {t('clients.export')}
                  </a>
                  <button
                    class="btn btn-stop"
                    onClick={() => {
                      if (!confirm(t('clients.eraseConfirm', { name: c.name }))) return;
                      void api<{ sessionsAnonymised: number }>(
                        'DELETE',
                        `/api/clients/${encodeURIComponent(c.id)}`,
                        {},
                      ).then((r) => {
                        setErased(t('clients.erased', { name: c.name, n: r.sessionsAnonymised }));
                        list.refresh();
                      }, errors.take);
                    }}
                  >
                    {t('clients.erase')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="card">
        <form class="admin-form" noValidate onSubmit={create} data-testid="new-client">
          <h2>{t('clients.new')}</h2>
          <TextField label={t('clients.name')} name="name" value={name} onValue={setName}>
            <FieldError errors={errors} field="body.name" />
          </TextField>
          <TextField
            label={t('clients.ceiling')}
            name="ceilingMmHg"
            type="number"
            value={ceiling}
            onValue={setCeiling}
          >
            <FieldError errors={errors} field="body.ceilingMmHg" />
          </TextField>
          <ConsentBox
            checked={consent}
            version={list.value?.consentTextVersion ?? '1'}
            onChange={setConsent}
          />
          <FieldError errors={errors} field="" />
          <button class="btn btn-primary" type="submit" disabled={!consent}>
            {t('clients.create')}
          </button>
        </form>
      </section>
    </div>
  );
}

/** A settings form waits for the settings it edits (or says why they did not come). */
function NotLoaded({ error }: { error: string | null }) {
  return (
    <section class="card">
      <p role="status">{error ?? t('admin.loadingPage')}</p>
    </section>
  );
}

export function PrivacyPage() {
  const current = usePoll(() => api<PrivacySettings>('GET', '/api/settings/privacy'), 0);
  const [edit, setEdit] = useState<Partial<Record<keyof PrivacySettings, string>>>({});
  const [saved, setSaved] = useState(false);
  const errors = useFieldErrors();
  const value = (k: keyof PrivacySettings) => edit[k] ?? String(current.value?.[k] ?? '');
  const save = (e: Event) => {
    e.preventDefault();
    errors.clear();
    setSaved(false);
    api('PUT', '/api/settings/privacy', {
      retentionDays: Number(value('retentionDays')),
      screeningMaxAgeDays: Number(value('screeningMaxAgeDays')),
      consentTextVersion: value('consentTextVersion'),
    }).then(() => {
      setSaved(true);
      setEdit({});
      current.refresh();
    }, errors.take);
  };
  const field = (k: keyof PrivacySettings, numeric: boolean) => (
    <TextField
      label={t(`privacy.${k}`)}
      name={k}
      inputMode={numeric ? 'numeric' : 'text'}
      value={value(k)}
      onValue={(v) => setEdit({ ...edit, [k]: v })}
    >
      <FieldError errors={errors} field={`body.${k}`} />
    </TextField>
  );
  // The form saves all three fields: before the current ones are in, a save would send blanks.
  if (current.value === null) return <NotLoaded error={current.error} />;
  return (
    <section class="card">
      <form class="admin-form" noValidate onSubmit={save} data-testid="privacy-form">
        <h2>{t('privacy.title')}</h2>
        <p class="muted">{t('privacy.intro')}</p>
        {field('retentionDays', true)}
        {field('screeningMaxAgeDays', true)}
        {field('consentTextVersion', false)}
        <FieldError errors={errors} field="" />
        {saved && (
          <p class="ok-note" role="status">
            {t('privacy.saved')}
          </p>
        )}
        <button class="btn btn-primary" type="submit">
          {t('privacy.save')}
        </button>
      </form>
    </section>
  );
}

/**
 * The channels are edited as the API's JSON (gateway/server/README.md lists every field): one
 * list, saved whole. Secrets are never shown; a channel saved without "secret" keeps its own.
 */
export function NotificationsPage() {
  const settings = usePoll(
    () => api<{ language: 'en' | 'de'; channels: ChannelView[] }>('GET', '/api/settings/notifications'),
    0,
  );
  const status = usePoll(() => api<{ channels: ChannelStatus[] }>('GET', '/api/support/notifications'), 5000);
  const [text, setText] = useState<string | null>(null);
  const [language, setLanguage] = useState<'en' | 'de' | null>(null);
  const [result, setResult] = useState<Record<string, string>>({});
  const errors = useFieldErrors();
  const shown =
    text ??
    JSON.stringify(
      (settings.value?.channels ?? []).map(({ secretSet: _s, ...c }) => c),
      null,
      2,
    );
  const save = () => {
    errors.clear();
    let channels: unknown;
    try {
      channels = JSON.parse(shown);
    } catch (e) {
      errors.set({ 'body.channels': String(e) });
      return;
    }
    api('PUT', '/api/settings/notifications', {
      language: language ?? settings.value?.language ?? 'en',
      channels,
    }).then(() => {
      setText(null);
      settings.refresh();
      status.refresh();
    }, errors.take);
  };
  const test = (id: string) => {
    setResult({ ...result, [id]: t('notify.sending') });
    api('POST', '/api/settings/notifications/test', { channelId: id }).then(
      () => setResult((r) => ({ ...r, [id]: t('notify.sent') })),
      (e: unknown) => setResult((r) => ({ ...r, [id]: e instanceof Error ? e.message : String(e) })),
    );
  };
  // The channels are saved whole: before they are in, a save would replace them with none.
  if (settings.value === null) return <NotLoaded error={settings.error} />;
  return (
    <div class="admin-grid">
      <section class="card">
        <h2>{t('notify.title')}</h2>
        <label class="field">
          <span>{t('notify.language')}</span>
          <select
            name="language"
            value={language ?? settings.value?.language ?? 'en'}
            onChange={(e) => setLanguage((e.currentTarget as HTMLSelectElement).value as 'en' | 'de')}
          >
            <option value="en">English</option>
            <option value="de">Deutsch</option>
          </select>
        </label>
        <label class="field">
          <span>{t('notify.channels')}</span>
          <textarea
            name="channels"
            rows={16}
            spellcheck={false}
            value={shown}
            onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
          />
        </label>
        <p class="muted">{t('notify.hint')}</p>
        {Object.entries(errors.byField).map(([f, m]) => (
          <p key={f} class="form-error" role="alert" data-field={f || undefined}>
            {m}
          </p>
        ))}
        <button class="btn btn-primary" onClick={save}>
          {t('notify.save')}
        </button>
      </section>
      <section class="card">
        <h2>{t('support.notifications')}</h2>
        <ul class="devices" data-testid="notify-admin-channels">
          {(settings.value?.channels ?? []).map((c) => {
            const s = status.value?.channels.find((x) => x.id === c.id);
            return (
              <li key={c.id} data-channel={c.id}>
                <strong>{c.id}</strong> <span class="muted">{c.kind}</span>{' '}
                <span data-testid="channel-state">{s?.state ?? '—'}</span>{' '}
                <button class="btn btn-secondary" onClick={() => test(c.id)}>
                  {t('notify.test')}
                </button>
                {result[c.id] && <div data-testid="test-result">{result[c.id]}</div>}
              </li>
            );
          })}
        </ul>
      </section>
    </div>
  );
}
