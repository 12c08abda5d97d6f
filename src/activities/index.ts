import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Outbound } from '../connectors/http/outbound.js';
import { connectorFor, connectors, type ToolRegistry } from '../connectors/index.js';
import { openConnector } from '../connectors/manage.js';
import { isRestartCursor, type ConnectorContext, type StoredCursor, type ToolConnector } from '../connectors/types.js';
import { Connector, Operation, SyncFetch, ToolRecord, type OperationError, type OperationSummary } from '../db/entities.js';
import type { SecretBox } from '../db/secrets.js';
import type { ImportCounts, OperationStatus, OperationTrigger, OperationType } from '../domain.js';
import { ConnectorError, type ErrorType } from '../errors.js';
import { markMissing, reconcileRecordPage, testIdFor, type ReconcileResult } from '../records/index.js';
import { applyReimportSql } from '../reimport/apply-reimport.js';
import { createPageStager, discardStagedPages, stagedPagesIntact } from '../reimport/staging.js';
import type { WorkerMetrics } from '../telemetry/worker-metrics.js';
import { activeOperation, lockConnector } from '../temporal/runs.js';
import { toActivityFailure } from './failures.js';

export interface ActivityDeps {
  orm: MikroORM;
  /** Plain connections for bulk staging (COPY), beside the ORM's. */
  pool: pg.Pool;
  secrets: SecretBox;
  logger: Logger;
  /** Temporal, to tell whether the run behind an active Operation still runs (one connector sync at a time). */
  temporal?: Client;
  /** Longest wait a tool may ask for before the next attempt (Retry-After, rate-limit resets). */
  maxToolWaitMs?: number;
  /** Where tool requests may go; the default policy when left out. */
  outbound?: Outbound;
  /** Which connector implements a tool (tests may swap in their own registry). */
  connectors?: ToolRegistry;
  /** The worker's own counters (tool API calls and errors, findings fetched, record syncs). */
  metrics?: WorkerMetrics;
  /** Record syncs this worker can run at once (its activity slots and connections); see `syncWindow`. */
  workerWindow?: number;
}

/** A tool request's usual round trip, for turning a rate limit into requests in flight (Little's law). */
const USUAL_REQUEST_SECONDS = 0.5;

/**
 * The default window of a connector sync: as many records at once as the worker can run (each record runs one
 * activity at a time, and a reimport holds one connection), and no more fetches in flight than the tool's rate
 * limit sustains (requests a second × a request's round trip); a 429 beyond it is still waited out.
 */
export function syncWindow(workerWindow: number, tool: Pick<ToolConnector, 'requestsPerMinute'>): number {
  const toolWindow = tool.requestsPerMinute ? Math.floor((tool.requestsPerMinute / 60) * USUAL_REQUEST_SECONDS) : workerWindow;
  return Math.max(1, Math.min(workerWindow, toolWindow));
}

export interface StartOperationInput {
  operationId?: string | null;
  connectorId: string;
  recordId?: string | null;
  type: OperationType;
  trigger: OperationTrigger;
  workflowId: string;
  runId: string;
}

export interface FinishOperationInput {
  operationId: string;
  status: OperationStatus;
  summary?: OperationSummary | null;
  error?: OperationError | null;
}

export interface DiscoverRecordsInput {
  connectorId: string;
}
export interface DiscoverRecordsResult extends ReconcileResult {
  tool: string;
  /** How people know the connector, for run summaries in the Temporal UI. */
  toolName: string;
  connectorLabel: string;
  /** How many records this worker and the tool take at once (`syncWindow`); the connector sync's default window. */
  window?: number;
}

export interface ListSyncableRecordsInput {
  connectorId: string;
  afterId: string | null;
  limit: number;
}
export interface ListSyncableRecordsResult {
  /** Ids, and the names people know them by (for the record runs' summaries). */
  records: { recordId: string; productId: string; recordName: string; productName: string }[];
}

export interface PrepareRecordSyncInput {
  connectorId: string;
  recordId: string;
}
/** The run's Operation, or — for a scheduled connector sync while another sync of the connector runs — the one it defers to. */
export interface StartOperationResult {
  operationId: string;
  /** Set when this run must not go ahead: another sync of the connector is running (its Operation). */
  deferTo?: { operationId: string; workflowId: string };
}

