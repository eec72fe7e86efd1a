/**
 * Gives every route the Store. The caller opens it (main.ts, or a test) and closes it after the
 * server: the store outlives the HTTP server so the last session-ended reports are kept.
 */
import type { Store } from '../../store/types.js';
import { shared } from './shared.js';

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
  }
}

export const storePlugin = shared<{ store: Store }>('presso-store', async (app, opts) => {
  app.decorate('store', opts.store);
});
