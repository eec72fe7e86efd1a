/**
 * Languages. To add one: copy de.ts to <code>.ts, translate every value, and add it to CATALOGUES
 * with its name in LANGUAGE_NAMES. The choice is kept per device (a wall tablet stays German).
 */
import type { adminEn } from '../admin/i18n-en.js';
import { de } from './de.js';
import { en, type CoreKey } from './en.js';

/** Every key t() accepts: the core catalogue's and the admin page's (loaded with that page). */
export type MessageKey = CoreKey | keyof typeof adminEn;

export const CATALOGUES = { en, de } satisfies Record<string, Record<CoreKey, string>>;
export type Lang = keyof typeof CATALOGUES;

/** What t() looks up: the core catalogue plus any a page added (addCatalogue). */
const loaded: Record<Lang, Record<string, string>> = { en: { ...en }, de: { ...de } };

/**
 * Adds a page's own strings (the admin page's: main.tsx loads them with it), so the pages that do
 * not use them never download them. Typed per language against the page's English key set.
 */
export function addCatalogue<K extends string>(extra: Record<Lang, Record<K, string>>): void {
  for (const l of Object.keys(loaded) as Lang[]) Object.assign(loaded[l], extra[l]);
}
export const LANGUAGE_NAMES: Record<Lang, string> = { en: 'English', de: 'Deutsch' };

const STORAGE_KEY = 'presso.lang';

function isLang(v: unknown): v is Lang {
  return typeof v === 'string' && v in CATALOGUES;
}

function initialLang(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (isLang(saved)) return saved;
  const fromBrowser = navigator.language.slice(0, 2);
  return isLang(fromBrowser) ? fromBrowser : 'en';
}

let current: Lang = initialLang();
document.documentElement.lang = current;

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  current = l;
  localStorage.setItem(STORAGE_KEY, l);
  document.documentElement.lang = l;
}

export type Params = Record<string, string | number>;

export function t(key: MessageKey, params: Params = {}): string {
  // A page's key before its catalogue was added shows as the key: visible, never a crash.
  const text: string = loaded[current][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => {
    const v = params[name];
    return v === undefined ? m : typeof v === 'number' ? num(v) : v;
  });
}

/** Whether a key exists (for ids that come from the server, such as screening questions). */
export function hasKey(key: string): key is MessageKey {
  return key in loaded.en;
}

export function num(v: number, digits = 0): string {
  return new Intl.NumberFormat(current, {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  }).format(v);
}
