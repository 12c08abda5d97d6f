import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { defineSearchAttributeKey } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import pg from 'pg';
import { parse } from 'yaml';
import { planFromCompose, readComposePlan } from '../../src/devstack/compose.js';
import { ensureTemporalCli } from '../../src/devstack/temporal-cli.js';
import { DEV_SERVER_DYNAMIC_CONFIG, startTemporalDevServer, temporalDevServerArgs, VULNSYNC_SEARCH_ATTRIBUTES } from '../../src/devstack/temporal-server.js';
import { createTestDatabase } from '../support/database.js';
import { connectTestClient, testTemporalAddress, uniqueTaskQueue } from '../support/temporal.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const composeFile = join(repoRoot, 'temporal-dev.yml');
const KEYWORD = encodeSearchAttributeIndexedValueType('KEYWORD');
const vulnsyncAttributes = Object.keys(VULNSYNC_SEARCH_ATTRIBUTES).sort();

async function customSearchAttributes(connection: Connection): Promise<Record<string, unknown>> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
  return customAttributes ?? {};
}

describe('the Temporal dev server of the test run', () => {
  it('answers at the published address with the five vulnsync search attributes registered as Keyword', async () => {
    expect(process.env.TEMPORAL_ADDRESS).toBe(testTemporalAddress());
    const { connection, close } = await connectTestClient();
    try {
      const attributes = await customSearchAttributes(connection);
      expect(vulnsyncAttributes).toEqual(['ConnectorId', 'ProductId', 'RecordId', 'Tool', 'Trigger']);
      for (const name of vulnsyncAttributes) expect({ name, type: attributes[name] }).toEqual({ name, type: KEYWORD });
    } finally {
      await close();
    }
  });

  it('gives each caller its own task queue', () => {
    const first = uniqueTaskQueue('sync');
    expect(first).toMatch(/^sync-/);
    expect(uniqueTaskQueue('sync')).not.toBe(first);
  });
});

