/**
 * Marks a plugin as shared: its decorators and hooks apply to the whole app instead of its own
 * encapsulated context (fastify-plugin), under a name that shows in errors and lets other
 * plugins declare it as a dependency. The Fastify major is checked when the plugin registers.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

export function shared<O extends Record<string, unknown>>(
  name: string,
  plugin: FastifyPluginAsync<O>,
): FastifyPluginAsync<O> {
  return fp(plugin, { name, fastify: '5.x' });
}
