/** The settings every part reads (port, data dir, token, login limits). */
import type { ServerConfig } from '../config.js';
import { shared } from './shared.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: ServerConfig;
  }
}

export const configPlugin = shared<{ config: ServerConfig }>('presso-config', async (app, opts) => {
  app.decorate('config', opts.config);
});
