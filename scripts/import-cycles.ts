/**
 * Finds import cycles among the project's own TypeScript files. Every edge counts: a value import,
 * an `import type`, an `export ... from` and a dynamic `import()`. A type-only cycle costs nothing at
 * run time, but it still means two modules cannot be read, moved or tested apart, which is the
 * design smell this check exists for. (eslint-plugin-import-x's `no-cycle` skips type-only imports
 * with no option to count them, which is why this is a script and not a lint rule.)
 *
 * Usage: node --import tsx scripts/import-cycles.ts  (exits 1 and prints each cycle's path).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The folders whose files import one another (tests included: a test can close a cycle too). */
export const SOURCE_DIRS = ['gateway', 'dashboard/src', 'bench', 'scripts'];

function listSources(dir: string, out: string[]): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) listSources(path, out);
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Resolves a relative specifier the way NodeNext does for our sources (`./x.js` is `./x.ts`). */
function resolveLocal(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = resolve(dirname(from), specifier);
  const stem = base.replace(/\.(m?js|jsx)$/, '');
  for (const candidate of [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, join(base, 'index.ts')]) {
    if (/\.(ts|tsx|mts)$/.test(candidate) && existsSync(candidate)) return candidate;
  }
  return null;
}

/** Every local file each file imports, by absolute path. */
export function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = new Set<string>();
    for (const ref of info.importedFiles) {
      const target = resolveLocal(file, ref.fileName);
      if (target !== null && target !== file) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/**
 * One cycle per strongly connected component of more than one file (Tarjan), each given as the
 * shortest path from the component's first file back to itself, so the report names real edges.
 */
export function findCycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];

  const connect = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indexOf.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
      }
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indexOf.has(v)) connect(v);

  return components.map((component) => {
    const members = new Set(component);
    const start = component[0]!;
    // Breadth-first inside the component from start until an edge leads back to start.
    const previous = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const v = queue.shift()!;
      for (const w of graph.get(v) ?? []) {
        if (!members.has(w)) continue;
        if (w === start) {
          const path = [v];
          while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
          return [...path, start];
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    return [...component, start];
  });
}

/** The cycles in the project under root, each as a list of paths relative to root. */
export function projectCycles(root: string, dirs: readonly string[] = SOURCE_DIRS): string[][] {
  const files = dirs.flatMap((d) => listSources(join(root, d), []));
  return findCycles(importGraph(files)).map((cycle) => cycle.map((f) => relative(root, f)));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const cycles = projectCycles(root);
  for (const cycle of cycles) console.error(`import cycle: ${cycle.join(' → ')}`);
  if (cycles.length > 0) {
    console.error(
      `${cycles.length} import cycle(s): break each by moving what both sides need into a third module`,
    );
    process.exit(1);
  }
  console.log(`import-cycles: none among ${SOURCE_DIRS.join(', ')}`);
}