describe('temporal-dev.yml as the native stack', () => {
  const env = { VULNSYNC_SECRET_KEY: 'dev-key' };

  it('maps the temporal service to a dev server on 127.0.0.1 with its database under .dev/temporal', async () => {
    const plan = await readComposePlan(composeFile, { repoRoot, env });
    expect(plan.temporal).toEqual({
      dbFilename: join(repoRoot, '.dev', 'temporal', 'temporal.db'),
      ip: '127.0.0.1',
      port: 7233,
      uiPort: 8233,
      namespaces: ['default'],
      searchAttributes: VULNSYNC_SEARCH_ATTRIBUTES,
      logLevel: 'warn',
      retention: '30d',
      // The same tuning as every dev server the tests and benchmarks start.
      dynamicConfig: DEV_SERVER_DYNAMIC_CONFIG,
      extraArgs: [],
    });
    expect(temporalDevServerArgs(plan.temporal)).toEqual([
      'server', 'start-dev', '--ip', '127.0.0.1', '--port', '7233',
      '--db-filename', join(repoRoot, '.dev', 'temporal', 'temporal.db'),
      '--ui-port', '8233', '--namespace', 'default',
      '--search-attribute', 'ConnectorId=Keyword', '--search-attribute', 'RecordId=Keyword',
      '--search-attribute', 'ProductId=Keyword', '--search-attribute', 'Tool=Keyword',
      '--search-attribute', 'Trigger=Keyword', '--log-level', 'warn',
      '--dynamic-config-value', 'system.enableActivityEagerExecution=true',
      '--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=false',
    ]);
    expect(plan.temporalAddress).toBe('127.0.0.1:7233');
    expect(plan.temporalUiUrl).toBe('http://127.0.0.1:8233');
  });

  it('runs the worker and the API with the compose environment pointed at 127.0.0.1', async () => {
    const plan = await readComposePlan(composeFile, { repoRoot, env });
    expect(plan.worker.command).toEqual(['npm', 'run', 'worker']);
    expect(plan.api.command).toEqual(['npm', 'run', 'api']);
    expect(plan.worker.env).toMatchObject({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/vulnsync',
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_NAMESPACE: 'default',
      VULNSYNC_SECRET_KEY: 'dev-key',
    });
    expect(plan.api.env).toMatchObject({ ...plan.worker.env, VULNSYNC_API_HOST: '127.0.0.1', VULNSYNC_API_PORT: '8080' });
    expect(plan.worker.env).toMatchObject({ VULNSYNC_WORKER_HEALTH_ADDRESS: '127.0.0.1:9465', VULNSYNC_WORKER_METRICS_ADDRESS: '127.0.0.1:9464' });
    expect(plan.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/vulnsync');
    expect(plan.apiUrl).toBe('http://127.0.0.1:8080');
  });

  it('registers the same search attributes in its one-shot service as on the temporal command', async () => {
    const document = parse(await readFile(composeFile, 'utf8'), { merge: true }) as { services: Record<string, { command: string[] }> };
    const command = document.services['temporal-search-attributes']!.command;
    const pairs = command.flatMap((word, i) => (word === '--name' ? [`${command[i + 1]} ${command[i + 2]} ${command[i + 3]}`] : []));
    expect(pairs.sort()).toEqual(vulnsyncAttributes.map((name) => `${name} --type Keyword`));
  });

  it('uses published host ports, list-style environments and fails clearly on a missing required variable', () => {
    const yaml = `
services:
  temporal:
    image: temporalio/temporal:1.5.1
    command: server start-dev --ip 0.0.0.0 --headless -f /state/t.db --search-attribute Tool=Keyword
    ports: ["17233:7233"]
    volumes: ["state:/state"]
  postgres:
    ports: [{ target: 5432, published: 15432 }]
  worker:
    command: npm run worker
    environment:
      - DATABASE_URL=postgres://postgres@postgres:5432/app
      - TEMPORAL_ADDRESS=temporal:7233
      - KEY=\${KEY:?set KEY}
  api:
    command: ["node", "dist/server.js"]
    x-dev-command: ["npm", "run", "api"]
    environment: { VULNSYNC_API_HOST: 0.0.0.0, VULNSYNC_API_PORT: 9090, LEVEL: "\${LEVEL:-info}" }
`;
    const plan = planFromCompose(yaml, { repoRoot: '/repo', env: { KEY: 'k' } });
    expect(plan.temporal).toMatchObject({ ip: '127.0.0.1', port: 17233, headless: true, dbFilename: join('/repo', '.dev', 'temporal', 't.db') });
    expect(temporalDevServerArgs(plan.temporal)).toContain('--headless');
    expect(plan.temporalUiUrl).toBeUndefined();
    expect(plan.worker.env).toEqual({ DATABASE_URL: 'postgres://postgres@127.0.0.1:15432/app', TEMPORAL_ADDRESS: '127.0.0.1:17233', KEY: 'k' });
    expect(plan.api.env).toEqual({ VULNSYNC_API_HOST: '127.0.0.1', VULNSYNC_API_PORT: '9090', LEVEL: 'info' });
    expect(plan.apiUrl).toBe('http://127.0.0.1:9090');
    // The native stack runs the sources: a service's x-dev-command wins over the image's command.
    expect(plan.worker.command).toEqual(['npm', 'run', 'worker']);
    expect(plan.api.command).toEqual(['npm', 'run', 'api']);
    expect(() => planFromCompose(yaml, { repoRoot: '/repo', env: {} })).toThrow('temporal-dev.yml needs KEY: set KEY');
  });
});

describe('a Temporal dev server with a database file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vulnsync-temporal-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gets search attributes added after the file was created, and 30 days of retention', async () => {
    const cliPath = await ensureTemporalCli();
    const base = { cliPath, ip: '127.0.0.1', port: 0, headless: true, dbFilename: join(dir, 'temporal.db'), logLevel: 'error' as const, dynamicConfig: DEV_SERVER_DYNAMIC_CONFIG };

    const first = await startTemporalDevServer({ ...base, searchAttributes: { Tool: 'Keyword' } });
    await first.stop();

    const second = await startTemporalDevServer({ ...base, searchAttributes: { ...VULNSYNC_SEARCH_ATTRIBUTES }, retention: '30d' });
    const connection = await Connection.connect({ address: second.address });
    try {
      const attributes = await customSearchAttributes(connection);
      expect(vulnsyncAttributes.filter((name) => attributes[name] !== KEYWORD)).toEqual([]);
      const { config } = await connection.workflowService.describeNamespace({ namespace: 'default' });
      expect(Number(config?.workflowExecutionRetentionTtl?.seconds)).toBe(30 * 24 * 3600);
      // The server caches attribute definitions: a run carrying the ones just added is accepted all the same.
      const client = new Client({ connection });
      const handle = await client.workflow.start('notRegistered', {
        taskQueue: `attributes-${randomUUID()}`,
        workflowId: `attributes-${randomUUID()}`,
        typedSearchAttributes: vulnsyncAttributes.map((name) => ({ key: defineSearchAttributeKey(name, 'KEYWORD'), value: 'x' })),
      });
      await handle.terminate('checked');
    } finally {
      await connection.close();
      await second.stop();
    }
    await expect(second.exited).resolves.toBeDefined();
  }, 90_000);
});

describe('createTestDatabase', () => {
  it('gives a migrated database of its own that drop() removes', async () => {
    const database = await createTestDatabase();
    let dropped = false;
    try {
      expect(database.name).toMatch(/^vulnsync_test_[0-9a-f]+$/);
      const [row] = await database.orm.em.getConnection().execute<{ finding: string | null }[]>(`select to_regclass('public.finding')::text as finding`);
      expect(row?.finding).toBe('finding');
      await database.drop();
      dropped = true;
      const client = new pg.Client({ connectionString: process.env.VULNSYNC_TEST_DATABASE_URL });
      await client.connect();
      try {
        const found = await client.query('select 1 from pg_database where datname = $1', [database.name]);
        expect(found.rowCount).toBe(0);
      } finally {
        await client.end();
      }
    } finally {
      if (!dropped) await database.drop();
    }
  });
});
