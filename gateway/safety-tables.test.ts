/**
 * docs/safety.md prints the limits table (gateway/limits.ts) and the alarm table
 * (gateway/alarm-table.ts); these tests fail when the page and the code disagree, row by row and
 * cell by cell. On a failure the expected table is printed, ready to paste (then `npx prettier
 * --write docs/safety.md`).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ALARM_TABLE } from './alarm-table.js';
import { LIMITS } from './limits.js';
import { PACKAGE_ROOT } from './paths.js';

const SAFETY_MD = readFileSync(join(PACKAGE_ROOT, 'docs', 'safety.md'), 'utf8');

/** The cells of the markdown table whose header row starts with `firstHeader`, header excluded. */
function tableAfter(firstHeader: string): string[][] {
  const lines = SAFETY_MD.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^\\|\\s*${firstHeader}\\s*\\|`).test(l));
  assert.ok(start >= 0, `docs/safety.md has a table headed "${firstHeader}"`);
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i]?.startsWith('|'); i++) {
    rows.push(
      (lines[i] as string)
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

const markdown = (header: string[], rows: string[][]) =>
  [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');

test("docs/safety.md's limits table is limits.ts", () => {
  const header = ['Name', 'Unit', 'Hard range', 'Default', 'Why'];
  const expected = Object.entries(LIMITS).map(([name, l]) => [
    `\`${name}\``,
    l.unit,
    l.min === l.max ? `${l.min} (fixed)` : `${l.min} … ${l.max}`,
    String(l.default),
    l.why,
  ]);
  assert.deepEqual(tableAfter('Name'), expected, `expected:\n${markdown(header, expected)}`);
});

test("docs/safety.md's alarm table is alarm-table.ts", () => {
  const header = ['Code', 'Priority', 'Vents', 'Latches', 'Raised by'];
  const expected = Object.entries(ALARM_TABLE).map(([code, a]) => [
    `\`${code}\``,
    a.priority,
    a.vents,
    a.latches,
    a.raisedBy,
  ]);
  assert.deepEqual(tableAfter('Code'), expected, `expected:\n${markdown(header, expected)}`);
});

test('every alarm the hazard table names has the priority of the alarm table', () => {
  const mentions = [...SAFETY_MD.matchAll(/`([a-z-]+)` \((high|medium|low)[,;]/g)];
  assert.ok(mentions.length >= 10, 'the hazard table names the alarms with their priorities');
  for (const [, code, priority] of mentions) {
    const spec = ALARM_TABLE[code as keyof typeof ALARM_TABLE];
    assert.ok(spec, `docs/safety.md names an alarm "${code}" that alarm-table.ts does not define`);
    assert.equal(priority, spec.priority, `${code}: docs/safety.md says ${priority}`);
  }
});
