import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { DatabaseActivities, ReimportActivities, ToolActivities } from '../activities/index.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors.js';

const retry = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '5m',
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
};

const databaseOptions: ActivityOptions = { startToCloseTimeout: '2m', retry: { ...retry, maximumAttempts: 10 } };

/** Activities that only touch PostgreSQL: short, retried generously. */
export const db = proxyActivities<DatabaseActivities>(databaseOptions);

/**
 * Activities that call the tool: heartbeated, retried with the server's delay, typed failures fail fast.
 * The heartbeat timeout stays at 2 min: with 30 s, the dev server retried an attempt that failed with a
 * one-hour `nextRetryDelay` (a tool's Retry-After) within a second (npm run chaos, 429 row).
 */
export const tool = proxyActivities<ToolActivities>({
  startToCloseTimeout: '1h',
  heartbeatTimeout: '2m',
  retry: { ...retry, maximumAttempts: 6 },
});

/**
 * The reimport can take a while on a large record but must never be cut short halfway (it is one transaction);
 * it heartbeats while alive, so a dead worker's reimport is retried within 30 s, not after 30 min.
 */
export const reimport = proxyActivities<ReimportActivities>({ startToCloseTimeout: '30m', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: 10 } });

/** The error type and message an operator should see, from whatever failed below a workflow. */
export function describeFailure(err: unknown): { type: string; message: string } {
  let cause: unknown = err;
  while (cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) {
    if (!cause.cause) break;
    cause = cause.cause;
  }
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'ERROR', message: cause.message };
  if (cause instanceof Error) return { type: 'ERROR', message: cause.message };
  return { type: 'ERROR', message: String(cause) };
}
