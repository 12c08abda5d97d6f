import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { EntityManager } from '@mikro-orm/postgresql';
import { toolDisplayName } from '../connectors/index.js';
import { Operation, Product, type Connector, type ToolRecord } from '../db/entities.js';
import type { OperationStatus } from '../domain.js';
import { ProductIdKey, RecordIdKey, connectorRunAttributes } from '../search-attributes.js';
import { connectorDiscoverWorkflowId, manualConnectorSyncWorkflowId, recordSyncWorkflowId } from '../workflow-ids.js';
import type { ConnectorDiscoverInput } from '../workflows/connector-discover.js';
import type { ConnectorSyncInput } from '../workflows/connector-sync.js';
import type { RecordSyncInput } from '../workflows/record-sync.js';
import { temporalRunUrl } from './links.js';

export interface RunStarted {
  operationId: string;
  workflowId: string;
  runId: string;
  temporalUrl: string;
  /** True when a run already in progress was joined instead of starting a second one. */
  attached: boolean;
}

export interface RunStarterDeps {
  client: Client;
  taskQueue: string;
  temporalUiUrl: string;
  /** Record syncs a connector sync runs at once. */
  syncConcurrency?: number;
}

type ConnectorRef = Pick<Connector, 'id' | 'tool' | 'label'>;

