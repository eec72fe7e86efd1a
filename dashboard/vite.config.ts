// Vite's own JSX transform with Preact's runtime (jsxImportSource in tsconfig.json): no Babel,
// no preset plugin to keep in step with Vite.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The Pi's LAN tablets run current Chromium/Safari; no legacy bundle.
    target: 'es2022',
    // Helmet's CSP allows scripts from this origin only: no inline module-preload polyfill.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
