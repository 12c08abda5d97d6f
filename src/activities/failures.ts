import { ApplicationFailure } from '@temporalio/common';
import { ConnectorError } from '../errors.js';

/** Default cap on a wait a tool asks for: a tool asking for a day must not stall the daily run. */
export const DEFAULT_MAX_TOOL_WAIT_MS = 15 * 60_000;

/** What a tool call's failure carries besides its type and message. */
export interface ToolFailureDetails {
  status: number | null;
  retryAfterMs: number | null;
}

/**
 * Turns a connector's typed error into the failure Temporal acts on: the type is kept, non-retryable
 * types fail fast, and a server-given delay becomes the next retry's delay, cut to `maxWaitMs`. Anything
 * else is rethrown as is (a database error, say, is retried by the activity's policy).
 */
export function toActivityFailure(err: unknown, maxWaitMs = DEFAULT_MAX_TOOL_WAIT_MS): unknown {
  if (err instanceof ConnectorError) {
    const delay = err.details.retryAfterMs === undefined ? undefined : Math.min(err.details.retryAfterMs, maxWaitMs);
    return ApplicationFailure.create({
      type: err.type,
      message: err.message,
      nonRetryable: !err.retryable,
      nextRetryDelay: delay,
      // The delay again, for a workflow: it does not get a failure's nextRetryDelay (a local attempt's wait).
      details: [{ status: err.details.status ?? null, retryAfterMs: delay ?? null } satisfies ToolFailureDetails],
    });
  }
  return err;
}