/** The run of a workflow that is running now (the latest, or `runId`), or null. */
export async function runningRun(client: Client, workflowId: string, runId?: string | null): Promise<{ runId: string; parentWorkflowId?: string } | null> {
  try {
    const d = await client.workflow.getHandle(workflowId, runId ?? undefined).describe();
    return d.status.name === 'RUNNING' ? { runId: d.runId, parentWorkflowId: d.parentExecution?.workflowId ?? undefined } : null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/**
 * Cancels every run of the connector still running (its syncs, record syncs and discoveries), found by the
 * ConnectorId search attribute; returns how many were asked to cancel. Cancelled runs close their Operations.
 */
export async function cancelConnectorRuns(client: Client, connectorId: string): Promise<number> {
  let cancelled = 0;
  for await (const run of client.workflow.list({ query: `ConnectorId = '${connectorId}' AND ExecutionStatus = 'Running'` })) {
    try {
      await client.workflow.getHandle(run.workflowId, run.runId).cancel();
      cancelled++;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return cancelled;
}

/** The statuses of an Operation whose run has not finished its work. */
const ACTIVE_STATUSES: ReadonlySet<OperationStatus> = new Set(['pending', 'running']);

/** How long a sync request waits for a run whose Operation has ended to close, before it joins that run instead. */
const CLOSING_RUN_WAIT_MS = 5_000;

/** How long an Operation may wait for the run it was made for to start before it counts as abandoned. */
const START_GRACE_MS = 60_000;

/**
 * The Operation of a run of this kind that is active now, with its run id, or null. An Operation believed
 * active whose workflow is no longer running is closed as failed on the way (ABANDONED); one just made for
 * a run about to start counts as active (its run id is still unknown). Call it under `lockConnector`.
 */
export async function activeOperation(
  em: EntityManager,
  client: Client,
  where: { connector: string; record: string | null; type: 'sync' | 'discover' },
): Promise<{ op: Operation; runId: string | null } | null> {
  const ops = await em.find(Operation, { ...where, status: { $in: [...ACTIVE_STATUSES] } }, { orderBy: { createdAt: 'desc' } });
  for (const op of ops) {
    const running = await runningRun(client, op.workflowId, op.runId);
    if (running) return { op, runId: running.runId };
    if (!op.runId && op.createdAt.getTime() >= Date.now() - START_GRACE_MS) return { op, runId: null };
    op.status = 'failed';
    op.endedAt = new Date();
    op.error = { type: 'ABANDONED', message: 'the run is no longer running in Temporal' };
    await em.flush();
  }
  return null;
}

/** Serialises, per connector, the check for a running sync and the start of a new one (API and scheduled runs). */
export async function lockConnector(em: EntityManager, connectorId: string): Promise<void> {
  await em.execute('select pg_advisory_xact_lock(hashtext(?))', [`vulnsync:connector:${connectorId}`]);
}

/**
 * Starts runs on behalf of a person (the API), one Operation per run. A sync asked for while the same
 * connector or record is already syncing joins the running one (`attached: true`) instead of starting
 * a second; the check and the new Operation are taken under a per-connector advisory lock.
 */
export function createRunStarter(deps: RunStarterDeps) {
  const { client, taskQueue } = deps;
  const namespace = client.options.namespace;
  const url = (workflowId: string, runId: string | null) => temporalRunUrl(deps.temporalUiUrl, namespace, workflowId, runId);

  const isRunning = (workflowId: string, runId?: string | null) => runningRun(client, workflowId, runId);

  /** Waits (a few seconds at most) for a run to close, however it ends; answers whether it did. */
  async function closesSoon(workflowId: string, runId: string): Promise<boolean> {
    const closed = client.workflow.getHandle(workflowId, runId).result().then(() => true, () => true);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CLOSING_RUN_WAIT_MS)));
    try {
      return await Promise.race([closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  function attachedTo(op: Operation, runId: string | null): RunStarted {
    const run = runId ?? op.runId ?? '';
    return { operationId: op.id, workflowId: op.workflowId, runId: run, temporalUrl: url(op.workflowId, run || null), attached: true };
  }

  async function newOperation(em: EntityManager, fields: { connector: string; record: string | null; type: 'sync' | 'discover'; workflowId: (id: string) => string }) {
    const id = crypto.randomUUID();
    const op = em.create(Operation, {
      id,
      connector: fields.connector,
      record: fields.record,
      type: fields.type,
      trigger: 'manual',
      status: 'pending',
      workflowId: fields.workflowId(id),
    });
    await em.flush();
    return op;
  }

  /**
   * Starts the Operation's run. A run that did not start (Temporal unreachable, say) takes its Operation
   * with it, so no Operation is left pending for a run that never was.
   */
  async function startRun(em: EntityManager, op: Operation, start: () => Promise<{ firstExecutionRunId: string }>): Promise<RunStarted> {
    let runId: string;
    try {
      runId = (await start()).firstExecutionRunId;
    } catch (err) {
      await em.execute('delete from operation where id = ?', [op.id]);
      throw err;
    }
    await em.execute('update operation set run_id = coalesce(run_id, ?) where id = ?', [runId, op.id]);
    return { operationId: op.id, workflowId: op.workflowId, runId, temporalUrl: url(op.workflowId, runId), attached: false };
  }

  return {
    /** Starts a sync of every mapped Record of the connector, or joins the one running. */
    async syncConnector(em: EntityManager, connector: ConnectorRef): Promise<RunStarted> {
      const op = await em.transactional(async (tx) => {
        await lockConnector(tx, connector.id);
        const active = await activeOperation(tx, client, { connector: connector.id, record: null, type: 'sync' });
        if (active) return attachedTo(active.op, active.runId);
        return newOperation(tx, { connector: connector.id, record: null, type: 'sync', workflowId: (id) => manualConnectorSyncWorkflowId(connector.id, id) });
      });
      if ('attached' in op) return op;
      const input: ConnectorSyncInput = { connectorId: connector.id, trigger: 'manual', operationId: op.id, concurrency: deps.syncConcurrency };
      return startRun(em, op, () =>
        client.workflow.start('connectorSync', {
          workflowId: op.workflowId,
          taskQueue,
          args: [input],
          typedSearchAttributes: connectorRunAttributes(connector, 'manual'),
          staticSummary: `Manual sync of ${toolDisplayName(connector.tool)} connector "${connector.label}"`,
        }),
      );
    },

    /** Starts a sync of one Record, or joins the sync of that record already running (alone or in a connector sync). */
    async syncRecord(em: EntityManager, connector: ConnectorRef, record: Pick<ToolRecord, 'id' | 'name'> & { productId: string | null }): Promise<RunStarted> {
      const workflowId = recordSyncWorkflowId(connector.id, record.id);
      const attach = async (): Promise<RunStarted | null> => {
        const running = await isRunning(workflowId);
        if (!running) return null;
        const own = await em.findOne(Operation, { workflowId, runId: running.runId });
        const parent = !own && running.parentWorkflowId ? await em.findOne(Operation, { workflowId: running.parentWorkflowId }, { orderBy: { createdAt: 'desc' } }) : null;
        const op = own ?? parent;
        if (!op) return null;
        // The run's own Operation is already final: the run is only closing. Joining it would answer a finished
        // sync, so wait for it to close and start a new one.
        if (own && !ACTIVE_STATUSES.has(own.status) && (await closesSoon(workflowId, running.runId))) return null;
        return { operationId: op.id, workflowId, runId: running.runId, temporalUrl: url(workflowId, running.runId), attached: true };
      };
      const existing = await attach();
      if (existing) return existing;
      const op = await em.transactional(async (tx) => {
        await lockConnector(tx, connector.id);
        const active = await activeOperation(tx, client, { connector: connector.id, record: record.id, type: 'sync' });
        if (active) return attachedTo(active.op, active.runId);
        return newOperation(tx, { connector: connector.id, record: record.id, type: 'sync', workflowId: () => workflowId });
      });
      if ('attached' in op) return op;
      const product = record.productId ? await em.findOne(Product, { id: record.productId }, { fields: ['name'] }) : null;
      const into = product ? ` into product "${product.name}"` : '';
      const input: RecordSyncInput = { connectorId: connector.id, recordId: record.id, trigger: 'manual', operationId: op.id };
      try {
        return await startRun(em, op, () =>
          client.workflow.start('recordSync', {
            workflowId,
            taskQueue,
            args: [input],
            typedSearchAttributes: [
              ...connectorRunAttributes(connector, 'manual'),
              { key: RecordIdKey, value: record.id },
              ...(record.productId ? [{ key: ProductIdKey, value: record.productId }] : []),
            ],
            staticSummary: `Manual sync of ${toolDisplayName(connector.tool)} record "${record.name}"${into} (connector "${connector.label}")`,
          }),
        );
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const joined = await attach();
        if (joined) return joined;
        throw err;
      }
    },

    /** Starts an on-demand discovery of the connector's Records. */
    async discoverConnector(em: EntityManager, connector: ConnectorRef): Promise<RunStarted> {
      const op = await newOperation(em, { connector: connector.id, record: null, type: 'discover', workflowId: (id) => connectorDiscoverWorkflowId(connector.id, id) });
      const input: ConnectorDiscoverInput = { connectorId: connector.id, trigger: 'manual', operationId: op.id };
      return startRun(em, op, () =>
        client.workflow.start('connectorDiscover', {
          workflowId: op.workflowId,
          taskQueue,
          args: [input],
          typedSearchAttributes: connectorRunAttributes(connector, 'manual'),
          staticSummary: `Discover the projects of ${toolDisplayName(connector.tool)} connector "${connector.label}"`,
        }),
      );
    },

    temporalUrl: url,
  };
}

export type RunStarter = ReturnType<typeof createRunStarter>;
