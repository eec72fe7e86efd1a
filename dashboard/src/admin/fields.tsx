/**
 * Server errors shown where they belong: the API names the input at fault (`body.secret`,
 * `program.holdS`), and each form field shows the messages for its own name. The admin forms are
 * `noValidate`: the browser's own check of min/max would block the submit with a bubble in the
 * browser's language instead of the server's rule beside the field.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { t } from '../i18n/index.js';

export interface FieldErrors {
  /** Field → message; '' holds an error that names no field. */
  byField: Record<string, string>;
  clear(): void;
  /** Takes a failed request's error (a rejection handler). */
  take(e: unknown): void;
  set(byField: Record<string, string>): void;
}

export function useFieldErrors(): FieldErrors {
  const [byField, setByField] = useState<Record<string, string>>({});
  return {
    byField,
    clear: () => setByField({}),
    take: (e: unknown) => {
      const field = e instanceof ApiError && e.field !== undefined ? e.field : '';
      setByField({ [field]: e instanceof Error ? e.message : String(e) });
    },
    set: setByField,
  };
}

export function FieldError({ errors, field }: { errors: FieldErrors; field: string }) {
  const message = errors.byField[field];
  if (message === undefined) return null;
  return (
    <p class="form-error" role="alert" data-field={field || undefined}>
      {message}
    </p>
  );
}

const optionalNumber = (v: string) => (v.trim() === '' ? undefined : Number(v));

/**
 * A number with its unit and its allowed range shown under it (the range the server checks);
 * empty is undefined. Under it, the server's error for `body.<name>` (given `errors`), or
 * `children` for a form that shows its errors its own way.
 */
export function NumberField({
  name,
  label,
  unit,
  value,
  range,
  hint,
  onValue,
  parse = optionalNumber,
  step = 'any',
  errors,
  children,
}: {
  name: string;
  label: string;
  unit: string;
  value: unknown;
  range: { min: number; max: number };
  hint?: string;
  onValue: (v: number | undefined) => void;
  parse?: (v: string) => number | undefined;
  step?: number | 'any';
  errors?: FieldErrors;
  children?: ComponentChildren;
}) {
  return (
    <label class="field">
      <span>
        {label} {unit ? `(${unit})` : ''}
      </span>
      <input
        name={name}
        type="number"
        min={range.min}
        max={range.max}
        step={step}
        value={value === undefined ? '' : String(value)}
        onInput={(e) => onValue(parse((e.currentTarget as HTMLInputElement).value))}
      />
      <small class="muted" data-testid={`range-${name}`}>
        {t('admin.range', { min: range.min, max: range.max, unit })}
        {hint ? ` — ${hint}` : ''}
      </small>
      {errors && <FieldError errors={errors} field={`body.${name}`} />}
      {children}
    </label>
  );
}
