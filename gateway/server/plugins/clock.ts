/** The wall clock's state (clock-state.ts) for the routes: health and the support page show it. */
import { ClockWatch } from '../clock-state.js';
import { shared } from './shared.js';

declare module 'fastify' {
  interface FastifyInstance {
    clockWatch: ClockWatch;
  }
}

/**
 * The caller's ClockWatch (main.ts starts it and hands the same one to the store), or one that
 * cannot tell and is never checked, so a test app reports "unknown".
 */
export const clockPlugin = shared<{ clockWatch?: ClockWatch }>('presso-clock', async (app, opts) => {
  app.decorate('clockWatch', opts.clockWatch ?? new ClockWatch());
});
