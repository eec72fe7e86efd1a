import { CATALOGUES, lang, LANGUAGE_NAMES, setLang, t, type Lang } from '../i18n/index.js';

export function LangSwitch({ onChange }: { onChange: () => void }) {
  return (
    <label class="lang-switch">
      <span class="visually-hidden">{t('lang.label')}</span>
      <select
        value={lang()}
        aria-label={t('lang.label')}
        onChange={(e) => {
          setLang((e.currentTarget as HTMLSelectElement).value as Lang);
          onChange();
        }}
      >
        {(Object.keys(CATALOGUES) as Lang[]).map((l) => (
          <option key={l} value={l}>
            {LANGUAGE_NAMES[l]}
          </option>
        ))}
      </select>
    </label>
  );
}
