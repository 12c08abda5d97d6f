/**
 * The API process: the only place that wires the API's dependencies from the environment. Migrations
 * run explicitly (`npm run migrate`); the API refuses to start on an outdated schema rather than migrate it.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Connection } from '@temporalio/client';
import { createApp } from './api/app.js';
import { outboundFrom } from './connectors/http/outbound.js';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { SecretBox } from './db/secrets.js';
import { createLogger } from './logger.js';
import { connectClient, temporalSettings } from './temporal/connection.js';
import { createRunStarter } from './temporal/runs.js';

export interface StartedServer {
  /** Base URL the API listens on, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Stops accepting requests, waits for the ones in flight, then closes Temporal and PostgreSQL. */
  close(): Promise<void>;
}

/** A dependency the API cannot start without is down; the message says which and where, never a credential. */
export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError';
}

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0];

async function openCheckedDatabase(databaseUrl: string): Promise<MikroORM> {
  const where = (() => {
    try {
      const url = new URL(databaseUrl);
      return `${url.host}${url.pathname}`;
    } catch {
      return 'DATABASE_URL';
    }
  })();
  let orm: MikroORM | undefined;
  try {
    orm = await openDatabase(databaseUrl);
    await orm.em.fork().execute('select 1');
  } catch (err) {
    await orm?.close(true).catch(() => undefined);
    throw new DependencyUnavailableError(`PostgreSQL is unreachable at ${where} (${reason(err)}); check DATABASE_URL`);
  }
  const pending = await orm.migrator.getPending();
  if (pending.length > 0) {
    await orm.close(true);
    throw new DependencyUnavailableError(`the database schema is behind (${pending.length} migration(s) pending): run \`npm run migrate\``);
  }
  return orm;
}

async function connectTemporal(env: NodeJS.ProcessEnv) {
  try {
    return await connectClient(env);
  } catch (err) {
    const address = (() => {
      try {
        return temporalSettings(env).connectionOptions.address;
      } catch {
        return 'the configured address';
      }
    })();
    throw new DependencyUnavailableError(`Temporal is unreachable at ${address} (${reason(err)}); check TEMPORAL_ADDRESS or the Temporal profile`);
  }
}

/**
 * Builds the API from the environment and listens on VULNSYNC_API_HOST:VULNSYNC_API_PORT (port 0 picks a
 * free one). Throws ConfigError for bad configuration and DependencyUnavailableError when PostgreSQL or
 * Temporal cannot be reached, having released whatever it had opened.
 */
export async function startServer(env: NodeJS.ProcessEnv = process.env): Promise<StartedServer> {
  const config = loadConfig(env);
  const logger = createLogger(config.LOG_LEVEL, 'vulnsync-api');
  const orm = await openCheckedDatabase(config.DATABASE_URL);
  let connection: Connection;
  let client: Awaited<ReturnType<typeof connectClient>>['client'];
  try {
    ({ client, connection } = await connectTemporal(env));
  } catch (err) {
    await orm.close(true);
    throw err;
  }
  const app = createApp({
    orm,
    client,
    runs: createRunStarter({
      client,
      taskQueue: config.VULNSYNC_TASK_QUEUE,
      temporalUiUrl: config.VULNSYNC_TEMPORAL_UI_URL,
      syncConcurrency: config.VULNSYNC_SYNC_CONCURRENCY,
    }),
    secrets: new SecretBox(config.VULNSYNC_SECRET_KEY, config.VULNSYNC_SECRET_KEYS_OLD),
    outbound: outboundFrom(config),
    logger,
    taskQueue: config.VULNSYNC_TASK_QUEUE,
    temporalUiUrl: config.VULNSYNC_TEMPORAL_UI_URL,
  });
  const server = app.listen(config.VULNSYNC_API_PORT, config.VULNSYNC_API_HOST);
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
  } catch (err) {
    await connection.close();
    await orm.close(true);
    throw new DependencyUnavailableError(`cannot listen on ${config.VULNSYNC_API_HOST}:${config.VULNSYNC_API_PORT} (${reason(err)})`);
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info({ url, taskQueue: config.VULNSYNC_TASK_QUEUE, namespace: client.options.namespace }, `vulnsync API listening on ${url}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await app.settle();
        await connection.close();
        await orm.close();
        logger.info('vulnsync API stopped');
      })();
      return closing;
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const started = await startServer();
    const stop = () => {
      started.close().then(
        () => process.exit(0),
        (err: unknown) => {
          console.error(`vulnsync api: ${reason(err)}`);
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (err) {
    const message = err instanceof ConfigError ? err.message.replace(/\n\s*/g, '; ').replace(':;', ':') : reason(err);
    console.error(`vulnsync api: ${message}`);
    process.exit(1);
  }
}
