/**
 * Validation of JSON-shaped input against TypeBox schemas, with errors that name the field the way
 * a person reads a config file (`stations[1].zones[0].sensor`), not a JSON pointer.
 */
import { ConfigError } from './config-error.js';
import type { Static, TSchema } from 'typebox';
import Value from 'typebox/value';

/** `/stations/1/zones/0` under base `board` becomes `board.stations[1].zones[0]`. */
export function pointerToPath(base: string, pointer: string): string {
  let out = base;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out || '(top level)';
}

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

/** Words that make a schema error actionable, supplied by whoever owns the schema. */
export interface SchemaHints {
  /** For a missing required field, by field name: why it is needed. */
  required?: Readonly<Record<string, string>>;
  /** For a pattern mismatch, by pattern source: the format in words. */
  pattern?: Readonly<Record<string, string>>;
}

function describe(e: SchemaError, hints: SchemaHints): { sub: string; problem: string } {
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params.additionalProperties as string[] | undefined) ?? [];
    const key = extra[0] ?? '?';
    return {
      sub: `${e.instancePath}/${key}`,
      problem: 'unknown key (check the spelling; unknown keys are not ignored)',
    };
  }
  if (e.keyword === 'required') {
    const missing = (e.params.requiredProperties as string[] | undefined) ?? [];
    const key = missing[0] ?? '?';
    const why = hints.required?.[key];
    return { sub: `${e.instancePath}/${key}`, problem: why ? `is required: ${why}` : 'is required' };
  }
  if (e.keyword === 'pattern') {
    const words = hints.pattern?.[String(e.params.pattern)];
    if (words) return { sub: e.instancePath, problem: words };
  }
  return { sub: e.instancePath, problem: e.message };
}

/** Every problem in `value`, as `path: problem` lines; empty when it matches. */
export function schemaProblems(
  schema: TSchema,
  value: unknown,
  base: string,
  hints: SchemaHints = {},
): { path: string; problem: string }[] {
  const errors = Value.Errors(schema, value) as unknown as SchemaError[];
  const seen = new Set<string>();
  const out: { path: string; problem: string }[] = [];
  // A union of literals fails once per literal ("must be equal to constant"): say the choices.
  const choices = new Map<string, string[]>();
  for (const e of errors) {
    if (e.keyword !== 'const') continue;
    const list = choices.get(e.instancePath) ?? [];
    list.push(JSON.stringify(e.params.allowedValue));
    choices.set(e.instancePath, list);
  }
  for (const e of errors) {
    // TypeBox reports an extra key twice (as a false schema and as additionalProperties).
    if (e.keyword === 'boolean') continue;
    if (e.keyword === 'anyOf' && choices.has(e.instancePath)) continue;
    if (e.keyword === 'const') {
      const list = choices.get(e.instancePath) ?? [];
      e.message =
        list.length > 1 ? `must be one of ${list.join(', ')}` : `must be ${list[0] ?? 'the constant'}`;
    }
    const { sub, problem } = describe(e, hints);
    const path = pointerToPath(base, sub);
    const key = `${path}|${problem}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, problem });
  }
  return out;
}

/** Returns `value` typed by `schema`, or throws a ConfigError naming the first bad field. */
export function checkSchema<T extends TSchema>(
  schema: T,
  value: unknown,
  base: string,
  hints: SchemaHints = {},
): Static<T> {
  const problems = schemaProblems(schema, value, base, hints);
  const first = problems[0];
  if (first) throw new ConfigError(first.path, first.problem);
  return value as Static<T>;
}
