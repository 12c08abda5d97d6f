import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, isCancellation, proxyActivities, proxyLocalActivities, sleep, type ActivityOptions } from '@temporalio/workflow';
import type { DatabaseActivities, ReimportActivities, ToolActivities } from '../activities/index.js';
import type { ToolFailureDetails } from '../activities/failures.js';
import { isRetryableType, NON_RETRYABLE_ERROR_TYPES, type ErrorType } from '../errors.js';

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

/**
 * A record's fetch and apply are tried first as local activities: they run in the workflow task that schedules
 * them, which spares Temporal two activity tasks and most of a record's history (docs/scaling.md). One attempt,
 * for a few seconds: a step that fails for a reason worth retrying, or takes longer, goes on as the regular
 * activity (`locallyFirst`), heartbeated and retried, and visible to operators as a pending activity.
 */
const LOCAL_ATTEMPT = { startToCloseTimeout: '5s', retry: { maximumAttempts: 1 } } as const;
export const localTool = proxyLocalActivities<ToolActivities>(LOCAL_ATTEMPT);
export const localReimport = proxyLocalActivities<ReimportActivities>(LOCAL_ATTEMPT);

/**
 * Runs a step as `local` once, then as `regular` when the local attempt failed for a reason a retry may cure or
 * ran out of time; a wait the tool asked for is taken first. Both are idempotent (a fetch resumes from its staged
 * pages, an apply is keyed by its fetch), so a local attempt still running when the regular one starts is harmless.
 */
export async function locallyFirst<I, R>(local: (input: I) => Promise<R>, regular: (input: I) => Promise<R>, input: I): Promise<R> {
  try {
    return await local(input);
  } catch (err) {
    if (isCancellation(err) || !isRetryableType(describeFailure(err).type as ErrorType)) throw err;
    const cause = rootCause(err);
    const wait = cause instanceof ApplicationFailure ? (cause.details?.[0] as Partial<ToolFailureDetails> | undefined)?.retryAfterMs : null;
    if (wait) await sleep(wait);
    return regular(input);
  }
}

/** What failed below a workflow: the failure inside the activity or child failures that wrap it (a local activity's comes unwrapped). */
function rootCause(err: unknown): unknown {
  let cause: unknown = err;
  while ((cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) && cause.cause) cause = cause.cause;
  return cause;
}

/** The error type and message an operator should see, from whatever failed below a workflow. */
export function describeFailure(err: unknown): { type: string; message: string } {
  const cause = rootCause(err);
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'ERROR', message: cause.message };
  if (cause instanceof Error) return { type: 'ERROR', message: cause.message };
  return { type: 'ERROR', message: String(cause) };
}
