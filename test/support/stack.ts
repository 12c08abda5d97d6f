import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createApiToken } from '../../src/api/tokens.js';
import { startServer, type StartedServer } from '../../src/server.js';
import { startWorker, type StartedWorker } from '../../src/worker.js';
import { createTestDatabase } from './database.js';
import { connectTestClient, testTemporalAddress, uniqueTaskQueue, type TestTemporalClient } from './temporal.js';

export interface TestStack {
  env: NodeJS.ProcessEnv;
  orm: MikroORM;
  temporal: TestTemporalClient;
  worker: StartedWorker;
  api: StartedServer;
  token: string;
  /** Calls the API as an authenticated user; answers status and parsed JSON body. */
  call<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; text: string }>;
  /** Polls an Operation until its status is final (as a script would). */
  waitForOperation(operationId: string, timeoutMs?: number): Promise<any>;
  stop(): Promise<void>;
}

const FINAL = new Set(['succeeded', 'failed', 'partial']);

/**
 * The whole service for one test file: its own database, its own task queue on the run's Temporal
 * server, a real worker and a real API process-in-process wired exactly as in production (startWorker,
 * startServer), and an API token.
 */
export async function startTestStack(overrides: NodeJS.ProcessEnv = {}): Promise<TestStack> {
  const db = await createTestDatabase();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: db.url,
    VULNSYNC_SECRET_KEY: randomBytes(32).toString('base64'),
    VULNSYNC_TASK_QUEUE: uniqueTaskQueue('stack'),
    VULNSYNC_API_PORT: '0',
    VULNSYNC_API_HOST: '127.0.0.1',
    TEMPORAL_ADDRESS: testTemporalAddress(),
    TEMPORAL_NAMESPACE: 'default',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    // Several workers run side by side in the tests: each health server on a free port, and no SDK exporter
    // (the SDK runtime is one per process and its port could not be shared).
    VULNSYNC_WORKER_HEALTH_ADDRESS: '127.0.0.1:0',
    VULNSYNC_WORKER_METRICS_ADDRESS: 'off',
    ...overrides,
  };
  const temporal = await connectTestClient();
  const worker = await startWorker(env);
  const api = await startServer(env);
  const { token } = await createApiToken(db.orm.em.fork(), { name: 'test', scope: 'admin' });

  async function call(method: string, path: string, body?: unknown) {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
  }

  return {
    env,
    orm: db.orm as MikroORM,
    temporal,
    worker,
    api,
    token,
    call,
    async waitForOperation(operationId, timeoutMs = 45_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { status, body } = await call('GET', `/api/v1/operations/${operationId}`);
        if (status !== 200) throw new Error(`GET operation ${operationId} answered ${status}`);
        if (FINAL.has(body.status)) return body;
        if (Date.now() > deadline) throw new Error(`operation ${operationId} still ${body.status} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      await api.close();
      await worker.shutdown();
      await temporal.close();
      await db.drop();
    },
  };
}

/** Starts a sync of the connector through the API, waits for it to succeed and answers its reimport counts. */
export async function syncCounts(stack: TestStack, connectorId: string) {
  const started = await stack.call('POST', `/api/v1/connectors/${connectorId}/sync`);
  expect(started.status).toBe(202);
  const op = await stack.waitForOperation(started.body.operationId, 60_000);
  expect({ status: op.status, error: op.error ?? null }).toEqual({ status: 'succeeded', error: null });
  const { created, closed, untouched, reactivated, updated } = op.summary;
  return { created, closed, untouched, reactivated, updated };
}
