import { t } from '../i18n/index.js';

/** "The client agreed to a client record" with the consent text's version: needed before a record is made. */
export function ConsentBox({
  checked,
  version,
  onChange,
}: {
  checked: boolean;
  version: string;
  onChange: (checked: boolean) => void;
}) {
  return (
    <label>
      <input
        type="checkbox"
        name="consent"
        checked={checked}
        onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked)}
      />{' '}
      {t('start.consent', { version })}
    </label>
  );
}
