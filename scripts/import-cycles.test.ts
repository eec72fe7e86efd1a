import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { projectCycles } from './import-cycles.js';

const root = resolve(import.meta.dirname, '..');

test('import cycles: the project has none, type-only imports included', () => {
  const cycles = projectCycles(root);
  assert.deepEqual(
    cycles.map((c) => c.join(' → ')),
    [],
    'break each cycle by moving what both sides need into a third module',
  );
});

test('import cycles: a value cycle and a type-only cycle are both found, each with its path', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'presso-cycles-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'src', 'sub'), { recursive: true });
  const files: Record<string, string> = {
    // a → b → sub/c → a, through a value import, a re-export and a dynamic import
    'src/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
    'src/b.ts': "export { c as b } from './sub/c.js';\n",
    'src/sub/c.ts': "export const c = async () => (await import('../a.js')).a;\n",
    // d ↔ e through `import type` only: no run-time effect, still a cycle
    'src/d.ts': "import type { E } from './e.js';\nexport interface D { e?: E }\n",
    'src/e.ts': "import { type D } from './d.js';\nexport interface E { d?: D }\n",
    // f imports a and d but nothing imports f: not part of any cycle
    'src/f.ts':
      "import { a } from './a.js';\nimport type { D } from './d.js';\nexport const f: D | typeof a = a;\n",
  };
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);

  assert.deepEqual(projectCycles(dir, ['src']), [
    ['src/a.ts', 'src/b.ts', 'src/sub/c.ts', 'src/a.ts'],
    ['src/d.ts', 'src/e.ts', 'src/d.ts'],
  ]);
});
