/**
 * The worker process: the only place that wires the worker's dependencies. Migrations run explicitly
 * (`npm run migrate`); the worker refuses to start on an outdated schema rather than migrate it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import type pg from 'pg';
import type { Logger } from 'pino';
import { createActivities } from './activities/index.js';
import { loadConfig } from './config.js';
import { outboundFrom } from './connectors/http/outbound.js';
import { openDatabase, openPool } from './db/database.js';
import { SecretBox } from './db/secrets.js';
import { createLogger } from './logger.js';
import { sweepFetches } from './reimport/staging.js';
import { PinoTemporalLogger, installWorkerRuntime } from './telemetry/temporal-runtime.js';
import { WorkerMetrics, startHealthServer, type HealthServer } from './telemetry/worker-metrics.js';
import { connectClient, connectWorker } from './temporal/connection.js';
import { reconcileSchedulesUntilDone } from './temporal/schedules.js';

import { bundleInChildProcess, workflowsPath } from './bundle-workflows.js';

export { workflowsPath };

/** Where `npm run build` writes the prebuilt bundle, beside the compiled worker. */
const BUILT_BUNDLE = fileURLToPath(new URL('./workflow-bundle.js', import.meta.url));

interface WorkflowCode {
  options: Pick<WorkerOptions, 'workflowBundle'>;
  /** Removes what bundling left behind, once the worker has stopped. */
  cleanUp(): Promise<void>;
}

/**
 * The workflow code the worker runs: the bundle `npm run build` made (or VULNSYNC_WORKFLOW_BUNDLE); else bundled
 * now from source, in a child process when asked (webpack's peak, about 100 MB, then never counts against the
 * worker's own RSS) or in-process with webpack's report at debug level so it does not flood the console.
 */
async function workflowCode(bundlePath: string | undefined, logger: Logger, inChild: boolean): Promise<WorkflowCode> {
  const prebuilt = bundlePath ?? (existsSync(BUILT_BUNDLE) ? BUILT_BUNDLE : undefined);
  const nothingToClean = async () => undefined;
  if (prebuilt) {
    if (!existsSync(prebuilt)) throw new Error(`the workflow bundle ${prebuilt} does not exist (VULNSYNC_WORKFLOW_BUNDLE); run \`npm run build\``);
    logger.info({ workflowBundle: prebuilt }, 'using the prebuilt workflow bundle');
    return { options: { workflowBundle: { codePath: prebuilt } }, cleanUp: nothingToClean };
  }
  if (inChild) {
    const { codePath, cleanUp } = await bundleInChildProcess();
    return { options: { workflowBundle: { codePath } }, cleanUp };
  }
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: new PinoTemporalLogger(logger.child({ component: 'bundler' }), { quiet: true }) });
  return { options: { workflowBundle: { code } }, cleanUp: nothingToClean };
}

const SWEEP_EVERY_MS = 60 * 60_000;
const TOOL_CALLS_EVERY_MS = 15_000;

