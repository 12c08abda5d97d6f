import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createApiToken } from '../../src/api/tokens.js';
import { startServer, type StartedServer } from '../../src/server.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { testTemporalAddress, uniqueTaskQueue } from '../support/temporal.js';
import type { AnswerBody } from '../support/answers.js';

/**
 * PostgreSQL going away under a running API (a restart, a failover) is a 503 with Retry-After, never a
 * 500; once it is back, the API answers again without a restart. The API reaches PostgreSQL through a TCP
 * relay of the test's own, so cutting it disturbs no other test.
 */
let db: TestDatabase;
let api: StartedServer;
let token: string;
let relay: { server: Server; sockets: Set<Socket>; port: number };

function startRelay(port = 0): Promise<typeof relay> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(5432, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, sockets, port: (server.address() as { port: number }).port })));
}

async function cutRelay(): Promise<void> {
  for (const s of relay.sockets) s.destroy();
  await new Promise((r) => relay.server.close(r));
}

beforeAll(async () => {
  db = await createTestDatabase();
  relay = await startRelay();
  const url = new URL(db.url);
  url.port = String(relay.port);
  api = await startServer({
    DATABASE_URL: url.toString(),
    VULNSYNC_SECRET_KEY: randomBytes(32).toString('base64'),
    VULNSYNC_API_HOST: '127.0.0.1',
    VULNSYNC_API_PORT: '0',
    VULNSYNC_TASK_QUEUE: uniqueTaskQueue('db-down'),
    TEMPORAL_ADDRESS: testTemporalAddress(),
    TEMPORAL_NAMESPACE: 'default',
    LOG_LEVEL: 'silent',
  });
  token = (await createApiToken(db.orm.em.fork(), { name: 'db-down', scope: 'admin' })).token;
});
afterAll(async () => {
  await api?.close().catch(() => undefined);
  if (relay.server.listening) await cutRelay();
  await db?.drop();
});

const get = async (path: string) => {
  const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as AnswerBody };
};

it('answers 503 with Retry-After while PostgreSQL is unreachable, and recovers when it is back', async () => {
  expect((await get('/api/v1/operations')).status).toBe(200);
  await cutRelay();

  for (const path of ['/api/v1/operations', '/api/v1/findings', '/api/v1/connectors']) {
    const res = await get(path);
    expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 503, code: 'DATABASE_UNAVAILABLE' });
    expect(Number(res.retryAfter)).toBeGreaterThan(0);
  }
  expect((await get('/readyz')).status).toBe(503);

  relay = await startRelay(relay.port);
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    status = (await get('/api/v1/operations')).status;
    if (status !== 200) await new Promise((r) => setTimeout(r, 200));
  }
  expect(status).toBe(200);
}, 60_000);
