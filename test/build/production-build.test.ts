import type { AnswerBody, OperationAnswer } from '../support/answers.js';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createApiToken } from '../../src/api/tokens.js';
import { openDatabase } from '../../src/db/database.js';
import { findFreePort, startService, type ServiceProcess } from '../../src/devstack/processes.js';
import { DEFAULT_DT_API_KEY, dtFinding, dtProject, startDependencyTrackFake, type DependencyTrackFake } from '../fakes/dependency-track.js';
import { dropTestDatabase } from '../support/database.js';
import { sampleValue, scrape } from '../support/prometheus.js';
import { testTemporalAddress, uniqueTaskQueue } from '../support/temporal.js';

const run = promisify(execFile);

/**
 * The production build as an operator runs it: `npm run build`, then `npm run start:migrate`,
 * `npm run start:worker` and `npm run start:api` — compiled JavaScript under plain node, the worker on the
 * prebuilt workflow bundle — against the test run's Temporal and PostgreSQL, through one real sync.
 */
const databaseName = `vulnsync_build_${randomBytes(6).toString('hex')}`;
let orm: MikroORM | undefined;
let worker: ServiceProcess | undefined;
let api: ServiceProcess | undefined;
let tool: DependencyTrackFake | undefined;
const workerLines: string[] = [];
const apiLines: string[] = [];
let env: NodeJS.ProcessEnv;
let apiUrl: string;
let healthUrl: string;
let sdkMetricsUrl: string;

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms\nworker:\n${workerLines.join('\n')}\napi:\n${apiLines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  await run('npm', ['run', '-s', 'build'], { cwd: process.cwd() });
  expect(existsSync('dist/workflow-bundle.js')).toBe(true);
  expect(existsSync('dist/ui/index.html')).toBe(true);

  const databaseUrl = new URL(process.env.VULNSYNC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  databaseUrl.pathname = `/${databaseName}`;
  const [apiPort, healthPort, metricsPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  apiUrl = `http://127.0.0.1:${apiPort}`;
  healthUrl = `http://127.0.0.1:${healthPort}`;
  sdkMetricsUrl = `http://127.0.0.1:${metricsPort}`;
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: databaseUrl.toString(),
    VULNSYNC_SECRET_KEY: randomBytes(32).toString('base64'),
    VULNSYNC_TASK_QUEUE: uniqueTaskQueue('build'),
    VULNSYNC_API_HOST: '127.0.0.1',
    VULNSYNC_API_PORT: String(apiPort),
    VULNSYNC_WORKER_HEALTH_ADDRESS: `127.0.0.1:${healthPort}`,
    VULNSYNC_WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
    TEMPORAL_ADDRESS: testTemporalAddress(),
    TEMPORAL_NAMESPACE: 'default',
    LOG_LEVEL: 'info',
  };
  const migrated = await run('npm', ['run', '-s', 'start:migrate'], { cwd: process.cwd(), env });
  // The compiled migrations were found and applied to the new database.
  expect(migrated.stdout).toMatch(/^applied Migration\d+/);
  orm = await openDatabase(databaseUrl.toString());

  worker = startService('worker', ['npm', 'run', '-s', 'start:worker'], { cwd: process.cwd(), env, onLine: (l) => workerLines.push(l) });
  api = startService('api', ['npm', 'run', '-s', 'start:api'], { cwd: process.cwd(), env, onLine: (l) => apiLines.push(l) });
  await waitFor('the API ready with a worker polling', async () => (await fetch(`${apiUrl}/readyz`)).status === 200);
  tool = await startDependencyTrackFake();
}, 150_000);

afterAll(async () => {
  await api?.stop();
  await worker?.stop();
  await tool?.close();
  await orm?.close(true);
  await dropTestDatabase(databaseName);
});