/** Adds the tool calls counted meanwhile to PostgreSQL every few seconds; a failed write is tried again at the next. */
function recordToolCallsEvery(pool: pg.Pool, metrics: WorkerMetrics, logger: Logger): { stop(): Promise<void> } {
  const flush = () =>
    metrics.toolCallTally.flush(pool).catch((err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'recording tool API calls failed'));
  const timer = setInterval(() => void flush(), TOOL_CALLS_EVERY_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}

/** Sweeps old fetches now and then every hour; a failed sweep is logged and tried again at the next. */
function sweepFetchesEvery(pool: pg.Pool, retentionMs: number, logger: Logger): NodeJS.Timeout {
  const sweep = () =>
    sweepFetches(pool, new Date(Date.now() - retentionMs)).then(
      (swept) => swept > 0 && logger.info({ swept }, 'old fetches and their staged rows swept'),
      (err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'sweeping old fetches failed'),
    );
  void sweep();
  const timer = setInterval(() => void sweep(), SWEEP_EVERY_MS);
  timer.unref();
  return timer;
}

export interface StartedWorker {
  worker: Worker;
  /** Base URL of the worker's /healthz and /metrics, or null when VULNSYNC_WORKER_HEALTH_ADDRESS is off. */
  healthUrl: string | null;
  run: Promise<void>;
  /** Settles once the schedules are reconciled (or the worker stopped first). */
  schedulesReconciled: Promise<void>;
  /** Writes the tool API calls counted so far to PostgreSQL now (they are written every 15 s anyway). */
  recordToolCalls(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Builds and starts a worker from the environment; resolves once it is polling. */
export async function startWorker(env: NodeJS.ProcessEnv = process.env, options: { bundleInChild?: boolean } = {}): Promise<StartedWorker> {
  const config = loadConfig(env);
  const logger = createLogger(config.LOG_LEVEL, 'vulnsync-worker');
  // Before the first native connection: the runtime (logging, the SDK's Prometheus exporter) is fixed at its first use.
  installWorkerRuntime({ logger, metricsAddress: config.VULNSYNC_WORKER_METRICS_ADDRESS });
  const metrics = new WorkerMetrics();
  const orm = await openDatabase(config.DATABASE_URL, { poolSize: config.VULNSYNC_DB_POOL_SIZE });
  const pending = await orm.migrator.getPending();
  if (pending.length > 0) {
    await orm.close();
    throw new Error(`the database schema is behind (${pending.length} migration(s) pending): run \`npm run migrate\``);
  }
  const bundle = await workflowCode(config.VULNSYNC_WORKFLOW_BUNDLE, logger, options.bundleInChild ?? false).catch(async (err: unknown) => {
    await orm.close();
    throw err;
  });
  const { client, connection: clientConnection } = await connectClient(env);
  const { connection, namespace } = await connectWorker(env);
  const slots = config.VULNSYNC_ACTIVITY_SLOTS;
  // Each record of a connector sync runs one activity at a time, and its reimport holds one ORM connection.
  const workerWindow = Math.min(slots, config.VULNSYNC_DB_POOL_SIZE);
  const pool = openPool(config.DATABASE_URL, config.VULNSYNC_STAGING_POOL_SIZE ?? Math.min(slots, 10), (err) =>
    logger.warn({ err: err.message }, 'a staging connection to PostgreSQL failed; it is replaced'),
  );
  let worker: Worker | undefined;
  let health: HealthServer | null = null;
  try {
    const healthAddress = config.VULNSYNC_WORKER_HEALTH_ADDRESS;
    if (healthAddress) {
      health = await startHealthServer(healthAddress, () => worker?.getState() ?? 'STARTING', metrics).catch((err: unknown) => {
        throw new Error(`cannot serve the worker's health endpoint on ${healthAddress} (${err instanceof Error ? err.message : String(err)}); set VULNSYNC_WORKER_HEALTH_ADDRESS`);
      });
    }
    worker = await Worker.create({
      connection,
      namespace,
      taskQueue: config.VULNSYNC_TASK_QUEUE,
      ...bundle.options,
      activities: createActivities({
        orm,
        pool,
        secrets: new SecretBox(config.VULNSYNC_SECRET_KEY, config.VULNSYNC_SECRET_KEYS_OLD),
        outbound: outboundFrom(config),
        logger,
        temporal: client,
        maxToolWaitMs: config.VULNSYNC_MAX_TOOL_WAIT_SECONDS * 1000,
        metrics,
        workerWindow,
      }),
      maxConcurrentActivityTaskExecutions: slots,
      // A record's steps run as local activities first: the same slots bound them.
      maxConcurrentLocalActivityExecutions: slots,
    });
  } catch (err) {
    await health?.close();
    await connection.close();
    await clientConnection.close();
    await pool.end();
    await orm.close();
    await bundle.cleanUp();
    throw err;
  }
  // Schedules are reconciled while the worker already polls: a slow or briefly unreachable Temporal delays
  // them, never the worker.
  const reconciling = new AbortController();
  const reconciled = reconcileSchedulesUntilDone(client, orm, { taskQueue: config.VULNSYNC_TASK_QUEUE }, logger, reconciling.signal);
  const sweeping = sweepFetchesEvery(pool, config.VULNSYNC_FETCH_RETENTION_HOURS * 3_600_000, logger);
  const recordingToolCalls = recordToolCallsEvery(pool, metrics, logger);
  const running = worker;
  const run = running.run().finally(async () => {
    clearInterval(sweeping);
    await recordingToolCalls.stop();
    await health?.close();
    reconciling.abort();
    await reconciled;
    await connection.close();
    await clientConnection.close();
    await pool.end();
    await orm.close();
    await bundle.cleanUp();
  });
  logger.info(
    { taskQueue: config.VULNSYNC_TASK_QUEUE, namespace, health: health?.url ?? null, sdkMetrics: config.VULNSYNC_WORKER_METRICS_ADDRESS },
    'worker started',
  );
  return {
    worker: running,
    healthUrl: health?.url ?? null,
    run,
    schedulesReconciled: reconciled,
    recordToolCalls: () => metrics.toolCallTally.flush(pool),
    async shutdown() {
      running.shutdown();
      await run;
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const started = await startWorker(process.env, { bundleInChild: true });
    const stop = () => void started.shutdown();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await started.run;
  } catch (err) {
    console.error(`vulnsync worker: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
