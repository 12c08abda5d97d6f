import { ApplicationFailure, Context } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type pg from 'pg';
import type { Logger } from 'pino';
import { connectorFor } from '../connectors/index.js';
import { isRestartCursor, type ConnectorConfig, type ConnectorContext, type DiscoveredRecord, type ToolConnector } from '../connectors/types.js';
import { Connector, Operation, SyncFetch, ToolRecord, type OperationError, type OperationSummary } from '../db/entities.js';
import type { SecretBox } from '../db/secrets.js';
import { ConnectorError, type ErrorType } from '../errors.js';
import type { ImportCounts, OperationStatus, OperationTrigger, OperationType } from '../domain.js';
import { applyReimportSql } from '../reimport/apply-reimport.js';
import { createPageStager, discardStagedPages, stagedPagesIntact } from '../reimport/staging.js';
import { toActivityFailure } from './failures.js';
import { reconcileRecords, testFor, type ReconcileResult } from './records.js';

/** How often a running tool or reimport activity tells Temporal its worker is alive; well inside their heartbeat timeout. */
const LIVENESS_INTERVAL_MS = 5_000;

/**
 * Heartbeats every few seconds while `work` runs. A slow tool answer or a long reimport transaction has no
 * progress to report, but its worker is alive; a dead worker's activity is then retried within the heartbeat
 * timeout instead of its start-to-close timeout (up to an hour).
 */
