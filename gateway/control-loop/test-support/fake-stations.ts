/**
 * The part of a fake controller that tests of the socket and of presso-ctl share: stations kept
 * as frames in memory, event listeners, and frame updates pushed the way the controller's tick
 * pushes them. Each test adds its own command handling.
 */
import { CommandError, type EventName, type Events, type StationFrame } from '../../protocol.js';
import type { ControllerApi } from '../../ipc/server.js';

export type EventListener = Parameters<ControllerApi['onEvent']>[0];

export class FakeStations {
  readonly stations = new Map<string, StationFrame>();
  protected readonly listeners = new Set<EventListener>();

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit<E extends EventName>(event: E, data: Events[E]): void {
    for (const l of this.listeners) l(event, data);
  }

  /** Changes a station and reports the full frame, as the controller's tick does. */
  update(id: string, patch: Partial<StationFrame>): StationFrame {
    const frame = { ...this.station(id), ...patch };
    this.stations.set(id, frame);
    this.emit('frame', frame);
    return frame;
  }

  protected station(id: unknown): StationFrame {
    const s = typeof id === 'string' ? this.stations.get(id) : undefined;
    if (s === undefined) throw new CommandError('not-found', `no station "${String(id)}"`);
    return s;
  }
}
