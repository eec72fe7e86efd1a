/**
 * The one frame diff, used by every hop: the controller socket (full frames → each client gets the
 * fields that changed since what it last got), the web process's ControllerClient (merges them
 * back into full frames), the live hub (per view, per client) and the dashboard (merges again).
 *
 * A frame is compared top-level field by top-level field through each field's JSON, computed once
 * per frame and shared by every client that receives it; values are kept beside their JSON, so a
 * hop never parses what it stringified. No dependency beyond the language: the dashboard bundles
 * this file.
 */

/** A frame (or a view of one) with each field's JSON computed once. Immutable once built. */
export interface EncodedFrame {
  readonly id: string;
  /** Field → [JSON, value]; `id` and the header fields are not in it. */
  readonly fields: ReadonlyMap<string, readonly [string, unknown]>;
  /** Fields sent with every message and never counted as a change (the sample time). */
  readonly header: Readonly<Record<string, unknown>>;
}

/** A diff on the wire: `id`, the header fields and the changed fields. */
export type FrameDiff = Record<string, unknown> & { id: string };

export function encodeFrame(
  frame: Readonly<Record<string, unknown>> & { id: string },
  headerKeys: readonly string[] = [],
): EncodedFrame {
  const fields = new Map<string, readonly [string, unknown]>();
  const header: Record<string, unknown> = {};
  for (const key in frame) {
    const value = frame[key];
    if (key === 'id' || value === undefined) continue;
    if (headerKeys.includes(key)) header[key] = value;
    else fields.set(key, [JSON.stringify(value), value]);
  }
  return { id: frame.id, fields, header };
}

/** Whether `next` differs from `prev` in anything but the header. */
export function changed(prev: EncodedFrame | undefined, next: EncodedFrame): boolean {
  if (prev === undefined) return true;
  if (prev === next) return false;
  for (const [key, [json]] of next.fields) if (prev.fields.get(key)?.[0] !== json) return true;
  return false;
}

/**
 * What a client that last got `prev` (undefined: nothing) needs to hold `next`: id, header and
 * the fields that differ; null when nothing but the header differs (unless `always`).
 */
export function diffFrame(
  prev: EncodedFrame | undefined,
  next: EncodedFrame,
  always = false,
): FrameDiff | null {
  const out: FrameDiff = { id: next.id, ...next.header };
  let any = false;
  for (const [key, [json, value]] of next.fields) {
    if (prev !== undefined && prev.fields.get(key)?.[0] === json) continue;
    out[key] = value;
    any = true;
  }
  return any || always ? out : null;
}

/** The same diff as one JSON text, built from the fields' JSON (no second stringify). */
export function diffJson(prev: EncodedFrame | undefined, next: EncodedFrame): string | null {
  const parts = [`"id":${JSON.stringify(next.id)}`];
  for (const key in next.header) parts.push(`${JSON.stringify(key)}:${JSON.stringify(next.header[key])}`);
  const fixed = parts.length;
  for (const [key, [json]] of next.fields) {
    if (prev !== undefined && prev.fields.get(key)?.[0] === json) continue;
    parts.push(`${JSON.stringify(key)}:${json}`);
  }
  return parts.length === fixed ? null : `{${parts.join(',')}}`;
}

/** A received diff applied to what was held: the receiving side of every hop. */
export function mergeFrame<T extends { id: string }>(prev: T | undefined, diff: FrameDiff): T {
  return (prev === undefined ? { ...diff } : { ...prev, ...diff }) as T;
}
