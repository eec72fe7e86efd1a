// Vite's own JSX transform with Preact's runtime (jsxImportSource in tsconfig.json): no Babel,
// no preset plugin to keep in step with Vite.
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Prints what each page downloads before it shows: the entry chunk plus a surface's chunk (and for
 * the admin page, each of its pages) and everything they import statically (the chunk list above
 * it counts every chunk once, not per page). Chunks fetched later are not in it: the QR encoder
 * (when the QR sheet opens) and uPlot (when a chart mounts, components/uplot.ts).
 */
function surfaceSizes(): Plugin {
  return {
    name: 'presso-surface-sizes',
    apply: 'build',
    generateBundle(_options, bundle) {
      const chunks = new Map<string, { code: string; imports: string[]; name: string }>();
      for (const [file, out] of Object.entries(bundle)) {
        if (out.type === 'chunk') chunks.set(file, { code: out.code, imports: out.imports, name: out.name });
      }
      const closure = (files: string[], seen = new Set<string>()): Set<string> => {
        for (const f of files) {
          if (seen.has(f)) continue;
          seen.add(f);
          closure(chunks.get(f)?.imports ?? [], seen);
        }
        return seen;
      };
      const entry = Object.values(bundle).find((o) => o.type === 'chunk' && o.isEntry);
      if (entry === undefined || entry.type !== 'chunk') return;
      const dynamic = (name: string) =>
        Object.values(bundle).find((o) => o.type === 'chunk' && o.isDynamicEntry && o.name === name);
      const report = (label: string, names: string[]) => {
        const parts = names.map(dynamic);
        if (parts.some((p) => p === undefined)) return;
        const files = closure([entry.fileName, ...parts.map((p) => p?.fileName ?? '')]);
        // Each chunk travels as its own gzip stream: sum them, do not gzip the concatenation.
        const codes = [...files].map((f) => chunks.get(f)?.code ?? '');
        const raw = codes.reduce((n, c) => n + Buffer.byteLength(c), 0);
        const gz = codes.reduce((n, c) => n + gzipSync(c).length, 0);
        const kb = (n: number) => (n / 1000).toFixed(1);
        this.info(`page ${label}: ${kb(raw)} kB JS (${kb(gz)} kB gzip) in ${files.size} chunks`);
      };
      for (const surface of ['StaffBoard', 'WalkUp', 'Support', 'Admin']) report(surface, [surface]);
      // The admin page loads one of its pages at a time (admin/pages.tsx): each with the shell.
      for (const page of ['Users', 'Stations', 'Programs', 'History', 'Audit', 'Privacy']) {
        report(`Admin + ${page}`, ['Admin', page]);
      }
    },
  };
}

export default defineConfig({
  plugins: [surfaceSizes()],
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
    rollupOptions: {
      output: {
        // The Socket.IO client and the live store travel together, apart from the small shared
        // helpers: an admin page that only polls (components/hooks.ts) does not download them.
        manualChunks(id: string) {
          if (
            /node_modules\/(socket\.io|engine\.io|@socket\.io)/.test(id) ||
            /dashboard\/src\/live\.ts$/.test(id)
          ) {
            return 'live';
          }
          return undefined;
        },
      },
    },
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
