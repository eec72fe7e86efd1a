import { useEffect, useMemo, useState } from 'preact/hooks';
import { Live, type Subscription } from '../live.js';

/** usePoll lives apart (poll.ts) so that a page that only polls does not load the live link. */
export { usePoll } from './poll.js';

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
