/** Bounded HTTP calls on loopback for tests, the bench and campaigns (a hung request fails, never hangs). */

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
  const method = init.method ?? 'GET';
  // The gateway takes commands only as JSON: one without a body is sent as {}.
  const sent = init.body ?? (method === 'GET' ? undefined : {});
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(sent !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    ...(sent !== undefined ? { body: JSON.stringify(sent) } : {}),
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
