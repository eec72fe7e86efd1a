/** Bounded HTTP calls on loopback for the bench and campaigns (a hung request fails, never hangs). */

export const REQUEST_TIMEOUT_MS = 5000;

export interface Reply<T> {
  status: number;
  body: T;
}

export async function call<T = unknown>(
  base: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number } = {},
): Promise<Reply<T>> {
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    signal: AbortSignal.timeout(init.timeoutMs ?? REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let body: unknown = undefined;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: res.status, body: body as T };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
