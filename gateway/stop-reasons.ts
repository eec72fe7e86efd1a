/**
 * The reasons an anonymous caller may give for a STOP: fixed choices, because the reason is shown
 * on the staff board and kept on the session, and a passer-by must not be able to put words there.
 * Logged-in staff may write their own (up to 200 characters). The walk-up page sends the first;
 * the staff board alerts staff on any of them (they all start with it).
 */
export const ANONYMOUS_STOP_REASONS = [
  'walk-up user pressed STOP',
  'walk-up user pressed STOP: discomfort',
  'walk-up user pressed STOP: feels unwell',
] as const;

export type AnonymousStopReason = (typeof ANONYMOUS_STOP_REASONS)[number];

/** What the staff board looks for in a session's end reason to call staff over. */
export const WALK_UP_STOP_REASON: AnonymousStopReason = ANONYMOUS_STOP_REASONS[0];
