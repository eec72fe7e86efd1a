import { useEffect, useMemo, useState } from 'preact/hooks';
import { Live, type Subscription } from '../live.js';

/** Re-renders the component whenever the live link reports a change (or a staleness recheck). */
export function useLive(live: Live): void {
  const [, setTick] = useState(0);
  useEffect(() => live.onChange(() => setTick((n) => n + 1)), [live]);
}

/**
 * A live link following `subs` while the component is mounted (a new one when `key` changes),
 * re-rendering the component on every change it reports.
 */
export function useLiveLink(subs: Subscription[], key = ''): Live {
  // `key` stands for `subs`: a new array literal each render must not make a new link.
  const live = useMemo(() => new Live(subs), [key]);
  useEffect(() => {
    live.start();
    return () => live.stop();
  }, [live]);
  useLive(live);
  return live;
}

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
