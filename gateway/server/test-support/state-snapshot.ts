/**
 * Everything a refused request must leave as it was, as one string to compare: the store's
 * sessions, programs, station settings and users (with their roles) and the controller's stations.
 * For the fuzz test (fuzz.test.ts) and the fuzz campaign (bench/lib/campaign-fuzz.ts).
 */
import type { Harness } from './harness.js';

export async function stateSnapshot(h: Harness): Promise<string> {
  const frames = await h.client.request('state', {});
  return JSON.stringify({
    // A start the controller itself refuses is kept (it was persisted before asking) as 'refused'.
    sessions: (await h.store.sessions()).filter((s) => s.status !== 'refused'),
    programs: h.store.programs(),
    settings: frames.map((f) => h.store.stationSettings(f.id) ?? null),
    users: h.store.users().map((u) => [u.id, u.role]),
    stations: frames.map((f) => [f.id, f.state, f.session?.id ?? null]),
  });
}
