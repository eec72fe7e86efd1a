/**
 * Command arguments checked against their schemas (gateway/ipc/schemas.ts), with a message that
 * names the field: `start: sessionId must be a non-empty string of at most 100 characters`. The
 * controller calls this before it looks at a command; there are no hand-written type checks.
 */
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { CommandError, type CommandName, type Commands } from '../protocol.js';
import { CommandSchemas } from './schemas.js';
import { pointerToPath } from '../config-check.js';

type Validator = ReturnType<typeof Compile>;

const validators = new Map<string, Validator>(
  Object.entries(CommandSchemas).map(([cmd, s]) => [cmd, Compile(s.args as TSchema)]),
);

/** The sub-schema a JSON-schema path (`#/properties/a/items`) points at, for its description. */
function schemaAt(root: TSchema, schemaPath: string): { description?: string } | undefined {
  let node: unknown = root;
  for (const raw of schemaPath.replace(/^#\/?/, '').split('/')) {
    if (raw === '') continue;
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return typeof node === 'object' && node !== null ? (node as { description?: string }) : undefined;
}

/** Returns `args` typed for `cmd`, or throws CommandError('bad-request') naming the first bad field. */
export function validateCommand<K extends CommandName>(cmd: K, args: unknown): Commands[K][0] {
  const validator = validators.get(cmd);
  if (validator === undefined) throw new CommandError('unknown-command', `unknown command "${String(cmd)}"`);
  if (validator.Check(args)) return args as Commands[K][0];
  const root = CommandSchemas[cmd].args as TSchema;
  for (const e of validator.Errors(args)) {
    // TypeBox reports an extra key twice (as a false schema and as additionalProperties).
    if (e.keyword === 'boolean') continue;
    if (e.keyword === 'additionalProperties') {
      const key = (e.params as { additionalProperties?: string[] }).additionalProperties?.[0] ?? '?';
      throw new CommandError(
        'bad-request',
        `${cmd}: unknown argument "${pointerToPath('', `${e.instancePath}/${key}`)}" (check the spelling)`,
      );
    }
    if (e.keyword === 'required') {
      const key = (e.params as { requiredProperties?: string[] }).requiredProperties?.[0] ?? '?';
      throw new CommandError(
        'bad-request',
        `${cmd}: ${pointerToPath('', `${e.instancePath}/${key}`)} is required`,
      );
    }
    const field = e.instancePath === '' ? 'args' : pointerToPath('', e.instancePath);
    if (e.keyword === 'enum') {
      const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues ?? [];
      throw new CommandError('bad-request', `${cmd}: ${field} must be one of ${allowed.join(', ')}`);
    }
    const described = schemaAt(root, e.schemaPath)?.description;
    throw new CommandError(
      'bad-request',
      described !== undefined ? `${cmd}: ${field} must be ${described}` : `${cmd}: ${field} ${e.message}`,
    );
  }
  throw new CommandError('bad-request', `${cmd}: arguments do not match the protocol`);
}
