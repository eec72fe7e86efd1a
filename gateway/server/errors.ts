/**
 * One error shape for every 4xx/5xx: {error, message, field?}. `field` names the bad input the
 * way a person reads it (`body.pressureMmHg`), so the dashboard can put the message next to it.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import Type from 'typebox';
import { ControllerLinkError } from '../ipc/client.js';
import { CommandError } from '../protocol.js';
import { pointerToPath } from '../config-check.js';

export const ErrorReplySchema = Type.Object({
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});

/** A request the server turns down itself, with the HTTP status to answer. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

interface ValidationIssue {
  keyword?: string;
  instancePath?: string;
  params?: Record<string, unknown>;
  message?: string;
}

/** The first useful validation error as {field, problem}; TypeBox reports an extra key twice. */
function describeValidation(context: string, issues: ValidationIssue[]): { field: string; message: string } {
  const issue = issues.find((i) => i.keyword !== 'boolean') ?? issues[0] ?? {};
  let pointer = issue.instancePath ?? '';
  let problem = issue.message ?? 'is invalid';
  const params = issue.params ?? {};
  if (issue.keyword === 'required') {
    const key = (params.requiredProperties as string[] | undefined)?.[0] ?? '?';
    pointer += `/${key}`;
    problem = 'is required';
  } else if (issue.keyword === 'additionalProperties') {
    const key = (params.additionalProperties as string[] | undefined)?.[0] ?? '?';
    pointer += `/${key}`;
    problem = 'unknown field (check the spelling; unknown fields are not ignored)';
  }
  const field = pointerToPath(context, pointer);
  return { field, message: `${field}: ${problem}` };
}

const COMMAND_STATUS: Record<string, number> = {
  'bad-request': 400,
  'not-found': 404,
  refused: 409,
  version: 502,
  'unknown-command': 502,
  internal: 502,
};

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const { field, message } = describeValidation(
        error.validationContext ?? 'request',
        error.validation as ValidationIssue[],
      );
      return reply.code(400).send({ error: 'bad-request', message, field });
    }
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).send({
        error: error.code,
        message: error.message,
        ...(error.field !== undefined ? { field: error.field } : {}),
      });
    }
    if (error instanceof CommandError) {
      // The controller's own words: it is the one that knows why.
      return reply
        .code(COMMAND_STATUS[error.code] ?? 502)
        .send({ error: error.code, message: error.message });
    }
    if (error instanceof ControllerLinkError) {
      return reply.code(503).send({
        error: 'controller-unavailable',
        message: `${error.message}; the controller keeps stations safe on its own, try again shortly`,
      });
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status === 429) {
      // @fastify/rate-limit's own error (the login limit per address).
      return reply.code(429).send({ error: 'rate-limited', message: error.message });
    }
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: error.code ?? 'bad-request', message: error.message });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error (logged on the gateway)' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: 'not-found',
      message: `no route ${request.method} ${request.url.length > 200 ? `${request.url.slice(0, 200)}…` : request.url}`,
    }),
  );
}
