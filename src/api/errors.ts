import type { ErrorRequestHandler } from 'express';
import {
  ConnectionException,
  ForeignKeyConstraintViolationException,
  NotFoundError,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { isGrpcServiceError } from '@temporalio/client';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ConnectorError } from '../errors.js';

/** The body of every error answer: a stable `code` a script can branch on, a sentence for a person, and details. */
export const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).nullable().describe('what the error is about: `issues` of a 400 (where and what), the `id` of a 404, …'),
  }),
});
export type ErrorBody = z.infer<typeof errorBody>;

/**
 * An error the API answers as is: the status, code and message are meant for the caller, so they must
 * never carry a secret or an internal detail.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> | null = null,
  ) {
    super(message);
  }
}

export const notFound = (what: string, id: string | number) => new ApiError(404, 'NOT_FOUND', `${what} ${id} not found`, { id });
export const conflict = (code: string, message: string, details: Record<string, unknown> | null = null) => new ApiError(409, code, message, details);
export const unauthorized = (message: string) => new ApiError(401, 'UNAUTHORIZED', message);

/** Runs and schedules only go ahead for an enabled connector (409 CONNECTOR_DISABLED otherwise). */
export function requireEnabled(connector: { enabled: boolean }, remedy = 'enable it first'): void {
  if (!connector.enabled) throw conflict('CONNECTOR_DISABLED', `the connector is disabled; ${remedy}`);
}

/** Zod issues as the `details` of a 400: where (`in` body/query/params plus the path) and what is wrong. */
export function validationFailed(location: 'body' | 'query' | 'params', error: z.ZodError, prefix: (string | number)[] = []): ApiError {
  const unknown = location === 'query' ? 'unknown query parameter' : 'unknown field';
  // A key the schema does not name is one issue per key, at the key's own path, so the message names it.
  const issues = error.issues.flatMap((issue) =>
    (issue.code === 'unrecognized_keys' ? issue.keys.map((key) => ({ path: [...issue.path, key], message: unknown })) : [{ path: issue.path, message: issue.message }]).map(
      ({ path, message }) => ({
        in: location,
        path: [...prefix, ...path].map((segment) => (typeof segment === 'symbol' ? String(segment) : segment)),
        code: issue.code,
        message,
      }),
    ),
  );
  const first = issues[0];
  const where = first && first.path.length > 0 ? `${location}.${first.path.join('.')}` : location;
  return new ApiError(400, 'VALIDATION_FAILED', `invalid request: ${where}: ${first?.message ?? 'invalid'}`, { issues });
}

const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

const UNIQUE_MESSAGES: Record<string, string> = {
  connector_tool_label_unique: 'a connector of this tool with this label already exists',
  product_name_unique: 'a product with this name already exists',
  tool_record_connector_id_external_id_unique: 'the connector already has a record with this external id',
};

/** Temporal's gRPC failures that mean "not reachable now", also when the SDK wraps them in a ServiceError. */
function temporalUnreachable(err: unknown): boolean {
  for (let cause = err, depth = 0; cause && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(cause) && (cause.code === GRPC_UNAVAILABLE || cause.code === GRPC_DEADLINE_EXCEEDED)) return true;
  }
  return false;
}

/**
 * PostgreSQL refusing or dropping connections (down, restarting, shutting down): socket errors and SQLSTATE
 * classes 08 (connection exception) and 57P (operator intervention).
 */
function databaseUnreachable(err: unknown): boolean {
  for (let cause = err, depth = 0; cause && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    if (cause instanceof ConnectionException) return true;
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && (/^(08|57P)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(code))) return true;
  }
  return false;
}

/** Seconds a caller should wait before retrying a 503. */
const RETRY_AFTER_SECONDS = '5';

/** Body-parser failures carry a `type` and a `status`; these are the ones a caller can cause. */
function bodyParserError(err: unknown): ApiError | null {
  if (typeof err !== 'object' || err === null || !('type' in err)) return null;
  switch ((err as { type: unknown }).type) {
    case 'entity.parse.failed':
      return new ApiError(400, 'MALFORMED_JSON', 'the request body is not valid JSON');
    case 'entity.too.large':
      return new ApiError(413, 'PAYLOAD_TOO_LARGE', 'the request body is too large', { limit: (err as { limit?: number }).limit ?? null });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'the request body encoding is not supported');
    case 'request.aborted':
      return new ApiError(400, 'REQUEST_ABORTED', 'the request was aborted');
    default:
      return null;
  }
}

/** Maps what a handler throws to the answer the caller gets; anything unexpected is a generic 500. */
export function toApiError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err;
  const parser = bodyParserError(err);
  if (parser) return parser;
  // The router decodes path parameters before any handler runs; a bad percent-escape is the caller's.
  if (err instanceof URIError) return new ApiError(400, 'MALFORMED_PATH', 'the path is not valid percent-encoding');
  if (err instanceof UniqueConstraintViolationException) {
    const constraint = (err as { constraint?: string }).constraint;
    return conflict('CONFLICT', (constraint && UNIQUE_MESSAGES[constraint]) || 'conflicts with an existing resource', constraint ? { constraint } : null);
  }
  if (err instanceof ForeignKeyConstraintViolationException) {
    return conflict('CONFLICT', 'refers to a resource that does not exist or is still referenced');
  }
  if (err instanceof NotFoundError) return new ApiError(404, 'NOT_FOUND', 'not found');
  if (err instanceof ConnectorError) return new ApiError(422, err.type, err.message);
  if (temporalUnreachable(err)) return new ApiError(503, 'TEMPORAL_UNAVAILABLE', 'Temporal is unavailable; try again later');
  if (databaseUnreachable(err)) return new ApiError(503, 'DATABASE_UNAVAILABLE', 'PostgreSQL is unavailable; try again later');
  return null;
}

/**
 * The one error middleware. Known errors answer with their status and code; anything else is logged
 * (with the request id, never the body) and answered as a generic 500 so no stack trace or secret leaks.
 */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const requestId = res.locals.requestId as string | undefined;
    const known = toApiError(err);
    if (known) {
      if (known.status >= 500) logger.warn({ requestId, code: known.code }, known.message);
      if (known.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
      if (known.status === 503) res.setHeader('Retry-After', RETRY_AFTER_SECONDS);
      res.status(known.status).json({ error: { code: known.code, message: known.message, details: known.details } } satisfies ErrorBody);
      return;
    }
    logger.error({ requestId, method: req.method, path: req.path, err }, 'request failed');
    res.status(500).json({ error: { code: 'INTERNAL', message: 'internal error', details: requestId ? { requestId } : null } } satisfies ErrorBody);
  };
}
