import { ApplicationFailure, CancellationScope, ContinueAsNew, isCancellation, workflowInfo } from '@temporalio/workflow';
import type { FinishOperationInput, StartOperationInput, StartOperationResult } from '../activities/index.js';
import type { OperationError, OperationSummary } from '../db/entities.js';
import { db, describeFailure } from './shared.js';

/**
 * The one owner of an Operation's lifecycle for the three workflows: it is started (or adopted from the
 * API) by the run, finished with its counts, and — whatever ends the run early, a failure or a
 * cancellation — closed as failed with the reason, so an Operation never stays `running` after its run.
 */
export function startOperation(input: Omit<StartOperationInput, 'workflowId' | 'runId'>): Promise<StartOperationResult> {
  const info = workflowInfo();
  return db.startOperation({ ...input, workflowId: info.workflowId, runId: info.runId });
}

export function finishOperation(input: FinishOperationInput): Promise<void> {
  return db.finishOperation(input);
}

/** What ended a run early, as the Operation and the operator see it. */
export function failureOf(err: unknown): OperationError {
  return isCancellation(err) ? { type: 'CANCELLED', message: 'the run was cancelled' } : describeFailure(err);
}

export interface ClosingOptions {
  /** The Operation to close; null when another run owns it (a record sync inside a connector sync). */
  operationId: string | null;
  /** The counts so far, kept on the closed Operation. */
  summary?: () => OperationSummary | undefined;
  /** Put before the failure's message in the run's failure, e.g. "discover failed: ". */
  messagePrefix?: string;
  /** Further bookkeeping once the run failed (runs even when it was cancelled). */
  onFailure?: (failure: OperationError) => Promise<void>;
}

/**
 * Runs `body`; if it throws, closes the Operation as failed (cancelled runs included) and fails the run
 * with the typed error, not retried (the activities below already retried what could be). Continue-as-new
 * passes through: the Operation goes on in the next run.
 */
export async function closingOnFailure<T>(options: ClosingOptions, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    const failure = failureOf(err);
    await CancellationScope.nonCancellable(async () => {
      await options.onFailure?.(failure);
      if (options.operationId) {
        await db.finishOperation({ operationId: options.operationId, status: 'failed', summary: options.summary?.() ?? null, error: failure });
      }
    });
    if (isCancellation(err)) throw err;
    throw ApplicationFailure.create({ type: failure.type, message: `${options.messagePrefix ?? ''}${failure.message}`, nonRetryable: true });
  }
}