async function whileAlive<T>(work: () => Promise<T>): Promise<T> {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return work();
  }
  const timer = setInterval(() => ctx.heartbeat(), LIVENESS_INTERVAL_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

export interface ActivityDeps {
  orm: MikroORM;
  /** Plain connections for bulk staging (COPY), beside the ORM's. */
  pool: pg.Pool;
  secrets: SecretBox;
  logger: Logger;
  /** Which connector implements a tool (tests may swap in their own registry). */
  connectorFor?: (tool: string) => ToolConnector<any>;
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
}

export interface ListSyncableRecordsInput {
  connectorId: string;
  afterId: string | null;
  limit: number;
}
export interface ListSyncableRecordsResult {
  records: { recordId: string; productId: string }[];
}

export interface PrepareRecordSyncInput {
  connectorId: string;
  recordId: string;
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
}
export interface FetchFindingsResult {
  fetchId: string;
  items: number;
  pages: number;
}

export interface ApplyReimportInput {
  fetchId: string;
  connectorId: string;
  testId: string;
  operationId: string | null;
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
}

/**
 * The activities, built once per worker from its dependencies, in three groups by what they wait on:
 * `database` (short PostgreSQL work), `tool` (calls to the tool: long, heartbeated, resumable) and
 * `reimport` (one long transaction). Workflows proxy each group with options that fit it, so the compiler
 * keeps a tool call off database timeouts. Each activity forks its own EntityManager and is idempotent: a
 * retry or a reset from the Temporal UI re-runs it without doing anything twice. Findings and secrets stay
 * in PostgreSQL and in memory; activities return only ids and counts.
 */
export function createActivityGroups(deps: ActivityDeps) {
  const toolConnector = deps.connectorFor ?? connectorFor;

  async function connectorWithConfig(em: ReturnType<MikroORM['em']['fork']>, connectorId: string) {
    const connector = await em.findOneOrFail(Connector, { id: connectorId }, { populate: ['secretEncrypted'] });
    const plugin = toolConnector(connector.tool);
    const settings = plugin.spec.settings.parse(connector.settings);
    const config: ConnectorConfig<unknown> = { location: connector.location, secret: deps.secrets.open(connector.secretEncrypted), settings };
    return { connector, plugin, config };
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
      onWait: (ms, reason) => {
        ctx?.heartbeat({ waitingMs: ms, reason });
      },
      ...extra,
    };
  }

  async function callTool<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw toActivityFailure(err);
    }
  }

  const activities = {
    /**
     * Creates the run's Operation, or adopts the pending one the API created for it. A new run of the
     * same workflow (started again or reset from the UI) gets an Operation of its own; a retry of this
     * activity in the same run finds the one it made.
     */
    async startOperation(input: StartOperationInput): Promise<{ operationId: string }> {
      const em = deps.orm.em.fork();
      const adopted = input.operationId ? await em.findOne(Operation, { id: input.operationId }) : null;
      let op = adopted && (adopted.runId === null || adopted.runId === input.runId) ? adopted : null;
      op ??= await em.findOne(Operation, { workflowId: input.workflowId, runId: input.runId });
      if (!op) {
        await em.execute(
          `insert into operation (id, connector_id, record_id, type, trigger, status, created_at, workflow_id, run_id)
           values (?, ?, ?, ?, ?, 'pending', now(), ?, ?) on conflict (workflow_id, run_id) do nothing`,
          [crypto.randomUUID(), input.connectorId, input.recordId ?? null, input.type, input.trigger, input.workflowId, input.runId],
        );
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
    },

    /**
     * Lists the tool's VEPs and reconciles the Records (SPEC §3). Returns counts only. A tool activity:
     * it heartbeats as records arrive, so a long listing or a rate-limit wait never looks like a dead worker.
     */
    discoverRecords: (input: DiscoverRecordsInput): Promise<DiscoverRecordsResult> => whileAlive(async () => {
      const em = deps.orm.em.fork();
      const { connector, plugin, config } = await connectorWithConfig(em, input.connectorId);
      const discovered = await callTool(async () => {
        const all: DiscoveredRecord[] = [];
        for await (const vep of plugin.discover(config, connectorContext())) {
          all.push(vep);
          Context.current().heartbeat({ discovered: all.length });
        }
        return all;
      });
      const result = await reconcileRecords(em, connector, discovered, new Date());
      return { ...result, tool: connector.tool };
    }),

    /** A page of the connector's syncable (mapped, `good`) Records, in id order. */
    async listSyncableRecords(input: ListSyncableRecordsInput): Promise<ListSyncableRecordsResult> {
      const em = deps.orm.em.fork();
      const rows = await em.execute<{ id: string; product_id: string }[]>(
        `select id, product_id from tool_record
         where connector_id = ? and state = 'good' and product_id is not null and (?::uuid is null or id > ?::uuid)
         order by id limit ?`,
        [input.connectorId, input.afterId, input.afterId, input.limit],
      );
      return { records: rows.map((r) => ({ recordId: r.id, productId: r.product_id })) };
    },

    /** Checks the Record can sync and makes sure its Test exists. */
    async prepareRecordSync(input: PrepareRecordSyncInput): Promise<PrepareRecordSyncResult> {
      const em = deps.orm.em.fork();
      const record = await em.findOne(ToolRecord, { id: input.recordId, connector: input.connectorId }, { populate: ['connector', 'product'] });
      if (!record) throw toActivityFailure(new ConnectorError('CONFIG_INVALID', `record ${input.recordId} does not exist`));
      const connector = record.connector;
      const base = { tool: connector.tool, connectorLabel: connector.label, recordName: record.name };
      if (!connector.enabled) return { ...base, syncable: false, reason: 'the connector is disabled', productId: null, testId: null };
      if (record.state !== 'good' || !record.product) {
        return { ...base, syncable: false, reason: `the record is ${record.state === 'good' ? 'not mapped' : record.state}`, productId: null, testId: null };
      }
      const product = record.product;
      const test = await testFor(em, product, connector, toolConnector(connector.tool).displayName);
      return { ...base, syncable: true, productId: product.id, testId: test.id };
    },

    /**
     * Pages the record's current findings from the tool into `staged_finding`. The cursor of the last
     * stored page lives on the fetch row, so a retried attempt resumes after it instead of starting over.
     */
    fetchFindings: (input: FetchFindingsInput): Promise<FetchFindingsResult> => whileAlive(async () => {
      const em = deps.orm.em.fork();
      const record = await em.findOneOrFail(ToolRecord, { id: input.recordId });
      await em.execute(
        `insert into sync_fetch (id, record_id, operation_id, status, pages, item_count, created_at)
         values (?, ?, ?, 'fetching', 0, 0, now()) on conflict (id) do nothing`,
        [input.fetchId, input.recordId, input.operationId],
      );
      let fetch = await em.findOneOrFail(SyncFetch, { id: input.fetchId });
      if (fetch.status !== 'fetching') return { fetchId: fetch.id, items: fetch.itemCount, pages: fetch.pages };

      const { plugin, config } = await connectorWithConfig(em, input.connectorId);
      if (fetch.pages > 0 && (isRestartCursor(fetch.cursor) || !(await stagedPagesIntact(deps.pool, fetch)))) {
        // The source cannot resume mid-way, or pages an earlier attempt committed are gone: what it staged is
        // discarded and the fetch starts over.
        await discardStagedPages(deps.pool, input.fetchId);
        fetch = await em.fork().findOneOrFail(SyncFetch, { id: input.fetchId });
      }
      const resumeFrom = fetch.pages > 0 ? ((fetch.cursor as Record<string, unknown> | null) ?? null) : null;
      const finished = fetch.pages > 0 && resumeFrom === null;
      if (!finished) {
        const stager = createPageStager(deps.pool, { fetchId: input.fetchId, firstPage: fetch.pages, hashFields: plugin.hashFields });
        const ctx = connectorContext();
        const recordRef = { externalId: record.externalId, name: record.name, metadata: record.metadata ?? null };
        try {
          await callTool(async () => {
            for await (const result of plugin.fetchFindings(config, recordRef, resumeFrom, ctx)) {
              await stager.stage(result.findings, result.cursor);
              Context.current().heartbeat({ pages: stager.pagesStarted });
            }
            await stager.flush();
          });
        } finally {
          await stager.close();
        }
      }
      await em.execute(`update sync_fetch set status = 'fetched', fetched_at = now() where id = ? and status = 'fetching'`, [input.fetchId]);
      fetch = await em.fork().findOneOrFail(SyncFetch, { id: input.fetchId });
      return { fetchId: fetch.id, items: fetch.itemCount, pages: fetch.pages };
    }),

    /**
     * Applies a completed fetch to the record's Test (SPEC §4); applying the same fetch twice changes nothing.
     * A fetch whose staged rows are not all there is reset and fails as STAGING_INCOMPLETE, so the workflow
     * fetches again: a lost staged row never closes a finding.
     */
    applyReimport: (input: ApplyReimportInput): Promise<ApplyReimportResult> => whileAlive(async () => {
      const em = deps.orm.em.fork();
      const connector = await em.findOneOrFail(Connector, { id: input.connectorId });
      const result = await applyReimportSql(em, {
        importId: crypto.randomUUID(),
        fetchId: input.fetchId,
        testId: input.testId,
        operationId: input.operationId,
        matching: toolConnector(connector.tool).matching,
        minSeverity: connector.minSeverity,
        now: new Date(),
      });
      if (result.stagingIncomplete) {
        const { expectedItems, stagedItems, expectedPages } = result.stagingIncomplete;
        throw ApplicationFailure.create({
          type: 'STAGING_INCOMPLETE' satisfies ErrorType,
          message: `fetch ${input.fetchId} had ${stagedItems} of its ${expectedItems} staged items (${expectedPages} pages); it was reset to fetch again`,
          nonRetryable: true,
        });
      }
      return { importId: result.importId, counts: result.counts, alreadyApplied: result.alreadyApplied };
    }),

    /** Records the outcome of a record's sync on the Record; a record the tool no longer has becomes `missing`. */
    async recordSyncOutcome(input: RecordSyncOutcomeInput): Promise<void> {
      const em = deps.orm.em.fork();
      const record = await em.findOne(ToolRecord, { id: input.recordId });
      if (!record) return;
      record.lastSyncAt = new Date();
      record.lastSyncStatus = input.status;
      if (input.errorType === 'RECORD_MISSING' && record.state === 'good') record.state = 'missing';
      await em.flush();
    },
  };
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
