/**
 * Marks a plugin as shared: its decorators and hooks apply to the whole app instead of its own
 * encapsulated context. This is what the fastify-plugin package does (Fastify's documented
 * `skip-override` symbol); fastify-plugin is not a direct dependency, and this is all of it we need.
 */
import type { FastifyPluginAsync } from 'fastify';

export function shared<O extends Record<string, unknown>>(
  name: string,
  plugin: FastifyPluginAsync<O>,
): FastifyPluginAsync<O> {
  const marked = plugin as FastifyPluginAsync<O> & Record<symbol, unknown>;
  marked[Symbol.for('skip-override')] = true;
  marked[Symbol.for('fastify.display-name')] = name;
  return marked;
}
