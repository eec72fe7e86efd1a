/**
 * Every API route declares the schema of what it answers (issue 16: the schemas are the types).
 * Fastify serialises with it, so a field outside the schema never leaks, and /docs documents it.
 * Read from the OpenAPI document the server builds from its own routes, so a route added without
 * a response schema fails here by name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startHarness } from './test-support/harness.js';

/** Answers that are not JSON: a file download or a redirect, each with its reason. */
const NOT_JSON = new Map<string, string>([['GET /api/support/logs', 'a text download']]);

test('every API route declares a response schema for its success answer', async (t) => {
  const h = await startHarness(t);
  const doc = h.app.swagger() as {
    paths: Record<string, Record<string, { responses?: Record<string, { content?: unknown }> }>>;
  };
  const missing: string[] = [];
  let routes = 0;
  for (const [path, methods] of Object.entries(doc.paths)) {
    if (!path.startsWith('/api/')) continue;
    for (const [method, op] of Object.entries(methods)) {
      routes++;
      const name = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
      if (NOT_JSON.has(name)) continue;
      const success = Object.entries(op.responses ?? {}).filter(([code]) => /^2\d\d$/.test(code));
      if (success.length === 0 || success.some(([, r]) => r.content === undefined)) missing.push(name);
    }
  }
  assert.ok(routes > 40, `only ${routes} API routes found in the OpenAPI document`);
  assert.deepEqual(missing, [], `routes without a response schema: ${missing.join(', ')}`);
});
