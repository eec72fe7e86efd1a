import type { ComponentChildren } from 'preact';
import { FormError, TextField } from './TextField.js';

/**
 * The sign-in form of every page: a user name and a secret (the staff PIN, a password or the admin
 * token), the error, and the page's own buttons. The page keeps the values, so it can clear the
 * PIN after a refusal, type it from a pad, or switch the secret to the admin token.
 */
export function LoginForm({
  class: className,
  intro,
  user,
  secret,
  extra,
  error,
  onSubmit,
  children,
}: {
  class: string;
  /** What stands above the fields (a heading, who may sign in here). */
  intro?: ComponentChildren;
  /** Left out where the secret alone signs in (the admin token). */
  user?: { label: string; value: string; onValue: (v: string) => void };
  secret: {
    label: string;
    name: string;
    value: string;
    onValue: (v: string) => void;
    autocomplete: string;
    inputMode?: 'numeric';
  };
  /** What stands between the fields and the error (the PIN pad). */
  extra?: ComponentChildren;
  error: string | null;
  onSubmit: (e: Event) => void;
  /** The buttons. */
  children: ComponentChildren;
}) {
  return (
    <form class={className} onSubmit={onSubmit}>
      {intro}
      {user && (
        <TextField
          label={user.label}
          name="user"
          autocomplete="username"
          value={user.value}
          onValue={user.onValue}
        />
      )}
      <TextField
        label={secret.label}
        name={secret.name}
        type="password"
        inputMode={secret.inputMode}
        autocomplete={secret.autocomplete}
        value={secret.value}
        onValue={secret.onValue}
      />
      {extra}
      <FormError message={error} />
      {children}
    </form>
  );
}
