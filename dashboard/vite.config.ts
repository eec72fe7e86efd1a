// Vite's own JSX transform with Preact's runtime (jsxImportSource in tsconfig.json): no Babel,
// no preset plugin to keep in step with Vite.
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Prints what each page downloads: the entry chunk plus a surface's chunk and everything they
 * import statically (the chunk list above it counts every chunk once, not per page).
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
      for (const out of Object.values(bundle)) {
        if (
          out.type !== 'chunk' ||
          !out.isDynamicEntry ||
          !/^(StaffBoard|WalkUp|Support|Admin)$/.test(out.name)
        )
          continue;
        const files = closure([entry.fileName, out.fileName]);
        // Each chunk travels as its own gzip stream: sum them, do not gzip the concatenation.
        const codes = [...files].map((f) => chunks.get(f)?.code ?? '');
        const raw = codes.reduce((n, c) => n + Buffer.byteLength(c), 0);
        const gz = codes.reduce((n, c) => n + gzipSync(c).length, 0);
        const kb = (n: number) => (n / 1000).toFixed(1);
        this.info(`page ${out.name}: ${kb(raw)} kB JS (${kb(gz)} kB gzip) in ${files.size} chunks`);
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
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
