/**
 * Server errors shown where they belong: the API names the input at fault (`body.secret`,
 * `program.holdS`), and each form field shows the messages for its own name. The admin forms are
 * `noValidate`: the browser's own check of min/max would block the submit with a bubble in the
 * browser's language instead of the server's rule beside the field.
 */
import { useState } from 'preact/hooks';
import { ApiError } from '../api.js';

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
