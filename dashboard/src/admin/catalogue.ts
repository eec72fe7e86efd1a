/** The admin page's strings join the catalogue when the admin page loads (i18n/index.ts). */
import { addCatalogue } from '../i18n/index.js';
import { adminDe } from './i18n-de.js';
import { adminEn } from './i18n-en.js';

addCatalogue({ en: adminEn, de: adminDe });
