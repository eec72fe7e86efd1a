/**
 * Which station states go to the broker: only a change, and at most MAX_STATE_RATE_HZ per
 * station. A change that comes too soon is not lost: the controller sends a frame per station at
 * FRAME_RATE_HZ, and the first frame after the interval carries the latest state.
 */
export const MAX_STATE_RATE_HZ = 2;
const MIN_INTERVAL_MS = 1000 / MAX_STATE_RATE_HZ;

export class StateGate {
  private readonly last = new Map<string, { key: string; atMs: number }>();

  /**
   * Whether a state whose comparable form is `key()` should be published now. `key` is only
   * computed when the interval allows a message: most frames (20 a second) are turned away
   * without building their state.
   */
  offer(stationId: string, key: () => string, nowMs: number): boolean {
    const prev = this.last.get(stationId);
    if (prev !== undefined && nowMs - prev.atMs < MIN_INTERVAL_MS) return false;
    const k = key();
    if (prev !== undefined && prev.key === k) return false;
    this.last.set(stationId, { key: k, atMs: nowMs });
    return true;
  }

  /** A state published outside the gate (a STOP's answer, which does not wait for the interval). */
  sent(stationId: string, key: string, nowMs: number): void {
    this.last.set(stationId, { key, atMs: nowMs });
  }

  /** After a reconnect every state goes out again (a broker without persistence lost them). */
  reset(): void {
    this.last.clear();
  }
}
