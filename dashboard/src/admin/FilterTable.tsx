/**
 * The admin lists that are searched (History, Audit): a filter form whose values apply only when
 * submitted, a Reset that clears them, and the table of what the server found for them.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { TextField } from '../components/TextField.js';
import { t } from '../i18n/index.js';

export interface Filters<F extends Record<string, string>> {
  /** What the form shows. */
  form: F;
  /** What the list was asked for: the form as last submitted. */
  applied: F;
  set(key: keyof F, value: string): void;
  /** An input or select's handler that writes `key` of the form. */
  input(key: keyof F): (e: Event) => void;
  apply(): void;
  reset(): void;
}

export function useFilters<F extends Record<string, string>>(none: F): Filters<F> {
  const [form, setForm] = useState<F>(none);
  const [applied, setApplied] = useState<F>(none);
  const set = (key: keyof F, value: string) => setForm((f) => ({ ...f, [key]: value }));
  return {
    form,
    applied,
    set,
    input: (key) => (e) => set(key, (e.currentTarget as HTMLInputElement | HTMLSelectElement).value),
    apply: () => setApplied(form),
    reset: () => {
      setForm(none);
      setApplied(none);
    },
  };
}

/** The filter form: `children` are the fields, `actions` follow Apply and Reset. */
export function FilterForm<F extends Record<string, string>>({
  filters,
  testId,
  children,
  actions,
}: {
  filters: Filters<F>;
  testId?: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <form
      class="card filters"
      data-testid={testId}
      onSubmit={(e) => {
        e.preventDefault();
        filters.apply();
      }}
    >
      {children}
      <div class="row">
        <button type="submit" class="btn btn-primary">
          {t('history.apply')}
        </button>
        <button type="button" class="btn btn-secondary" onClick={filters.reset}>
          {t('history.reset')}
        </button>
        {actions}
      </div>
    </form>
  );
}

/** A text filter bound to `name` of the form. */
export function FilterText<F extends Record<string, string>>({
  filters,
  name,
  label,
  type,
  placeholder,
  maxLength,
}: {
  filters: Filters<F>;
  name: keyof F & string;
  label: string;
  type?: 'date';
  placeholder?: string;
  maxLength?: number;
}) {
  return (
    <TextField
      label={label}
      name={name}
      type={type}
      placeholder={placeholder}
      maxLength={maxLength}
      value={filters.form[name] ?? ''}
      onValue={(v) => filters.set(name, v)}
    />
  );
}

/** From and to, as whole days (adminApi.ts dayBound turns them into the query's bounds). */
export function DateRangeFields<F extends Record<string, string> & { from: string; to: string }>({
  filters,
}: {
  filters: Filters<F>;
}) {
  return (
    <>
      <FilterText filters={filters} name="from" label={t('history.from')} type="date" />
      <FilterText filters={filters} name="to" label={t('history.to')} type="date" />
    </>
  );
}

/** The list found: the polling error if any, a header row, the rows, and `none` when it is empty. */
export function ResultTable({
  testId,
  error,
  headers,
  empty,
  none,
  children,
}: {
  testId: string;
  error: string | null;
  headers: string[];
  empty: boolean;
  none: string;
  children: ComponentChildren;
}) {
  return (
    <section class="card">
      {error && <p class="form-error">{error}</p>}
      <table class="admin-table" data-testid={testId}>
        <thead>
          <tr>
            {headers.map((h) => (
              <th key={h}>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
      {empty && <p class="muted">{none}</p>}
    </section>
  );
}
