/**
 * The controller's events (protocol.ts `Events`) and who listens to them. A listener that wants no
 * state frames says so, and the tick then builds none when nobody else wants them.
 */
import type { AlarmInfo, EventName, Events } from '../protocol.js';

export type Listener = <E extends EventName>(event: E, data: Events[E]) => void;

export class ControllerEvents {
  private readonly listeners = new Set<Listener>();
  private readonly noFrames = new Set<Listener>();

  /** Subscribes; returns the unsubscribe. `{ frames: false }` leaves the state frames out. */
  on(listener: Listener, opts: { frames?: boolean } = {}): () => void {
    const frames = opts.frames !== false;
    this.listeners.add(listener);
    if (!frames) this.noFrames.add(listener);
    return () => {
      this.listeners.delete(listener);
      this.noFrames.delete(listener);
    };
  }

  /** Someone listens for frames: only then are they built. */
  get wantsFrames(): boolean {
    return this.listeners.size > this.noFrames.size;
  }

  emit<E extends EventName>(event: E, data: Events[E]): void {
    for (const l of this.listeners) {
      if (event === 'frame' && this.noFrames.has(l)) continue;
      try {
        l(event, data);
      } catch {
        // A failing listener (a client) must never stop the control tick.
      }
    }
  }

  /** An alarm book change as events, raised before cleared. */
  publish(change: { readonly raised: readonly AlarmInfo[]; readonly cleared: readonly AlarmInfo[] }): void {
    for (const a of change.raised) this.emit('alarm-raised', a);
    for (const a of change.cleared) this.emit('alarm-cleared', a);
  }
}
