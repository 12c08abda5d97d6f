import { randomBytes } from 'node:crypto';
import { createApiToken } from '../../src/api/tokens.js';
import { ensureTemporalCli } from '../../src/devstack/temporal-cli.js';
import { startTemporalDevServer, VULNSYNC_SEARCH_ATTRIBUTES, type TemporalDevServer } from '../../src/devstack/temporal-server.js';
import { startServer, type StartedServer } from '../../src/server.js';
import { DEFAULT_DT_API_KEY, startDependencyTrackFake, type DependencyTrackFake } from '../fakes/dependency-track.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { uniqueTaskQueue } from '../support/temporal.js';
import type { AnswerBody } from '../support/answers.js';

/**
 * Temporal going away under a running API: runs cannot start, so the API answers 503 with Retry-After (never
 * a 500) and leaves no Operation behind for a run that never was. A Temporal server of its own, so stopping
 * it disturbs no other test.
 */
let db: TestDatabase;
let temporal: TemporalDevServer;
let api: StartedServer;
let tool: DependencyTrackFake;
let token: string;

beforeAll(async () => {
  db = await createTestDatabase();
  temporal = await startTemporalDevServer({
    cliPath: await ensureTemporalCli(),
    ip: '127.0.0.1',
    port: 0,
    headless: true,
    searchAttributes: { ...VULNSYNC_SEARCH_ATTRIBUTES },
    logLevel: 'error',
  });
  api = await startServer({
    DATABASE_URL: db.url,
    VULNSYNC_SECRET_KEY: randomBytes(32).toString('base64'),
    VULNSYNC_API_HOST: '127.0.0.1',
    VULNSYNC_API_PORT: '0',
    VULNSYNC_TASK_QUEUE: uniqueTaskQueue('temporal-down'),
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: 'default',
    LOG_LEVEL: 'silent',
  });
  tool = await startDependencyTrackFake();
  token = (await createApiToken(db.orm.em.fork(), { name: 'temporal-down', scope: 'admin' })).token;
});
afterAll(async () => {
  await api?.close();
  await tool?.close();
  await temporal?.stop();
  await db?.drop();
});

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json().catch(() => null)) as AnswerBody };
};

it('answers 503 with Retry-After when Temporal is unreachable, and leaves no orphan Operation', async () => {
  const created = await call('POST', '/api/v1/connectors', { tool: 'dependency_track', label: 'down', location: tool.url, secret: DEFAULT_DT_API_KEY });
  expect(created.status).toBe(201);
  await temporal.stop();

  for (const path of [`/api/v1/connectors/${created.body.id}/sync`, `/api/v1/connectors/${created.body.id}/discover`]) {
    const res = await call('POST', path);
    expect({ path, status: res.status, code: res.body?.error?.code }).toEqual({ path, status: 503, code: 'TEMPORAL_UNAVAILABLE' });
    expect(Number(res.retryAfter)).toBeGreaterThan(0);
  }
  const ops = await call('GET', '/api/v1/operations');
  expect(ops.status).toBe(200);
  expect(ops.body.items).toEqual([]);
}, 90_000);
