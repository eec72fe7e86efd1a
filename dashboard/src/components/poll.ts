import { useEffect, useState } from 'preact/hooks';

/** Polls `load` every `everyMs` (and at once); keeps the last good value and the last error. */
export function usePoll<T>(load: () => Promise<T>, everyMs: number, deps: unknown[] = []) {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    let alive = true;
    const run = () =>
      load().then(
        (v) => alive && (setValue(v), setError(null)),
        (e: unknown) => alive && setError(e instanceof Error ? e.message : String(e)),
      );
    void run();
    const id = everyMs > 0 ? window.setInterval(run, everyMs) : undefined;
    return () => {
      alive = false;
      window.clearInterval(id);
    };
  }, [...deps, nonce]);
  return { value, error, refresh: () => setNonce((n) => n + 1) };
}
