/**
 * The audit log (support and admin): every request that changed something, accepted or not, with
 * who, from where and why; filtered by user, action (part of the request, e.g. "adjust") and date.
 */
import { api, type AuditEntry } from '../api.js';
import { usePoll } from '../components/poll.js';
import { t } from '../i18n/index.js';
import { dayBound, query } from './adminApi.js';
import { DateRangeFields, FilterForm, FilterText, ResultTable, useFilters } from './FilterTable.js';
import { when } from './History.js';

type Filters = {
  user: string;
  action: string;
  from: string;
  to: string;
};
const NONE: Filters = { user: '', action: '', from: '', to: '' };

export function AuditPage() {
  const filters = useFilters<Filters>(NONE);
  const { applied } = filters;
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
  return (
    <div class="audit-page">
      <FilterForm filters={filters}>
        <FilterText filters={filters} name="user" label={t('audit.user')} />
        <FilterText filters={filters} name="action" label={t('audit.action')} placeholder="adjust" />
        <DateRangeFields filters={filters} />
      </FilterForm>
      <ResultTable
        testId="audit-table"
        error={audit.error}
        headers={[
          t('audit.when'),
          t('audit.user'),
          t('audit.action'),
          t('audit.result'),
          t('audit.detail'),
          t('audit.from'),
        ]}
        empty={audit.value?.length === 0}
        none={t('audit.none')}
      >
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
      </ResultTable>
    </div>
  );
}
