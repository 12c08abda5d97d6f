import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { MikroORM } from '@mikro-orm/postgresql';
import { WorkflowNotFoundError } from '@temporalio/client';
import { createApp, type ApiDeps } from '../../src/api/app.js';
import { createApiToken } from '../../src/api/tokens.js';
import { Connector, Engagement, Finding, Operation, Product, Test } from '../../src/db/entities.js';
import { SecretBox } from '../../src/db/secrets.js';
import { createLogger } from '../../src/logger.js';
import { createRunStarter } from '../../src/temporal/runs.js';
import { deleteConnectorSchedule } from '../../src/temporal/schedules.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connectTestClient, uniqueTaskQueue, type TestTemporalClient } from '../support/temporal.js';
import type { AnswerBody } from '../support/answers.js';

export interface ApiAnswer<T = AnswerBody> {
  status: number;
  headers: Headers;
  /** The raw body, for asserting that something (a secret) appears nowhere in it. */
  text: string;
  body: T;
}

export interface TestApi {
  url: string;
  token: string;
  db: TestDatabase;
  orm: MikroORM;
  temporal: TestTemporalClient;
  taskQueue: string;
  /** The dependencies the app was built with, to build a second app over the same database. */
  deps: ApiDeps;
  /** Every response body this API answered, to check a secret never appears in any of them. */
  bodies: string[];
  call<T = AnswerBody>(method: string, path: string, options?: { body?: unknown; rawBody?: string; token?: string | null; headers?: Record<string, string> }): Promise<ApiAnswer<T>>;
  close(): Promise<void>;
}

export const TEMPORAL_UI = 'http://temporal-ui.test:8233';

/** Listens on a free port and resolves once it does. */
export async function listen(app: ReturnType<typeof createApp>): Promise<{ server: Server; url: string }> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/**
 * The API as a user meets it: a real HTTP server on a free port over its own database and a unique task
 * queue on the run's Temporal server, with one API token. `close()` terminates the workflows the test
 * started, deletes its connectors' schedules, stops the server and drops the database.
 */
export async function startTestApi(overrides: Partial<ApiDeps> = {}): Promise<TestApi> {
  const db = await createTestDatabase();
  const temporal = await connectTestClient();
  const taskQueue = uniqueTaskQueue('api');
  const logger = createLogger('silent', 'vulnsync-api-test');
  const deps: ApiDeps = {
    orm: db.orm,
    client: temporal.client,
    runs: createRunStarter({ client: temporal.client, taskQueue, temporalUiUrl: TEMPORAL_UI }),
    secrets: new SecretBox(randomBytes(32).toString('base64')),
    logger,
    taskQueue,
    temporalUiUrl: TEMPORAL_UI,
    schedule: { jitter: '1m', catchupWindow: '10m' },
    ...overrides,
  };
  const { server, url } = await listen(createApp(deps));
  const { token } = await createApiToken(db.orm.em.fork(), { name: 'api-test', scope: 'admin' });
  const bodies: string[] = [];

  return {
    url,
    token,
    db,
    orm: db.orm,
    temporal,
    taskQueue,
    deps,
    bodies,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      const auth = options.token === undefined ? token : options.token;
      if (auth !== null) headers.authorization = `Bearer ${auth}`;
      let payload: string | undefined = options.rawBody;
      if (options.body !== undefined) payload = JSON.stringify(options.body);
      if (payload !== undefined) headers['content-type'] ??= 'application/json';
      const response = await fetch(`${url}${path}`, { method, headers, body: payload });
      const text = await response.text();
      bodies.push(text);
      let body: unknown = undefined;
      if (text && response.headers.get('content-type')?.includes('application/json')) body = JSON.parse(text);
      return { status: response.status, headers: response.headers, text, body: body as AnswerBody };
    },
    async close() {
      try {
        const em = db.orm.em.fork();
        for (const op of await em.find(Operation, { trigger: 'manual' })) {
          try {
            await temporal.client.workflow.getHandle(op.workflowId, op.runId ?? undefined).terminate('test over');
          } catch (err) {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          }
        }
        for (const connector of await em.find(Connector, {})) await deleteConnectorSchedule(temporal.client, connector.id);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await temporal.close();
        await db.drop();
      }
    },
  };
}

/**
 * A product with the Global Connectors engagement and the test of `connectorId` in it, holding `count` findings.
 * Rows written here, not by a sync: the title and engagement a sync gives a Test are checked in test/e2e.
 */
export async function seedFindings(
  orm: MikroORM,
  options: { connectorId: string | null; productName: string; count: number; severity?: 'Critical' | 'High' | 'Medium' | 'Low' | 'Info' },
) {
  const em = orm.em.fork();
  const product = em.create(Product, { name: options.productName });
  const engagement = em.create(Engagement, { product, name: 'Global Connectors' });
  const test = em.create(Test, { engagement, connector: options.connectorId, tool: 'dependency_track', title: `seeded test of ${options.productName}` });
  const findings = Array.from({ length: options.count }, (_, i) =>
    em.create(Finding, {
      test,
      title: `${options.productName} finding ${i}`,
      severity: options.severity ?? 'High',
      uniqueIdFromTool: `${options.productName}-${i}`,
      raw: { id: i, source: 'seed' },
    }),
  );
  await em.flush();
  return { productId: product.id, engagementId: engagement.id, testId: test.id, findingIds: findings.map((f) => f.id) };
}
