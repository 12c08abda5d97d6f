import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { MikroORM } from '@mikro-orm/postgresql';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../src/api/app.js';
import { createApiToken } from '../../src/api/tokens.js';
import { ormConfig } from '../../src/db/mikro-orm.config.js';
import { SecretBox } from '../../src/db/secrets.js';
import { createLogger } from '../../src/logger.js';
import { startServer } from '../../src/server.js';
import { startWorker, type StartedWorker } from '../../src/worker.js';
import { createRunStarter } from '../../src/temporal/runs.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connectTestClient, testTemporalAddress, uniqueTaskQueue, type TestTemporalClient } from '../support/temporal.js';
import { listen } from './api-harness.js';

const execFileAsync = promisify(execFile);

/** A TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let db: TestDatabase;
let temporal: TestTemporalClient;

beforeAll(async () => {
  db = await createTestDatabase();
  temporal = await connectTestClient();
});

afterAll(async () => {
  await temporal?.close();
  await db?.drop();
});

function appWith(orm: MikroORM, client: Client) {
  const taskQueue = uniqueTaskQueue('api-ready');
  return createApp({
    orm,
    client,
    runs: createRunStarter({ client, taskQueue, temporalUiUrl: 'http://ui' }),
    secrets: new SecretBox(randomBytes(32).toString('base64')),
    logger: createLogger('silent', 'test'),
    taskQueue,
    temporalUiUrl: 'http://ui',
  });
}

describe('/readyz', () => {
  test('is 503 naming PostgreSQL when the database is unreachable', async () => {
    const orm = new MikroORM(ormConfig(`postgres://postgres@127.0.0.1:${await closedPort()}/nowhere`));
    const { server, url } = await listen(appWith(orm, temporal.client));
    try {
      const res = await fetch(`${url}/readyz`);
      expect(res.status).toBe(503);
      // No worker polls this test's own task queue either.
      expect(await res.json()).toEqual({ status: 'unavailable', failing: ['PostgreSQL', 'worker'], checks: { postgresql: 'failing', temporal: 'ok', worker: 'failing' } });
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await orm.close(true);
    }
  });

  test('is 503 naming Temporal when Temporal is unreachable', async () => {
    const connection = Connection.lazy({ address: `127.0.0.1:${await closedPort()}`, connectTimeout: 1_000 });
    const app = appWith(db.orm, new Client({ connection }));
    const { server, url } = await listen(app);
    try {
      const res = await fetch(`${url}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ failing: ['Temporal', 'worker'], checks: { postgresql: 'ok', temporal: 'failing', worker: 'failing' } });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await app.settle();
      await connection.close();
    }
  });
});

describe('startServer', () => {
  const baseEnv = () => ({
    DATABASE_URL: db.url,
    VULNSYNC_SECRET_KEY: randomBytes(32).toString('base64'),
    VULNSYNC_API_HOST: '127.0.0.1',
    VULNSYNC_API_PORT: '0',
    VULNSYNC_TASK_QUEUE: uniqueTaskQueue('api-server'),
    TEMPORAL_ADDRESS: testTemporalAddress(),
    TEMPORAL_NAMESPACE: 'default',
    LOG_LEVEL: 'silent',
  });

  test('serves the API from the environment, ready once a worker polls its task queue, and stops cleanly', async () => {
    const env = baseEnv();
    const started = await startServer(env);
    let worker: StartedWorker | undefined;
    try {
      expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const before = await fetch(`${started.url}/readyz`);
      expect({ status: before.status, body: await before.json() }).toEqual({
        status: 503,
        body: { status: 'unavailable', failing: ['worker'], checks: { postgresql: 'ok', temporal: 'ok', worker: 'failing' } },
      });

      worker = await startWorker({ ...env, VULNSYNC_WORKER_HEALTH_ADDRESS: '127.0.0.1:0', VULNSYNC_WORKER_METRICS_ADDRESS: 'off' });
      // Temporal lists a poller once its first poll arrives, a moment after the worker starts.
      let after = await fetch(`${started.url}/readyz`);
      for (let tries = 0; after.status !== 200 && tries < 50; tries++) {
        await new Promise((r) => setTimeout(r, 200));
        after = await fetch(`${started.url}/readyz`);
      }
      expect({ status: after.status, body: await after.json() }).toEqual({
        status: 200,
        body: { status: 'ready', failing: [], checks: { postgresql: 'ok', temporal: 'ok', worker: 'ok' } },
      });
      const health = await fetch(`${worker.healthUrl}/healthz`);
      expect({ status: health.status, body: await health.json() }).toEqual({ status: 200, body: { status: 'ok', worker: 'RUNNING' } });
      const { token } = await createApiToken(db.orm.em.fork(), { name: 'server-test', scope: 'admin' });
      const res = await fetch(`${started.url}/api/v1/products`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    } finally {
      await worker?.shutdown();
      await started.close();
    }
    await expect(fetch(`${started.url}/healthz`)).rejects.toThrow();
    await expect(fetch(`${worker!.healthUrl}/healthz`)).rejects.toThrow();
  }, 90_000);

  test('refuses bad configuration and unreachable dependencies with a clear message', async () => {
    await expect(startServer({ ...baseEnv(), VULNSYNC_SECRET_KEY: 'short' })).rejects.toThrow(/VULNSYNC_SECRET_KEY: must be 32 bytes/);
    const port = await closedPort();
    await expect(startServer({ ...baseEnv(), DATABASE_URL: `postgres://vs:hunter2@127.0.0.1:${port}/vulnsync` })).rejects.toThrow(
      new RegExp(`^PostgreSQL is unreachable at 127\\.0\\.0\\.1:${port}/vulnsync`),
    );
    await expect(startServer({ ...baseEnv(), DATABASE_URL: `postgres://vs:hunter2@127.0.0.1:${port}/vulnsync` })).rejects.not.toThrow(/hunter2/);
    await expect(startServer({ ...baseEnv(), TEMPORAL_ADDRESS: `127.0.0.1:${port}` })).rejects.toThrow(/^Temporal is unreachable at 127\.0\.0\.1:\d+/);
  });

  test('as a process, exits 1 with a one-line message on bad configuration', async () => {
    const env = { ...process.env, ...baseEnv(), VULNSYNC_SECRET_KEY: '', VULNSYNC_API_PORT: 'many' };
    const failure = await execFileAsync('npx', ['tsx', 'src/server.ts'], { env, cwd: process.cwd() }).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure).not.toBeNull();
    expect(failure!.code).toBe(1);
    const lines = failure!.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^vulnsync api: invalid configuration: .*VULNSYNC_SECRET_KEY.*VULNSYNC_API_PORT/);
  }, 60_000);
});
