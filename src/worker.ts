/**
 * The worker process: the only place that wires the worker's dependencies. Migrations run explicitly
 * (`npm run migrate`); the worker refuses to start on an outdated schema rather than migrate it.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import { loadConfig } from './config.js';
import { outboundFrom } from './connectors/http/outbound.js';
import { openDatabase, openPool } from './db/database.js';
import { SecretBox } from './db/secrets.js';
import { createLogger } from './logger.js';
import { connectClient, connectWorker } from './temporal/connection.js';
import { reconcileSchedules } from './temporal/schedules.js';

export const workflowsPath = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface StartedWorker {
  worker: Worker;
  run: Promise<void>;
  shutdown(): Promise<void>;
}

/** Builds and starts a worker from the environment; resolves once it is polling. */
export async function startWorker(env: NodeJS.ProcessEnv = process.env): Promise<StartedWorker> {
  const config = loadConfig(env);
  const logger = createLogger(config.LOG_LEVEL, 'vulnsync-worker');
  const orm = await openDatabase(config.DATABASE_URL);
  const pending = await orm.migrator.getPending();
  if (pending.length > 0) {
    await orm.close();
    throw new Error(`the database schema is behind (${pending.length} migration(s) pending): run \`npm run migrate\``);
  }
  const { client, connection: clientConnection } = await connectClient(env);
  await reconcileSchedules(client, orm, { taskQueue: config.VULNSYNC_TASK_QUEUE }, logger);
  const { connection, namespace } = await connectWorker(env);
  const pool = openPool(config.DATABASE_URL);
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: config.VULNSYNC_TASK_QUEUE,
    workflowsPath,
    activities: createActivities({
      orm,
      pool,
      secrets: new SecretBox(config.VULNSYNC_SECRET_KEY, config.VULNSYNC_SECRET_KEYS_OLD),
      outbound: outboundFrom(config),
      logger,
    }),
    maxConcurrentActivityTaskExecutions: 20,
  });
  const run = worker.run().finally(async () => {
    await connection.close();
    await clientConnection.close();
    await pool.end();
    await orm.close();
  });
  logger.info({ taskQueue: config.VULNSYNC_TASK_QUEUE, namespace }, 'worker started');
  return {
    worker,
    run,
    async shutdown() {
      worker.shutdown();
      await run;
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const started = await startWorker();
    const stop = () => void started.shutdown();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await started.run;
  } catch (err) {
    console.error(`vulnsync worker: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
