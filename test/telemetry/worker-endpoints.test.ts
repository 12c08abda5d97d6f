import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startWorker } from '../../src/worker.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { testTemporalAddress, uniqueTaskQueue } from '../support/temporal.js';

const key = randomBytes(32).toString('base64');

describe('worker endpoint configuration', () => {
  test('defaults to 127.0.0.1, takes host:port or off, and names a bad value', () => {
    const defaults = loadConfig({ VULNSYNC_SECRET_KEY: key });
    expect([defaults.VULNSYNC_WORKER_HEALTH_ADDRESS, defaults.VULNSYNC_WORKER_METRICS_ADDRESS]).toEqual(['127.0.0.1:9465', '127.0.0.1:9464']);
    const set = loadConfig({ VULNSYNC_SECRET_KEY: key, VULNSYNC_WORKER_HEALTH_ADDRESS: '0.0.0.0:8001', VULNSYNC_WORKER_METRICS_ADDRESS: 'off' });
    expect([set.VULNSYNC_WORKER_HEALTH_ADDRESS, set.VULNSYNC_WORKER_METRICS_ADDRESS]).toEqual(['0.0.0.0:8001', null]);
    expect(loadConfig({ VULNSYNC_SECRET_KEY: key, VULNSYNC_WORKER_HEALTH_ADDRESS: '[::1]:9465' }).VULNSYNC_WORKER_HEALTH_ADDRESS).toBe('[::1]:9465');
    for (const bad of ['9465', 'localhost', 'host:99999', 'http://127.0.0.1:9465']) {
      expect(() => loadConfig({ VULNSYNC_SECRET_KEY: key, VULNSYNC_WORKER_METRICS_ADDRESS: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ VULNSYNC_SECRET_KEY: key, VULNSYNC_WORKER_METRICS_ADDRESS: bad })).toThrow(/VULNSYNC_WORKER_METRICS_ADDRESS: must be host:port/);
    }
  });
});

describe('a worker whose endpoint address is taken', () => {
  let db: TestDatabase;
  let taken: Server;
  let port: number;
  beforeAll(async () => {
    db = await createTestDatabase();
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => taken.close(resolve));
    await db.drop();
  });
  const env = (overrides: NodeJS.ProcessEnv) => ({
    DATABASE_URL: db.url,
    VULNSYNC_SECRET_KEY: key,
    VULNSYNC_TASK_QUEUE: uniqueTaskQueue('taken'),
    TEMPORAL_ADDRESS: testTemporalAddress(),
    TEMPORAL_NAMESPACE: 'default',
    LOG_LEVEL: 'silent',
    ...overrides,
  });

  test('refuses to start, naming the variable, for the SDK exporter and for the health server', async () => {
    await expect(startWorker(env({ VULNSYNC_WORKER_METRICS_ADDRESS: `127.0.0.1:${port}`, VULNSYNC_WORKER_HEALTH_ADDRESS: 'off' }))).rejects.toThrow(
      new RegExp(`^cannot export the Temporal SDK's metrics on 127\\.0\\.0\\.1:${port} .*in use.*; set VULNSYNC_WORKER_METRICS_ADDRESS$`),
    );
    await expect(startWorker(env({ VULNSYNC_WORKER_METRICS_ADDRESS: 'off', VULNSYNC_WORKER_HEALTH_ADDRESS: `127.0.0.1:${port}` }))).rejects.toThrow(
      new RegExp(`^cannot serve the worker's health endpoint on 127\\.0\\.0\\.1:${port} \\(.*EADDRINUSE.*\\); set VULNSYNC_WORKER_HEALTH_ADDRESS$`),
    );
  }, 60_000);
});
