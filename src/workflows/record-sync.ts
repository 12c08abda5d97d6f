import { defineQuery, patched, setCurrentDetails, setHandler, upsertSearchAttributes, uuid4, workflowInfo } from '@temporalio/workflow';
import type { ImportCounts, OperationTrigger } from '../domain.js';
import { ProductIdKey } from '../search-attributes.js';
import type { ApplyReimportInput, ApplyReimportResult, FetchFindingsInput, FetchFindingsResult, PrepareRecordSyncResult } from '../activities/index.js';
import { closingOnFailure, finishOperation, startOperation } from './operation.js';
import { db, describeFailure, localReimport, locallyFirst, localTool, reimport, tool } from './shared.js';

/** Fetches of one run before a fetch whose staging keeps going missing fails the run. */
const MAX_FETCHES = 3;

/**
 * Since this patch the fetch also checks the record and its Test, and the apply notes the outcome: two activities
 * per record instead of four (docs/scaling.md).
 */
const FOLDED_RECORD_STEPS = 'folded-record-steps';

/** Since this patch the fetch and the apply are tried as local activities first (`locallyFirst`). */
const LOCAL_RECORD_STEPS = 'local-record-steps';

/** A larger apply runs as a regular activity at once: it would hold the workflow task open for seconds. */
const LOCAL_APPLY_MAX_ITEMS = 5_000;

export interface RecordSyncInput {
  connectorId: string;
  recordId: string;
  trigger: OperationTrigger;
  /** The Operation the API created for this run (a single-record sync started by a person). */
  operationId?: string | null;
  /** Set when this run is one record of a connector sync, which owns the Operation. */
  parentOperationId?: string | null;
}

export interface RecordSyncResult {
  status: 'succeeded' | 'skipped';
  reason?: string;
  importId?: string;
  items?: number;
  counts?: ImportCounts;
}

export interface RecordSyncProgress {
  phase: 'preparing' | 'fetching' | 'applying' | 'succeeded' | 'skipped' | 'failed';
  fetchedItems?: number;
  counts?: ImportCounts;
  error?: { type: string; message: string };
}

export const progressQuery = defineQuery<RecordSyncProgress | Record<string, unknown>>('progress');

/**
 * Syncs one mapped Record: fetch its current findings into staging (resumable), then reimport them in
 * one transaction. Only ids and counts pass through history. A failed fetch never reaches the
 * reimport, so it closes nothing; the run then fails with the typed error an operator can act on.
 * Workflow id `sync/<connectorId>/<recordId>`: one sync of a record at a time.
 */
export async function recordSync(input: RecordSyncInput): Promise<RecordSyncResult> {
  const progress: RecordSyncProgress = { phase: 'preparing' };
  setHandler(progressQuery, () => progress);

  const ownOperation = !input.parentOperationId;
  const operationId = ownOperation
    ? (await startOperation({ operationId: input.operationId ?? null, connectorId: input.connectorId, recordId: input.recordId, type: 'sync', trigger: input.trigger }))
        .operationId
    : input.parentOperationId!;
  const closing = {
    operationId: ownOperation ? operationId : null,
    summary: () => ({ records: 1, recordsFailed: 1 }),
    onFailure: async (failure: { type: string; message: string }) => {
      progress.phase = 'failed';
      progress.error = failure;
      setCurrentDetails(`failed: ${failure.type} — ${failure.message}`);
      await db.recordSyncOutcome({ recordId: input.recordId, status: 'failed', errorType: failure.type, errorMessage: failure.message });
    },
  };

  return closingOnFailure(closing, async () => {
    // Runs started before the record's steps were folded into the fetch and the apply replay the older path.
    if (!patched(FOLDED_RECORD_STEPS)) return syncInSteps(input, operationId, ownOperation, progress);
    const local = patched(LOCAL_RECORD_STEPS);
    const fetchFindings = (i: FetchFindingsInput) => (local ? locallyFirst(localTool.fetchFindings, tool.fetchFindings, i) : tool.fetchFindings(i));
    const applyReimport = (i: ApplyReimportInput) =>
      local && (i.fetched ?? 0) <= LOCAL_APPLY_MAX_ITEMS ? locallyFirst(localReimport.applyReimport, reimport.applyReimport, i) : reimport.applyReimport(i);
    const fetchId = uuid4();
    let prepared: PrepareRecordSyncResult | undefined;
    let fetched: FetchFindingsResult;
    let applied: ApplyReimportResult;
    for (let attempt = 1; ; attempt++) {
      progress.phase = 'fetching';
      fetched = await fetchFindings({ fetchId, connectorId: input.connectorId, recordId: input.recordId, operationId, prepare: true });
      prepared = fetched.prepared ?? prepared;
      if (attempt === 1 && prepared) describeRecord(prepared);
      if (!prepared?.syncable || !prepared.testId) return skip(input.recordId, prepared, operationId, ownOperation, progress);
      progress.fetchedItems = fetched.items;
      progress.phase = 'applying';
      try {
        applied = await applyReimport({ fetchId, connectorId: input.connectorId, testId: prepared.testId, operationId, recordId: input.recordId, fetched: fetched.items });
        break;
      } catch (err) {
        // Staged rows went missing after the fetch (the apply reset it): fetch again rather than apply less.
        if (describeFailure(err).type !== 'STAGING_INCOMPLETE' || attempt >= MAX_FETCHES) throw err;
      }
    }
    return succeeded(prepared, fetched, applied, operationId, ownOperation, progress);
  });
}

