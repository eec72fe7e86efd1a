/**
 * The audit log (support and admin): every request that changed something, accepted or not, with
 * who, from where and why; filtered by user, action (part of the request, e.g. "adjust") and date.
 */
import { useState } from 'preact/hooks';
import { api, type AuditEntry } from '../api.js';
import { usePoll } from '../components/poll.js';
import { t } from '../i18n/index.js';
import { dayBound, query } from './adminApi.js';
import { when } from './History.js';

interface Filters {
  user: string;
  action: string;
  from: string;
  to: string;
}
const NONE: Filters = { user: '', action: '', from: '', to: '' };

export function AuditPage() {
  const [form, setForm] = useState<Filters>(NONE);
  const [applied, setApplied] = useState<Filters>(NONE);
  const audit = usePoll(
    () =>
      api<{ audit: AuditEntry[] }>(
        'GET',
        `/api/audit${query({
          user: applied.user.trim(),
          action: applied.action.trim(),
          from: dayBound(applied.from, false),
          to: dayBound(applied.to, true),
          limit: 500,
        })}`,
      ).then((r) => r.audit),
    10_000,
    [applied],
  );
  const input = (key: keyof Filters) => (e: Event) =>
    setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value });
  return (
    <div class="audit-page">
      <form
        class="card filters"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(form);
        }}
      >
        <label class="field">
          <span>{t('audit.user')}</span>
          <input name="user" value={form.user} onInput={input('user')} />
        </label>
        <label class="field">
          <span>{t('audit.action')}</span>
          <input name="action" value={form.action} placeholder="adjust" onInput={input('action')} />
        </label>
        <label class="field">
          <span>{t('history.from')}</span>
          <input name="from" type="date" value={form.from} onInput={input('from')} />
        </label>
        <label class="field">
          <span>{t('history.to')}</span>
          <input name="to" type="date" value={form.to} onInput={input('to')} />
        </label>
        <div class="row">
          <button type="submit" class="btn btn-primary">
            {t('history.apply')}
          </button>
          <button
            type="button"
            class="btn btn-secondary"
            onClick={() => {
              setForm(NONE);
              setApplied(NONE);
            }}
          >
            {t('history.reset')}
          </button>
        </div>
      </form>
      <section class="card">
        {audit.error && <p class="form-error">{audit.error}</p>}
        <table class="admin-table" data-testid="audit-table">
          <thead>
            <tr>
              <th>{t('audit.when')}</th>
              <th>{t('audit.user')}</th>
              <th>{t('audit.action')}</th>
              <th>{t('audit.result')}</th>
              <th>{t('audit.detail')}</th>
              <th>{t('audit.from')}</th>
            </tr>
          </thead>
          <tbody>
            {(audit.value ?? []).map((e, i) => (
              <tr key={`${e.atEpochMs}-${i}`} class={e.ok ? '' : 'bad'}>
                <td>{when(e.atEpochMs)}</td>
                <td>
                  {e.who} <span class="muted">({e.role})</span>
                </td>
                <td>
                  <code>{e.what}</code>
                </td>
                <td>{e.ok ? t('audit.ok') : t('audit.refused')}</td>
                <td>{e.detail ?? ''}</td>
                <td>{e.from}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {audit.value?.length === 0 && <p class="muted">{t('audit.none')}</p>}
      </section>
    </div>
  );
}