/** Ids and names only: what the workflow needs for search attributes, its summary, and the reimport. */
export interface PrepareRecordSyncResult {
  syncable: boolean;
  reason?: string;
  tool: string;
  connectorLabel: string;
  recordName: string;
  productId: string | null;
  testId: string | null;
}

export interface FetchFindingsInput {
  fetchId: string;
  connectorId: string;
  recordId: string;
  operationId: string | null;
  /**
   * Check the Record can sync and make sure its Test exists first (what `prepareRecordSync` does), answering
   * `prepared`: one activity instead of two per record. A record that cannot sync is not fetched.
   */
  prepare?: boolean;
}
export interface FetchFindingsResult {
  fetchId: string;
  items: number;
  pages: number;
  /** Set when the input asked to prepare. */
  prepared?: PrepareRecordSyncResult;
}

export interface ApplyReimportInput {
  fetchId: string;
  connectorId: string;
  testId: string;
  operationId: string | null;
  /** Record the sync's success on this Record once applied (what `recordSyncOutcome` does), saving an activity per record. */
  recordId?: string | null;
  /** Items the fetch staged, for the outcome's log line. */
  fetched?: number;
}
export interface ApplyReimportResult {
  importId: string;
  counts: ImportCounts;
  alreadyApplied: boolean;
}

export interface RecordSyncOutcomeInput {
  recordId: string;
  status: 'succeeded' | 'failed';
  errorType?: string | null;
  /** For the log line of the outcome: what the sync fetched and what its reimport did. */
  fetched?: number | null;
  counts?: ImportCounts | null;
  errorMessage?: string | null;
}

/**
 * The activities, built once per worker from its dependencies, in three groups by what they wait on:
 * `database` (short PostgreSQL work), `tool` (calls to the tool: long, heartbeated, resumable) and
 * `reimport` (one long transaction). Workflows proxy each group with options that fit it, so the compiler
 * keeps a tool call off database timeouts. Each activity forks its own EntityManager and is idempotent: a
 * retry or a reset from the Temporal UI re-runs it without doing anything twice. Findings and secrets stay
 * in PostgreSQL and in memory; activities return only ids and counts.
 */
/** The Operation of a run that made none yet (a retry finds the one its first attempt made). */
async function insertOperation(em: EntityManager, input: StartOperationInput): Promise<void> {
  await em.execute(
    `insert into operation (id, connector_id, record_id, type, trigger, status, created_at, workflow_id, run_id)
     values (?, ?, ?, ?, ?, 'pending', now(), ?, ?) on conflict (workflow_id, run_id) do nothing`,
    [crypto.randomUUID(), input.connectorId, input.recordId ?? null, input.type, input.trigger, input.workflowId, input.runId],
  );
}

const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Runs `work` while heartbeating every few seconds (Temporal throttles what it sends), with `details` when
 * given: the last heartbeat's details are what a retried attempt resumes from.
 */
