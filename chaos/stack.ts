import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { createApiToken } from '../src/api/tokens.js';
import { findFreePort, startService, type ServiceProcess } from '../src/devstack/processes.js';
import { ensureTemporalCli } from '../src/devstack/temporal-cli.js';
import { DEV_SERVER_DYNAMIC_CONFIG, startTemporalDevServer, VULNSYNC_SEARCH_ATTRIBUTES, type TemporalDevServer } from '../src/devstack/temporal-server.js';
import { createTestDatabase, type TestDatabase } from '../test/support/database.js';

/** How the runner's own sessions name themselves, so scenarios can tell the worker's sessions apart. */
export const RUNNER_APPLICATION_NAME = 'vulnsync-chaos';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

const execFileAsync = promisify(execFile);

/** Output lines of one child process, the last few kept so a failed row can say what the process said. */
class OutputTail {
  readonly lines: string[] = [];
  private readonly listeners = new Set<(line: string) => void>();
  /** Every line also goes to this file, kept after the run for a failed row's diagnosis. */
  file: string | null = null;
  push(line: string): void {
    if (this.file) appendFileSync(this.file, `${line}\n`);
    this.lines.push(line);
    if (this.lines.length > 200) this.lines.shift();
    for (const listener of this.listeners) listener(line);
  }
  /** Resolves when a line matching `pattern` arrives; `check` may reject meanwhile (the process died). */
  async waitFor(pattern: RegExp, check: () => void, timeoutMs = 90_000): Promise<void> {
    let seen = false;
    const listener = (line: string) => (seen ||= pattern.test(line));
    this.listeners.add(listener);
    try {
      const deadline = Date.now() + timeoutMs;
      while (!seen) {
        check();
        if (Date.now() > deadline) throw new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${this.lines.slice(-20).join('\n')}`);
        await delay(100);
      }
    } finally {
      this.listeners.delete(listener);
    }
  }
}

export interface ChaosStackOptions {
  /** Use this Temporal server (e.g. the one `npm test` runs) instead of a file-backed one of our own, which only ours can restart. */
  temporalAddress?: string;
  /** Our own Temporal server keeps its state in memory instead of a SQLite file (a restart then loses it). */
  temporalInMemory?: boolean;
  /** Record syncs a connector sync runs at once (VULNSYNC_SYNC_CONCURRENCY of the API); null leaves it to the worker. */
  syncConcurrency?: number | null;
  /** Further environment for the worker and the API (e.g. a benchmark's tuning). */
  env?: NodeJS.ProcessEnv;
  /**
   * Run the worker and the API from the production build (`npm run build`, done by start(), then `start:worker`
   * and `start:api`) instead of the sources under tsx (`npm run worker`, `api`).
   */
  build?: boolean;
  /** Keep the worker's and the API's output after `stop()` (the suite names the directory; a Jest run removes it). */
  keepLogs?: boolean;
  log?: (line: string) => void;
}

/**
 * vulnsync as an operator runs it, in real processes: `npm run worker` and `npm run api` as children in
 * their own process groups (so SIGKILL is real), a Temporal dev server on a SQLite file (so it can be
 * restarted with its state), and a database and task queue of its own on the machine's PostgreSQL.
 */
export class ChaosStack {
  readonly env: NodeJS.ProcessEnv;
  readonly workerOutput = new OutputTail();
  readonly apiOutput = new OutputTail();
  worker: ServiceProcess | null = null;
  /** Workers started beside the first on the same task queue (`startExtraWorker`). */
  readonly extraWorkers: ServiceProcess[] = [];
  api: ServiceProcess | null = null;
  apiUrl = '';
  /** Where the worker's and the API's output go (kept after the run). */
  logDir = '';
  token = '';
  private temporalConnection: Connection | null = null;
  client!: Client;

  private constructor(
    readonly db: TestDatabase,
    readonly pool: pg.Pool,
    readonly cliPath: string,
    private temporal: TemporalDevServer | null,
    private readonly temporalDir: string | null,
    readonly temporalAddress: string,
    private readonly log: (line: string) => void,
    private readonly options: ChaosStackOptions,
  ) {
    this.env = {
      ...process.env,
      DATABASE_URL: db.url,
      VULNSYNC_SECRET_KEY: randomBytes(32).toString('base64'),
      VULNSYNC_TASK_QUEUE: `chaos-${randomUUID()}`,
      VULNSYNC_API_HOST: '127.0.0.1',
      ...(options.syncConcurrency === null ? {} : { VULNSYNC_SYNC_CONCURRENCY: String(options.syncConcurrency ?? 4) }),
      // A tool's hour-long Retry-After is waited on for this long at most, so the 429 row ends within its limit.
      VULNSYNC_MAX_TOOL_WAIT_SECONDS: '5',
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      LOG_LEVEL: 'info',
      // Workers of the suite (and of tests beside it) would otherwise contend for the fixed default ports.
      VULNSYNC_WORKER_HEALTH_ADDRESS: '127.0.0.1:0',
      VULNSYNC_WORKER_METRICS_ADDRESS: 'off',
      ...options.env,
    };
  }

  static async start(options: ChaosStackOptions = {}): Promise<ChaosStack> {
    const log = options.log ?? (() => undefined);
    if (options.build) {
      log('building (npm run build)');
      await execFileAsync('npm', ['run', '--silent', 'build'], { cwd: REPO_ROOT });
    }
    const cliPath = await ensureTemporalCli();
    let temporal: TemporalDevServer | null = null;
    let temporalDir: string | null = null;
    let address = options.temporalAddress;
    const logDir = await mkdtemp(join(tmpdir(), 'vulnsync-chaos-logs-'));
    if (!address) {
      temporalDir = await mkdtemp(join(tmpdir(), 'vulnsync-chaos-'));
      temporal = await startOwnTemporal(cliPath, options.temporalInMemory ? undefined : join(temporalDir, 'temporal.db'), 0);
      address = temporal.address;
    }
    const db = await createTestDatabase('vulnsync_chaos');
    const pool = new pg.Pool({ connectionString: db.url, max: 4, application_name: RUNNER_APPLICATION_NAME });
    // PostgreSQL restarts are part of the suite: a dropped idle connection must not crash the runner.
    pool.on('error', () => undefined);
    const stack = new ChaosStack(db, pool, cliPath, temporal, temporalDir, address, log, options);
    stack.logDir = logDir;
    stack.workerOutput.file = join(logDir, 'worker.log');
    stack.apiOutput.file = join(logDir, 'api.log');
    try {
      stack.token = (await createApiToken(db.orm.em.fork(), { name: 'chaos', scope: 'admin' })).token;
      // The runner reads the database through its own pool; the ORM would only hold connections a restart kills.
      await db.orm.close(true);
      await stack.connectClient();
      await stack.startWorker();
      await stack.startApi();
    } catch (error) {
      await stack.stop();
      throw error;
    }
    return stack;
  }

  private async connectClient(): Promise<void> {
    this.temporalConnection = await Connection.connect({ address: this.temporalAddress });
    this.client = new Client({ connection: this.temporalConnection, namespace: 'default' });
  }

  /** The npm script that runs a service: from the sources, or from the build. */
  private script(service: 'worker' | 'api'): string {
    return this.options.build ? `start:${service}` : service;
  }

  /** Starts `npm run worker` and resolves once it polls (its "worker started" line). */
  async startWorker(): Promise<void> {
    const started = this.workerOutput.waitFor(/worker started/, alive(() => this.worker, this.workerOutput));
    this.worker = startService('worker', ['npm', 'run', '--silent', this.script('worker')], { cwd: REPO_ROOT, env: this.env, onLine: (l) => this.workerOutput.push(l) });
    await started;
    this.log('worker started');
  }

  /** Starts one more `npm run worker` on the same task queue; resolves once it polls. */
  async startExtraWorker(): Promise<ServiceProcess> {
    const output = new OutputTail();
    let worker: ServiceProcess | null = null;
    const started = output.waitFor(/worker started/, alive(() => worker, output));
    worker = startService(`worker-${this.extraWorkers.length + 2}`, ['npm', 'run', '--silent', this.script('worker')], { cwd: REPO_ROOT, env: this.env, onLine: (l) => output.push(l) });
    this.extraWorkers.push(worker);
    await started;
    return worker;
  }

  /** SIGKILL to the worker's whole process group: no shutdown, no goodbye to Temporal or PostgreSQL. */
  async killWorker(): Promise<void> {
    const worker = this.worker;
    if (!worker?.child.pid) return;
    process.kill(-worker.child.pid, 'SIGKILL');
    await worker.exited;
    this.worker = null;
    this.log('worker killed');
  }

  async startApi(): Promise<void> {
    const port = await findFreePort();
    const started = this.apiOutput.waitFor(/API listening/, alive(() => this.api, this.apiOutput));
    this.api = startService('api', ['npm', 'run', '--silent', this.script('api')], {
      cwd: REPO_ROOT,
      env: { ...this.env, VULNSYNC_API_PORT: String(port) },
      onLine: (l) => this.apiOutput.push(l),
    });
    await started;
    this.apiUrl = `http://127.0.0.1:${port}`;
  }

  /** Stops the Temporal dev server and starts it again on the same file and port, as a host restart would. */
  async restartTemporal(): Promise<void> {
    if (!this.temporal || !this.temporalDir) throw new Error('this stack uses a Temporal server it does not own');
    const port = Number(this.temporalAddress.slice(this.temporalAddress.lastIndexOf(':') + 1));
    await this.temporal.stop();
    this.log('temporal stopped');
    this.temporal = await startOwnTemporal(this.cliPath, join(this.temporalDir, 'temporal.db'), port);
    this.log('temporal started');
  }

  /** Calls the API as an authenticated user; 5xx and refused connections (a restart in progress) are retried for a while. */
  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(`${this.apiUrl}${path}`, {
          method,
          headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        if (res.status < 500 || attempt >= 10) return { status: res.status, body: text ? JSON.parse(text) : undefined };
      } catch (error) {
        if (attempt >= 10) throw error;
      }
      await delay(1_000);
    }
  }

  /** A query on the chaos database that rides out a PostgreSQL restart. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.pool.query<R>(sql, params)).rows;
      } catch (error) {
        if (attempt >= 60) throw error;
        await delay(500);
      }
    }
  }

  /** The last lines the worker and the API wrote, for a failed row's diagnosis. */
  tail(lines = 15): string {
    return [...this.workerOutput.lines.slice(-lines).map((l) => `worker| ${l}`), ...this.apiOutput.lines.slice(-5).map((l) => `api| ${l}`)].join('\n');
  }

  async stop(): Promise<void> {
    await this.api?.stop().catch(() => undefined);
    await this.worker?.stop().catch(() => undefined);
    for (const worker of this.extraWorkers.splice(0)) await worker.stop().catch(() => undefined);
    await this.temporalConnection?.close().catch(() => undefined);
    await this.temporal?.stop().catch(() => undefined);
    if (this.temporalDir) await rm(this.temporalDir, { recursive: true, force: true });
    if (!this.options.keepLogs && this.logDir) await rm(this.logDir, { recursive: true, force: true });
    await this.pool.end().catch(() => undefined);
    await this.db.drop();
  }
}

function startOwnTemporal(cliPath: string, dbFilename: string | undefined, port: number): Promise<TemporalDevServer> {
  return startTemporalDevServer({
    cliPath,
    ip: '127.0.0.1',
    port,
    headless: true,
    dbFilename,
    searchAttributes: { ...VULNSYNC_SEARCH_ATTRIBUTES },
    logLevel: 'error',
    detached: true,
    dynamicConfig: DEV_SERVER_DYNAMIC_CONFIG,
  });
}

function alive(service: () => ServiceProcess | null, output: OutputTail): () => void {
  return () => {
    const proc = service();
    if (proc && (proc.child.exitCode !== null || proc.child.signalCode !== null)) {
      throw new Error(`${proc.name} exited before it was ready:\n${output.lines.slice(-20).join('\n')}`);
    }
  };
}
