import {
  ApplicationFailure,
  ParentClosePolicy,
  continueAsNew,
  defineQuery,
  isCancellation,
  setCurrentDetails,
  setHandler,
  startChild,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { OperationSummary } from '../db/entities.js';
import type { OperationTrigger } from '../domain.js';
import { ProductIdKey, RecordIdKey, connectorRunAttributes } from '../search-attributes.js';
import { recordSyncWorkflowId } from '../workflow-ids.js';
import { recordSync } from './record-sync.js';
import type { ListSyncableRecordsResult } from '../activities/index.js';
import { closingOnFailure, finishOperation, startOperation } from './operation.js';
import { db, describeFailure, tool } from './shared.js';

/** State carried across continue-as-new; ids and counts only. */
export interface ConnectorSyncState {
  operationId: string;
  tool: string;
  /** The tool's display name and the connector's label, as people know them (run summaries). */
  toolName?: string;
  connectorLabel?: string;
  afterId: string | null;
  /** The window the worker derived at discovery (DiscoverRecordsResult.window). */
  window?: number;
  summary: OperationSummary;
  failures: { recordId: string; type: string; message: string }[];
}

export interface ConnectorSyncInput {
  connectorId: string;
  trigger: OperationTrigger;
  /** The Operation the API created for a manual run; scheduled runs create their own. */
  operationId?: string | null;
  /** How many record syncs run at once; left out, the worker derives it (activities `syncWindow`). */
  concurrency?: number;
  /** Record syncs started per run before continuing as new (keeps history small for large connectors). */
  recordsPerRun?: number;
  /** Set only by continue-as-new. */
  state?: ConnectorSyncState;
}

export interface ConnectorSyncResult {
  operationId: string;
  /** `skipped`: another sync of the connector was running; this run deferred to its Operation. */
  status: 'succeeded' | 'partial' | 'failed' | 'skipped';
  summary: OperationSummary;
}

export const connectorProgressQuery = defineQuery<Record<string, unknown>>('progress');

const MAX_FAILURES_KEPT = 100;
const PAGE_SIZE = 100;

/**
 * Syncs a whole connector: discovers its Records, then runs one `recordSync` child per mapped Record in
 * a bounded window, continuing as new every `recordsPerRun` records so connectors with thousands of
 * Records keep a small history. One failed Record makes the Operation `partial`, never a lost run.
 */
export async function connectorSync(input: ConnectorSyncInput): Promise<ConnectorSyncResult> {
  let state: ConnectorSyncState;
  const inFlight = new Map<string, Promise<void>>();
  const progress = () => ({ ...state?.summary, inFlight: inFlight.size, failures: state?.failures.length ?? 0 });
  setHandler(connectorProgressQuery, progress);

  if (input.state) {
    state = input.state;
  } else {
    const { operationId, deferTo } = await startOperation({ operationId: input.operationId ?? null, connectorId: input.connectorId, type: 'sync', trigger: input.trigger });
    if (deferTo) {
      setCurrentDetails(`skipped: a sync of this connector is already running (${deferTo.workflowId})`);
      return { operationId, status: 'skipped', summary: {} };
    }
    state = { operationId, tool: '', afterId: null, summary: { records: 0, recordsSucceeded: 0, recordsFailed: 0, recordsSkipped: 0, fetched: 0, created: 0, closed: 0, reactivated: 0, untouched: 0, updated: 0 }, failures: [] };
  }
  return closingOnFailure({ operationId: state.operationId, summary: () => state.summary }, () => syncRecords(input, state, inFlight));
}

/** Discovers (in the first run), then syncs the next records in a bounded window; continues as new or finishes. */
async function syncRecords(input: ConnectorSyncInput, state: ConnectorSyncState, inFlight: Map<string, Promise<void>>): Promise<ConnectorSyncResult> {
  if (!input.state) {
    try {
      const discovered = await tool.discoverRecords({ connectorId: input.connectorId });
      state.tool = discovered.tool;
      state.toolName = discovered.toolName;
      state.connectorLabel = discovered.connectorLabel;
      state.summary.discovered = discovered.discovered;
      state.window = discovered.window;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const failure = describeFailure(err);
      throw ApplicationFailure.create({ type: failure.type, message: `discover failed: ${failure.message}`, nonRetryable: true });
    }
  }
  // An explicit window wins; else the one the worker derived at discovery. Runs whose discovery predates
  // that (no window in their history) keep the fixed 4 they started with.
  const concurrency = Math.max(1, input.concurrency ?? state.window ?? 4);
  const recordsPerRun = Math.max(concurrency, input.recordsPerRun ?? 500);
  state.summary.window = concurrency;

  const summary = state.summary;
  type Count = { [K in keyof OperationSummary]-?: OperationSummary[K] extends number | undefined ? K : never }[keyof OperationSummary];
  const add = (key: Count, n = 1) => {
    summary[key] = (summary[key] ?? 0) + n;
  };

  function skipped(recordId: string, reason: string): void {
    add('recordsSkipped');
    const kept = (summary.skippedRecords ??= []);
    if (kept.length < MAX_FAILURES_KEPT) kept.push({ recordId, reason });
  }

  async function syncOne({ recordId, productId, recordName, productName }: ListSyncableRecordsResult['records'][number]): Promise<void> {
    try {
      const child = await startChild(recordSync, {
        workflowId: recordSyncWorkflowId(input.connectorId, recordId),
        args: [{ connectorId: input.connectorId, recordId, trigger: input.trigger, parentOperationId: state.operationId }],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        typedSearchAttributes: [
          ...connectorRunAttributes({ id: input.connectorId, tool: state.tool }, input.trigger),
          { key: RecordIdKey, value: recordId },
          { key: ProductIdKey, value: productId },
        ],
        staticSummary: `Sync ${state.toolName ?? state.tool} record "${recordName}" into product "${productName}" (connector "${state.connectorLabel ?? input.connectorId}", ${input.trigger})`,
      });
      const result = await child.result();
      if (result.status === 'skipped') {
        skipped(recordId, result.reason ?? 'not syncable');
        return;
      }
      add('recordsSucceeded');
      add('fetched', result.items ?? 0);
      for (const key of ['created', 'closed', 'reactivated', 'untouched', 'updated'] as const) add(key, result.counts?.[key] ?? 0);
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        skipped(recordId, 'the record is already syncing in another run');
        return;
      }
      if (isCancellation(err)) throw err;
      add('recordsFailed');
      const failure = describeFailure(err);
      if (state.failures.length < MAX_FAILURES_KEPT) state.failures.push({ recordId, ...failure });
    }
  }

  let startedThisRun = 0;
  let exhausted = false;
  while (!exhausted && startedThisRun < recordsPerRun) {
      const page = await db.listSyncableRecords({
        connectorId: input.connectorId,
        afterId: state.afterId,
        limit: Math.min(PAGE_SIZE, recordsPerRun - startedThisRun),
      });
      if (page.records.length === 0) exhausted = true;
      for (const record of page.records) {
        const { recordId } = record;
        while (inFlight.size >= concurrency) await Promise.race(inFlight.values());
        const running = syncOne(record).finally(() => inFlight.delete(recordId));
        inFlight.set(recordId, running);
        add('records');
        state.afterId = recordId;
        startedThisRun++;
        setCurrentDetails(`${summary.records} records started, ${summary.recordsFailed} failed`);
      }
    }
  await Promise.all(inFlight.values());

  if (!exhausted) {
    return continueAsNew<typeof connectorSync>({ ...input, state });
  }

  const failed = summary.recordsFailed ?? 0;
  const status = failed === 0 ? 'succeeded' : failed === summary.records ? 'failed' : 'partial';
  await finishOperation({
    operationId: state.operationId,
    status,
    summary,
    error: failed > 0 ? { type: 'RECORDS_FAILED', message: `${failed} of ${summary.records} records failed`, records: state.failures } : null,
  });
  setCurrentDetails(
    `${status}: ${summary.records} records (${failed} failed, ${summary.recordsSkipped} skipped) — ` +
      `${summary.created} created, ${summary.closed} closed, ${summary.reactivated} reactivated, ${summary.updated} updated, ${summary.untouched} untouched`,
  );
  return { operationId: state.operationId, status, summary };
}