async function whileHeartbeating<T>(work: () => Promise<T>, details?: () => unknown): Promise<T> {
  const ctx = Context.current();
  // A local activity cannot heartbeat: the workflow task it runs in is what keeps it alive.
  if (ctx.info.isLocal) return work();
  const timer = setInterval(() => ctx.heartbeat(details?.()), HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** Where a discovery is, kept in its heartbeat: a retried attempt goes on from there. */
interface DiscoveryProgress {
  /** When the discovery began: every Record it lists gets it as last_discovered_at, and mapped ones older than it are missing. */
  startedAt: string;
  cursor: StoredCursor | null;
  /** Every page is reconciled; only marking the missing is left. */
  listed: boolean;
  counts: { discovered: number; created: number; mapped: number; rejected: number };
}

function isDiscoveryProgress(value: unknown): value is DiscoveryProgress {
  const v = value as DiscoveryProgress | null | undefined;
  return typeof v?.startedAt === 'string' && !Number.isNaN(Date.parse(v.startedAt)) && typeof v.listed === 'boolean' && typeof v.counts === 'object';
}

/** The workflow run an activity works for, for log lines; empty outside an activity (direct calls in tests). */
function currentRun(): { workflowId?: string; runId?: string } {
  try {
    const run = Context.current().info.workflowExecution;
    return run ? { workflowId: run.workflowId, runId: run.runId } : {};
  } catch {
    return {};
  }
}

export function createActivityGroups(deps: ActivityDeps) {
  const registry = deps.connectors ?? connectors;
  const toolConnector = (tool: string) => {
    try {
      return connectorFor(tool, registry);
    } catch (err) {
      // A tool this worker has no connector for is CONFIG_INVALID: typed, so the run fails at once.
      throw toActivityFailure(err);
    }
  };

  type ForkedEm = ReturnType<MikroORM['em']['fork']>;

  /** The connector opened with its secret; `loaded` when the caller already read it with `secretEncrypted`. */
  async function connectorWithConfig(em: ForkedEm, connectorId: string, loaded?: Connector) {
    const connector = loaded ?? (await em.findOneOrFail(Connector, { id: connectorId }, { populate: ['secretEncrypted'] }));
    try {
      const { tool: plugin, connection } = openConnector(connector, deps.secrets, registry);
      return { connector, plugin, connection };
    } catch (err) {
      // Unknown tool, settings the tool refuses, a secret that does not open: the run fails at once, typed.
      throw toActivityFailure(err);
    }
  }

  function connectorContext(extra: Partial<ConnectorContext> = {}): ConnectorContext {
    let ctx: Context | undefined;
    try {
      ctx = Context.current();
    } catch {
      ctx = undefined;
    }
    return {
      logger: deps.logger,
      signal: ctx?.cancellationSignal,
      outbound: deps.outbound,
      onWait: (ms, reason) => {
        ctx?.heartbeat({ waitingMs: ms, reason });
      },
      // A local attempt hands a wait the tool asks for to the regular activity, which heartbeats while it waits.
      ...(ctx?.info.isLocal ? { maxWaitMs: 0 } : {}),
      ...extra,
    };
  }

  /** A run's outcome, once per run, with its workflow and run ids: info when it succeeded, warn otherwise. */
  const logOutcome = (succeeded: boolean, line: Record<string, unknown>, message: string) =>
    succeeded ? deps.logger.info(line, message) : deps.logger.warn(line, message);

  /** Counts each request to the tool's API in the worker's metrics. */
  const toolCalls = (tool: string): ConnectorContext['onToolCall'] => (deps.metrics ? (errorType) => deps.metrics!.toolCall(tool, errorType) : undefined);

  /**
   * Calls the tool, heartbeating all along: a slow page or an in-process wait keeps the activity alive, while
   * a dead worker is noticed within the heartbeat timeout instead of holding the record until start-to-close.
   */
  async function callTool<T>(work: () => Promise<T>, details?: () => unknown): Promise<T> {
    try {
      return await whileHeartbeating(work, details);
    } catch (err) {
      throw toActivityFailure(err, deps.maxToolWaitMs);
    }
  }

  const activities = {
    /**
     * Creates the run's Operation, or adopts the pending one the API created for it. A new run of the
     * same workflow (started again or reset from the UI) gets an Operation of its own; a retry of this
     * activity in the same run finds the one it made.
     */
    async startOperation(input: StartOperationInput): Promise<StartOperationResult> {
      const em = deps.orm.em.fork();
      if (input.type === 'sync' && !input.recordId && !input.operationId && deps.temporal) {
        // One sync of a connector at a time: a scheduled run that finds another (manual, or just asked for) defers to it.
        const temporal = deps.temporal;
        const other = await em.transactional(async (tx) => {
          await lockConnector(tx, input.connectorId);
          const active = await activeOperation(tx, temporal, { connector: input.connectorId, record: null, type: 'sync' });
          if (active && active.op.workflowId !== input.workflowId) return active.op;
          await insertOperation(tx, input);
          return null;
        });
        if (other) return { operationId: other.id, deferTo: { operationId: other.id, workflowId: other.workflowId } };
      }
      const adopted = input.operationId ? await em.findOne(Operation, { id: input.operationId }) : null;
      let op = adopted && (adopted.runId === null || adopted.runId === input.runId) ? adopted : null;
      op ??= await em.findOne(Operation, { workflowId: input.workflowId, runId: input.runId });
      if (!op) {
        await insertOperation(em, input);
        op = await em.findOneOrFail(Operation, { workflowId: input.workflowId, runId: input.runId });
      }
      if (op.status === 'pending') {
        op.status = 'running';
        op.startedAt = new Date();
      }
      op.runId = input.runId;
      await em.flush();
      return { operationId: op.id };
    },

    /** Records the final status, counts and error of an Operation. */
    async finishOperation(input: FinishOperationInput): Promise<void> {
      const em = deps.orm.em.fork();
      const op = await em.findOneOrFail(Operation, { id: input.operationId });
      op.status = input.status;
      op.endedAt = new Date();
      op.durationMs = op.endedAt.getTime() - (op.startedAt ?? op.createdAt).getTime();
      op.summary = input.summary ?? op.summary ?? null;
      op.error = input.error ?? null;
      await em.flush();
      // Logged after the write, so a retried attempt (the flush failed) does not log the outcome twice.
      const line = {
        operationId: op.id,
        type: op.type,
        trigger: op.trigger,
        status: op.status,
        connectorId: op.connector?.id ?? null,
        recordId: op.record?.id ?? null,
        workflowId: op.workflowId,
        runId: op.runId,
        durationMs: op.durationMs,
        summary: op.summary,
        ...(op.error ? { error: op.error } : {}),
      };
      logOutcome(op.status === 'succeeded', line, `${op.type} ${op.status}`);
    },

    /**
     * Lists the tool's VEPs and reconciles the Records (SPEC §3). Returns counts only. A tool activity:
     * it heartbeats as records arrive, so a long listing or a rate-limit wait never looks like a dead worker.
     */
    async discoverRecords(input: DiscoverRecordsInput): Promise<DiscoverRecordsResult> {
      const em = deps.orm.em.fork();
      const { connector, plugin, connection } = await connectorWithConfig(em, input.connectorId);
      // A retried attempt resumes after the last page the one before reconciled (its heartbeat says which); a
      // position this connector does not read (another version wrote it) starts the listing over.
      const last: unknown = Context.current().info.heartbeatDetails;
      const resumable = isDiscoveryProgress(last) && (last.cursor === null || plugin.acceptsDiscoveryCursor(last.cursor));
      const progress: DiscoveryProgress = resumable ? last : {
        startedAt: new Date().toISOString(),
        cursor: null,
        listed: false,
        counts: { discovered: 0, created: 0, mapped: 0, rejected: 0 },
      };
      const startedAt = new Date(progress.startedAt);
      if (!progress.listed) {
        // Waits the tool asks for heartbeat the progress too, so the last heartbeat always says where to resume.
        const ctx = connectorContext({ onWait: () => Context.current().heartbeat(progress), onToolCall: toolCalls(connector.tool) });
        const pages = connection.discoverPages(progress.cursor, ctx);
        await callTool(async () => {
          for await (const page of pages) {
            const reconciled = await reconcileRecordPage(em.fork(), connector, page.records, startedAt);
            for (const key of ['discovered', 'created', 'mapped', 'rejected'] as const) progress.counts[key] += reconciled[key] ?? 0;
            progress.cursor = page.cursor;
            Context.current().heartbeat(progress);
          }
        }, () => progress);
        progress.listed = true;
        Context.current().heartbeat(progress);
      }
      const missing = await markMissing(em, connector.id, startedAt);
      const window = deps.workerWindow ? syncWindow(deps.workerWindow, plugin) : undefined;
      return { ...progress.counts, missing, tool: connector.tool, toolName: plugin.displayName, connectorLabel: connector.label, window };
    },

    /** A page of the connector's syncable (mapped, `good`) Records, in id order. */
    async listSyncableRecords(input: ListSyncableRecordsInput): Promise<ListSyncableRecordsResult> {
      const em = deps.orm.em.fork();
      const rows = await em.execute<{ id: string; product_id: string; name: string; product_name: string }[]>(
        `select r.id, r.product_id, r.name, p.name as product_name from tool_record r join product p on p.id = r.product_id
         where r.connector_id = ? and r.state = 'good' and (?::uuid is null or r.id > ?::uuid)
         order by r.id limit ?`,
        [input.connectorId, input.afterId, input.afterId, input.limit],
      );
      return { records: rows.map((r) => ({ recordId: r.id, productId: r.product_id, recordName: r.name, productName: r.product_name })) };
    },

    /** Checks the Record can sync and makes sure its Test exists. */
    prepareRecordSync(input: PrepareRecordSyncInput): Promise<PrepareRecordSyncResult> {
      return prepareSync(deps.orm.em.fork(), input);
    },

    /**
     * Pages the record's current findings from the tool into `staged_finding`. The cursor of the last
     * stored page lives on the fetch row, so a retried attempt resumes after it instead of starting over.
     */
    async fetchFindings(input: FetchFindingsInput): Promise<FetchFindingsResult> {
      const em = deps.orm.em.fork();
      if (!input.prepare) return fetchIntoStaging(em, input);
      // Preparing again on a retry is harmless: it only reads, and finds the Test it made.
      const { prepared, record } = await prepareAndLoad(em, input);
      if (!prepared.syncable || !prepared.testId) return { fetchId: input.fetchId, items: 0, pages: 0, prepared };
      return { ...(await fetchIntoStaging(em.fork(), input, record)), prepared };
    },

    /**
     * Applies a completed fetch to the record's Test (SPEC §4); applying the same fetch twice changes nothing.
     * A fetch whose staged rows are not all there is reset and fails as STAGING_INCOMPLETE, so the workflow
     * fetches again: a lost staged row never closes a finding.
     */
    async applyReimport(input: ApplyReimportInput): Promise<ApplyReimportResult> {
      const em = deps.orm.em.fork();
      const connector = await em.findOneOrFail(Connector, { id: input.connectorId });
      const result = await whileHeartbeating(() => applyReimportSql(em, {
        importId: crypto.randomUUID(),
        fetchId: input.fetchId,
        testId: input.testId,
        operationId: input.operationId,
        matching: toolConnector(connector.tool).matching,
        minSeverity: connector.minSeverity,
        now: new Date(),
      }));
      if (result.stagingIncomplete) {
        const { expectedItems, stagedItems, expectedPages } = result.stagingIncomplete;
        throw ApplicationFailure.create({
          type: 'STAGING_INCOMPLETE' satisfies ErrorType,
          message: `fetch ${input.fetchId} had ${stagedItems} of its ${expectedItems} staged items (${expectedPages} pages); it was reset to fetch again`,
          nonRetryable: true,
        });
      }
      if (input.recordId) await noteSyncOutcome(em, { recordId: input.recordId, status: 'succeeded', fetched: input.fetched, counts: result.counts });
      return { importId: result.importId, counts: result.counts, alreadyApplied: result.alreadyApplied };
    },

    /** Records the outcome of a record's sync on the Record; a record the tool no longer has becomes `missing`. */
    recordSyncOutcome(input: RecordSyncOutcomeInput): Promise<void> {
      return noteSyncOutcome(deps.orm.em.fork(), input);
    },
  };

  async function prepareSync(em: ForkedEm, input: PrepareRecordSyncInput): Promise<PrepareRecordSyncResult> {
    return (await prepareAndLoad(em, input)).prepared;
  }

  /** `prepareSync`, and the Record with its Connector (and sealed secret) as read, for the fetch that follows. */
  async function prepareAndLoad(em: ForkedEm, input: PrepareRecordSyncInput) {
    const record = await em.findOne(ToolRecord, { id: input.recordId, connector: input.connectorId }, { populate: ['connector.secretEncrypted', 'product'] });
    if (!record) throw toActivityFailure(new ConnectorError('CONFIG_INVALID', `record ${input.recordId} does not exist`));
    const connector = record.connector;
    const base = { tool: connector.tool, connectorLabel: connector.label, recordName: record.name };
    const notSyncable = (reason: string) => ({ prepared: { ...base, syncable: false, reason, productId: null, testId: null }, record });
    if (!connector.enabled) return notSyncable('the connector is disabled');
    if (record.state !== 'good' || !record.product) return notSyncable(`the record is ${record.state === 'good' ? 'not mapped' : record.state}`);
    const product = record.product;
    const testId = await testIdFor(em, product, connector, toolConnector(connector.tool).displayName);
    return { prepared: { ...base, syncable: true, productId: product.id, testId }, record };
  }

  /** `loaded`: the Record with its Connector and secret, when the same activity just read them. */
  async function fetchIntoStaging(em: ForkedEm, input: FetchFindingsInput, loaded?: ToolRecord): Promise<FetchFindingsResult> {
    await em.execute(
      `insert into sync_fetch (id, record_id, operation_id, status, pages, item_count, created_at)
       values (?, ?, ?, 'fetching', 0, 0, now()) on conflict (id) do nothing`,
      [input.fetchId, input.recordId, input.operationId],
    );
    let fetch = await em.findOneOrFail(SyncFetch, { id: input.fetchId });
    if (fetch.status !== 'fetching') return { fetchId: fetch.id, items: fetch.itemCount, pages: fetch.pages };

    const record = loaded ?? (await em.findOneOrFail(ToolRecord, { id: input.recordId }));
    const { plugin, connection } = await connectorWithConfig(em, input.connectorId, loaded?.connector);
    const stored: unknown = fetch.cursor ?? null;
    const resumable = stored === null || plugin.acceptsFetchCursor(stored);
    if (fetch.pages > 0 && (isRestartCursor(stored) || !resumable || !(await stagedPagesIntact(deps.pool, fetch)))) {
      // The source cannot resume mid-way, the stored position is not one this connector reads (another
      // version wrote it), or pages an earlier attempt committed are gone: what it staged is discarded and
      // the fetch starts over.
      if (!isRestartCursor(stored) && !resumable) deps.logger.warn({ fetchId: input.fetchId, tool: plugin.tool }, 'the stored fetch position is not one this connector reads; the fetch starts over');
      await discardStagedPages(deps.pool, input.fetchId);
      fetch = await em.fork().findOneOrFail(SyncFetch, { id: input.fetchId });
    }
    const resumeFrom = fetch.pages > 0 && plugin.acceptsFetchCursor(fetch.cursor) ? fetch.cursor : null;
    const finished = fetch.pages > 0 && (fetch.cursor ?? null) === null;
    if (!finished) {
      const stager = createPageStager(deps.pool, {
        fetchId: input.fetchId,
        firstPage: fetch.pages,
        hashFields: plugin.hashFields,
        rejectedSoFar: { count: fetch.rejected, reasons: fetch.rejectedReasons ?? {} },
      });
      const ctx = connectorContext({ onToolCall: toolCalls(plugin.tool) });
      const recordRef = { externalId: record.externalId, name: record.name, metadata: record.metadata ?? null };
      try {
        // Heartbeats only every few seconds (callTool), none per page: a heartbeat that reaches Temporal is a
        // billed action, and a fetch of a few pages is over before the first is due.
        await callTool(async () => {
          for await (const result of connection.fetchFindings(recordRef, resumeFrom, ctx)) {
            await stager.stage(result.findings, result.cursor);
            deps.metrics?.fetched(plugin.tool, result.findings.length);
          }
          await stager.flush();
        }, () => ({ pages: stager.pagesStarted }));
      } finally {
        await stager.close();
      }
    }
    const [done] = await em.execute<{ item_count: number; pages: number }[]>(
      `update sync_fetch set status = case when status = 'fetching' then 'fetched' else status end,
         fetched_at = case when status = 'fetching' then now() else fetched_at end
       where id = ? returning item_count, pages`,
      [input.fetchId],
    );
    if (!done) throw new Error(`fetch ${input.fetchId} does not exist`);
    return { fetchId: input.fetchId, items: done.item_count, pages: done.pages };
  }

  async function noteSyncOutcome(em: ForkedEm, input: RecordSyncOutcomeInput): Promise<void> {
    // One statement, not a load and a flush: it runs once per record of every sync.
    const [record] = await em.execute<{ id: string; name: string }[]>(
      `update tool_record set last_sync_at = now(), last_sync_status = ?,
         state = case when ? and state = 'good' then 'missing' else state end
       where id = ? returning id, name`,
      [input.status, input.errorType === 'RECORD_MISSING', input.recordId],
    );
    if (!record) return;
    deps.metrics?.recordSync(input.status);
    const line = {
      ...currentRun(),
      recordId: record.id,
      recordName: record.name,
      status: input.status,
      fetched: input.fetched ?? null,
      counts: input.counts ?? null,
      ...(input.status === 'failed' ? { error: { type: input.errorType ?? null, message: input.errorMessage ?? null } } : {}),
    };
    logOutcome(input.status === 'succeeded', line, `record sync ${input.status}`);
  }


  const { startOperation, finishOperation, listSyncableRecords, prepareRecordSync, recordSyncOutcome, discoverRecords, fetchFindings, applyReimport } =
    activities;
  return {
    database: { startOperation, finishOperation, listSyncableRecords, prepareRecordSync, recordSyncOutcome },
    tool: { discoverRecords, fetchFindings },
    reimport: { applyReimport },
  };
}

/** Every activity, as the worker registers them. */
export function createActivities(deps: ActivityDeps) {
  const groups = createActivityGroups(deps);
  return { ...groups.database, ...groups.tool, ...groups.reimport };
}

type ActivityGroups = ReturnType<typeof createActivityGroups>;
export type DatabaseActivities = ActivityGroups['database'];
export type ToolActivities = ActivityGroups['tool'];
export type ReimportActivities = ActivityGroups['reimport'];
