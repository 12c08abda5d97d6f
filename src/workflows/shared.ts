import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { DatabaseActivities, ReimportActivities, ToolActivities } from '../activities/index.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors.js';

const retry = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '5m',
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
};

/**
 * How soon a dead worker's activity is given to another worker: database steps are short, and the long
 * activities heartbeat every few seconds, so nothing holds a record for minutes on a worker that is gone.
 */
const DEAD_WORKER_NOTICED_AFTER = '20s';

const databaseOptions: ActivityOptions = { startToCloseTimeout: DEAD_WORKER_NOTICED_AFTER, retry: { ...retry, maximumAttempts: 10 } };

/** Activities that only touch PostgreSQL: short, retried generously. */
export const db = proxyActivities<DatabaseActivities>(databaseOptions);

/**
 * Activities that call the tool: heartbeated, retried with the server's delay (capped by the worker), typed
 * failures fail fast. Every fetch has an overall deadline, so a run always ends and the schedule's SKIP
 * policy never blocks the next day.
 */
export const tool = proxyActivities<ToolActivities>({
  startToCloseTimeout: '1h',
  scheduleToCloseTimeout: '4h',
  heartbeatTimeout: DEAD_WORKER_NOTICED_AFTER,
  retry: { ...retry, maximumAttempts: 6 },
});

/**
 * The reimport can take a while on a large record but must never be cut short halfway (it is one
 * transaction); it heartbeats while it runs, and a dead worker's transaction is rolled back by PostgreSQL.
 */
export const reimport = proxyActivities<ReimportActivities>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: DEAD_WORKER_NOTICED_AFTER,
  retry: { ...retry, maximumAttempts: 10 },
});

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
