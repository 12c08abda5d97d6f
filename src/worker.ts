/**
 * The worker process: the only place that wires the worker's dependencies. Migrations run explicitly
 * (`npm run migrate`); the worker refuses to start on an outdated schema rather than migrate it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from '@temporalio/worker';
import type pg from 'pg';
import type { Logger } from 'pino';
import { createActivities } from './activities/index.js';
import { loadConfig } from './config.js';
import { outboundFrom } from './connectors/http/outbound.js';
import { openDatabase, openPool } from './db/database.js';
import { SecretBox } from './db/secrets.js';
import { createLogger } from './logger.js';
import { sweepFetches } from './reimport/staging.js';
import { connectClient, connectWorker } from './temporal/connection.js';
import { reconcileSchedulesUntilDone } from './temporal/schedules.js';

import { workflowsPath } from './bundle-workflows.js';

export { workflowsPath };

/** The workflows bundled by a child process (src/bundle-workflows.ts) into a temporary directory. */
async function bundleInChild(): Promise<{ codePath: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'vulnsync-workflows-'));
  const codePath = join(dir, 'workflows.js');
  await promisify(execFile)(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./bundle-workflows.ts', import.meta.url)), codePath]);
  return { codePath, dir };
}

const SWEEP_EVERY_MS = 60 * 60_000;

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
  run: Promise<void>;
  /** Settles once the schedules are reconciled (or the worker stopped first). */
  schedulesReconciled: Promise<void>;
  shutdown(): Promise<void>;
}

/** Builds and starts a worker from the environment; resolves once it is polling. */
export async function startWorker(env: NodeJS.ProcessEnv = process.env, options: { bundleInChild?: boolean } = {}): Promise<StartedWorker> {
  const config = loadConfig(env);
  const logger = createLogger(config.LOG_LEVEL, 'vulnsync-worker');
  // Bundling in-process costs the worker ~100 MB of RSS it never gives back (bench/fanout.ts measures the peak).
  const bundle = options.bundleInChild ? await bundleInChild() : null;
  const orm = await openDatabase(config.DATABASE_URL, { poolSize: config.VULNSYNC_DB_POOL_SIZE });
  const pending = await orm.migrator.getPending();
  if (pending.length > 0) {
    await orm.close();
    throw new Error(`the database schema is behind (${pending.length} migration(s) pending): run \`npm run migrate\``);
  }
  const { client, connection: clientConnection } = await connectClient(env);
  const { connection, namespace } = await connectWorker(env);
  const slots = config.VULNSYNC_ACTIVITY_SLOTS;
  // Each record of a connector sync runs one activity at a time, and its reimport holds one ORM connection.
  const workerWindow = Math.min(slots, config.VULNSYNC_DB_POOL_SIZE);
  const pool = openPool(config.DATABASE_URL, config.VULNSYNC_STAGING_POOL_SIZE ?? Math.min(slots, 10), (err) =>
    logger.warn({ err: err.message }, 'a staging connection to PostgreSQL failed; it is replaced'),
  );
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: config.VULNSYNC_TASK_QUEUE,
    ...(bundle ? { workflowBundle: { codePath: bundle.codePath } } : { workflowsPath }),
    activities: createActivities({
      orm,
      pool,
      secrets: new SecretBox(config.VULNSYNC_SECRET_KEY, config.VULNSYNC_SECRET_KEYS_OLD),
      outbound: outboundFrom(config),
      logger,
      temporal: client,
      maxToolWaitMs: config.VULNSYNC_MAX_TOOL_WAIT_SECONDS * 1000,
      workerWindow,
    }),
    maxConcurrentActivityTaskExecutions: slots,
  });
  // Schedules are reconciled while the worker already polls: a slow or briefly unreachable Temporal delays
  // them, never the worker.
  const reconciling = new AbortController();
  const reconciled = reconcileSchedulesUntilDone(client, orm, { taskQueue: config.VULNSYNC_TASK_QUEUE }, logger, reconciling.signal);
  const sweeping = sweepFetchesEvery(pool, config.VULNSYNC_FETCH_RETENTION_HOURS * 3_600_000, logger);
  const run = worker.run().finally(async () => {
    clearInterval(sweeping);
    reconciling.abort();
    await reconciled;
    await connection.close();
    await clientConnection.close();
    await pool.end();
    await orm.close();
    if (bundle) await rm(bundle.dir, { recursive: true, force: true });
  });
  logger.info({ taskQueue: config.VULNSYNC_TASK_QUEUE, namespace }, 'worker started');
  return {
    worker,
    run,
    schedulesReconciled: reconciled,
    async shutdown() {
      worker.shutdown();
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