describe('the production build', () => {
  it('runs a sync through the compiled worker and API, logging pino JSON only and each outcome once', async () => {
    const project = dtProject({ name: 'compiled', version: '1' });
    tool!.state.projects.push(project);
    tool!.state.findings[project.uuid] = [
      dtFinding(project, { name: 'left-pad', version: '1' }, { vulnId: 'CVE-2024-10', severity: 'HIGH' }),
      dtFinding(project, { name: 'is-odd', version: '1' }, { vulnId: 'CVE-2024-11', severity: 'LOW' }),
    ];
    const { token } = await createApiToken(orm!.em.fork(), { name: 'build-test', scope: 'admin' });
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as AnswerBody };
    };
    const connector = await call('POST', '/api/v1/connectors', { tool: 'dependency_track', label: 'compiled', location: tool!.url, secret: DEFAULT_DT_API_KEY, autoMap: true });
    expect(connector.status).toBe(201);
    const started = await call('POST', `/api/v1/connectors/${connector.body.id}/sync`);
    expect(started.status).toBe(202);
    let op: OperationAnswer | undefined;
    await waitFor('the sync to finish', async () => {
      op = (await call('GET', `/api/v1/operations/${started.body.operationId}`)).body;
      return ['succeeded', 'failed', 'partial'].includes(op!.status);
    });
    expect({ status: op!.status, created: op!.summary?.created, closed: op!.summary?.closed }).toEqual({ status: 'succeeded', created: 2, closed: 0 });

    // One format: every line the worker wrote is a pino JSON object (no webpack report, no SDK multi-line text).
    const entries = workerLines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`the worker wrote a line that is not JSON: ${line}`);
      }
    });
    expect(entries.some((e) => e.msg === 'using the prebuilt workflow bundle')).toBe(true);
    expect(entries.every((e) => typeof e.level === 'number' && typeof e.msg === 'string')).toBe(true);
    const outcomes = entries.filter((e) => e.msg === 'sync succeeded');
    expect(outcomes).toEqual([
      expect.objectContaining({ operationId: started.body.operationId, workflowId: started.body.workflowId, runId: started.body.runId, status: 'succeeded' }),
    ]);
    const recordOutcomes = entries.filter((e) => e.msg === 'record sync succeeded');
    expect(recordOutcomes).toEqual([
      expect.objectContaining({ workflowId: expect.stringMatching(/^sync\//), runId: expect.any(String), fetched: 2, counts: expect.objectContaining({ created: 2 }) }),
    ]);

    const health = await fetch(`${healthUrl}/healthz`);
    expect({ status: health.status, body: await health.json() }).toEqual({ status: 200, body: { status: 'ok', worker: 'RUNNING' } });
    const workerMetrics = await scrape(`${healthUrl}/metrics`);
    expect(sampleValue(workerMetrics, 'vulnsync_findings_fetched_total', { tool: 'dependency_track' })).toBe(2);
    // The SDK's own exporter: Temporal's worker metrics (task slots, polls, latencies).
    const sdk = await fetch(`${sdkMetricsUrl}/metrics`);
    expect(sdk.status).toBe(200);
    expect(await sdk.text()).toMatch(/^temporal_\w+/m);
    // The compiled API serves the operator page from dist/ui/ (an image holds dist/, not src/).
    const page = await fetch(`${apiUrl}/ui/app.js`);
    expect({ status: page.status, type: page.headers.get('content-type') }).toEqual({ status: 200, type: expect.stringMatching(/javascript/) });
    const apiMetrics = await scrape(`${apiUrl}/metrics`);
    expect(sampleValue(apiMetrics, 'vulnsync_sync_findings_sum', { action: 'created' })).toBe(2);
  }, 60_000);

  it('loads the AWS SDK only when an AWS connector is used: the worker and the API start without it', async () => {
    // Importing the entry points runs no server (they start only as the process's main module).
    const loaded = async (entry: string) => {
      const script = `await import('./dist/${entry}'); const { createRequire } = await import('node:module');
        console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd() });
      return JSON.parse(stdout) as string[];
    };
    for (const entry of ['worker.js', 'server.js']) {
      const modules = await loaded(entry);
      expect(modules.some((m) => m.includes('node_modules/@aws-sdk/'))).toBe(false);
      // The cache does list CommonJS packages: the check above could see the SDK if it were loaded.
      expect(modules.some((m) => m.includes('node_modules/'))).toBe(true);
    }
  }, 60_000);
});