/** The run's one-line summary in the Temporal UI; the ProductId search attribute when the starter did not set it. */
function describeRecord(prepared: PrepareRecordSyncResult): void {
  setCurrentDetails(`**${prepared.tool}** · ${prepared.connectorLabel} · record _${prepared.recordName}_`);
  // A search-attribute upsert is a billed action: only when the starter (the API, for one record) left it out.
  if (prepared.productId && workflowInfo().typedSearchAttributes.get(ProductIdKey) !== prepared.productId) {
    upsertSearchAttributes([{ key: ProductIdKey, value: prepared.productId }]);
  }
}

async function skip(
  recordId: string,
  prepared: PrepareRecordSyncResult | undefined,
  operationId: string,
  ownOperation: boolean,
  progress: RecordSyncProgress,
): Promise<RecordSyncResult> {
  progress.phase = 'skipped';
  if (ownOperation) {
    await finishOperation({ operationId, status: 'succeeded', summary: { records: 1, recordsSkipped: 1, skippedRecords: [{ recordId, reason: prepared?.reason ?? 'not syncable' }] } });
  }
  return { status: 'skipped' as const, reason: prepared?.reason };
}

async function succeeded(
  prepared: PrepareRecordSyncResult,
  fetched: FetchFindingsResult,
  applied: ApplyReimportResult,
  operationId: string,
  ownOperation: boolean,
  progress: RecordSyncProgress,
): Promise<RecordSyncResult> {
  const c = applied.counts;
  progress.counts = c;
  progress.phase = 'succeeded';
  setCurrentDetails(
    `**${prepared.tool}** · ${prepared.connectorLabel} · record _${prepared.recordName}_ — fetched ${fetched.items}: ` +
      `${c.created} created, ${c.closed} closed, ${c.reactivated} reactivated, ${c.updated} updated, ${c.untouched} untouched`,
  );
  if (ownOperation) {
    await finishOperation({ operationId, status: 'succeeded', summary: { records: 1, recordsSucceeded: 1, fetched: fetched.items, ...c } });
  }
  return { status: 'succeeded' as const, importId: applied.importId, items: fetched.items, counts: c };
}

/**
 * The record's sync as runs started before FOLDED_RECORD_STEPS took it: prepare, fetch, apply and the outcome
 * as four activities. Kept so those runs replay; new runs never take it.
 */
async function syncInSteps(input: RecordSyncInput, operationId: string, ownOperation: boolean, progress: RecordSyncProgress): Promise<RecordSyncResult> {
  const prepared = await db.prepareRecordSync({ connectorId: input.connectorId, recordId: input.recordId });
  setCurrentDetails(`**${prepared.tool}** · ${prepared.connectorLabel} · record _${prepared.recordName}_`);
  if (!prepared.syncable || !prepared.testId) return skip(input.recordId, prepared, operationId, ownOperation, progress);
  if (prepared.productId) upsertSearchAttributes([{ key: ProductIdKey, value: prepared.productId }]);

  const fetchId = uuid4();
  let fetched: FetchFindingsResult;
  let applied: ApplyReimportResult;
  for (let attempt = 1; ; attempt++) {
    progress.phase = 'fetching';
    fetched = await tool.fetchFindings({ fetchId, connectorId: input.connectorId, recordId: input.recordId, operationId });
    progress.fetchedItems = fetched.items;
    progress.phase = 'applying';
    try {
      applied = await reimport.applyReimport({ fetchId, connectorId: input.connectorId, testId: prepared.testId, operationId });
      break;
    } catch (err) {
      if (describeFailure(err).type !== 'STAGING_INCOMPLETE' || attempt >= MAX_FETCHES) throw err;
    }
  }
  await db.recordSyncOutcome({ recordId: input.recordId, status: 'succeeded', fetched: fetched.items, counts: applied.counts });
  return succeeded(prepared, fetched, applied, operationId, ownOperation, progress);
}
