import { ApplicationFailure } from '@temporalio/common';
import { ConnectorError } from '../errors.js';

/**
 * Turns a connector's typed error into the failure Temporal acts on: the type is kept, non-retryable
 * types fail fast, and a server-given delay becomes the next retry's delay. Anything else is rethrown
 * as is (a database error, say, is retried by the activity's policy).
 */
export function toActivityFailure(err: unknown): unknown {
  if (err instanceof ConnectorError) {
    return ApplicationFailure.create({
      type: err.type,
      message: err.message,
      nonRetryable: !err.retryable,
      nextRetryDelay: err.details.retryAfterMs,
      details: [{ status: err.details.status ?? null }],
    });
  }
  return err;
}
