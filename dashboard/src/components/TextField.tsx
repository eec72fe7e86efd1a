import type { ComponentChildren } from 'preact';

/**
 * A labelled text input whose value is a plain string; `children` follow the input inside the
 * label (a hint, the field's server error).
 */
export function TextField({
  label,
  name,
  value,
  onValue,
  type,
  autocomplete,
  inputMode,
  placeholder,
  maxLength,
  children,
}: {
  label: ComponentChildren;
  name: string;
  value: string;
  onValue: (v: string) => void;
  type?: 'password' | 'date' | 'number';
  autocomplete?: string;
  inputMode?: 'numeric' | 'text';
  placeholder?: string;
  maxLength?: number;
  children?: ComponentChildren;
}) {
  return (
    <label class="field">
      <span>{label}</span>
      <input
        name={name}
        // Preact's types tie the other attributes to one literal type; these take the same ones.
        type={type as 'text' | undefined}
        autocomplete={autocomplete}
        inputMode={inputMode}
        placeholder={placeholder}
        maxLength={maxLength}
        value={value}
        onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
      />
      {children}
    </label>
  );
}

/** A form's error as a screen reader announces it; nothing when there is none. */
export function FormError({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <p class="form-error" role="alert">
      {message}
    </p>
  );
}
