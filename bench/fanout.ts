/**
 * `npm run bench:fanout` — a whole connector sync through Temporal against the same work done directly, side by
 * side in one run: a synthetic Dependency-Track with N projects × M findings (M = 100), the worker and the API as
 * real processes from the production build (`npm run build`, then `start:worker` and `start:api`, so the worker's RSS is the process's own), a Temporal dev server
 * in memory (BENCH_FANOUT_TEMPORAL=sqlite: on a SQLite file, as `npm run dev` runs it). For each N (BENCH_FANOUT_SIZES, default 100,1000,5000) it times a
 * first sync and an identical resync end to end (API request to final Operation), then the same discover, fetches
 * and applies called directly in this process with the same window (the "bare" figure); counts history events and
 * Temporal Cloud actions per record from the runs' histories; samples the worker's RSS. Then two workers share the
 * task queue for one sync (BENCH_FANOUT_TWO_WORKERS records, default 1000; 0 skips it): how the records split, and
 * that every record was fetched and applied exactly once. Writes its section of docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { pino } from 'pino';
import type { temporal } from '@temporalio/proto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type ListSyncableRecordsResult } from '../src/activities/index.js';
import { openDatabase, openPool } from '../src/db/database.js';
import { SecretBox } from '../src/db/secrets.js';
import { ChaosStack } from '../chaos/stack.js';
import type { Workload } from '../chaos/workload.js';
import { cpuMeter, processIds, procStat, type Classify } from './cpu-time.js';
import { writeSection } from './doc-sections.js';
import { FINDINGS, syntheticConnector } from './synthetic-tool.js';

const SIZES = (process.env.BENCH_FANOUT_SIZES ?? '100,1000,5000').split(',').map(Number);
const TWO_WORKERS = Number(process.env.BENCH_FANOUT_TWO_WORKERS ?? 1000);
/** BENCH_FANOUT_TEMPORAL=sqlite: the dev server on a SQLite file, as `npm run dev` runs it; default in memory. */
const PERSISTENT_TEMPORAL = process.env.BENCH_FANOUT_TEMPORAL === 'sqlite';
const FINAL = new Set(['succeeded', 'failed', 'partial']);

type IHistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Node processes of a worker's process group (npm runs the worker in a child) and their RSS, from /proc. */
function workerMemory(groupPid: number): { rssMb: number; peakMb: number } {
  let rss = 0;
  let peak = 0;
  for (const entry of processIds()) {
    if (procStat(`/proc/${entry}/stat`)?.pgrp !== groupPid) continue;
    try {
      if (!/(src\/worker\.ts|dist\/worker\.js)/.test(readFileSync(`/proc/${entry}/cmdline`, 'utf8'))) continue;
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      rss = Math.max(rss, Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
      peak = Math.max(peak, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
    } catch {
      // The process went away between listing and reading.
    }
  }
  return { rssMb: rss, peakMb: peak };
}

/** Samples the workers' RSS until stopped; answers the highest seen per worker (VmHWM, the kernel's own peak). */
function sampleMemory(stack: ChaosStack): () => number[] {
  const workers = [stack.worker!, ...stack.extraWorkers].map((w) => w.child.pid!);
  const peaks = workers.map(() => 0);
  const timer = setInterval(() => workers.forEach((pid, i) => (peaks[i] = Math.max(peaks[i]!, workerMemory(pid).peakMb))), 250);
  return () => {
    clearInterval(timer);
    workers.forEach((pid, i) => (peaks[i] = Math.max(peaks[i]!, workerMemory(pid).peakMb)));
    return peaks;
  };
}

async function waitForOperation(stack: ChaosStack, operationId: string): Promise<{ status: string; summary: Record<string, number> | null; error: unknown }> {
  for (;;) {
    const [op] = await stack.query<{ status: string; summary: Record<string, number> | null; error: unknown }>('select status, summary, error from operation where id = $1', [operationId]);
    if (op && FINAL.has(op.status)) return op;
    await delay(100);
  }
}

interface RunCost {
  executions: number;
  events: number;
  actions: number;
  /** Actions by kind, for the breakdown. */
  kinds: Record<string, number>;
  /** Which worker (identity) ran each record's fetch. */
  fetchesBy: Record<string, number>;
}

/**
 * Temporal Cloud actions of one history, counted as Cloud bills them (docs.temporal.io/cloud/actions): a workflow
 * start (client, child or continue-as-new), every activity attempt, timers, signals, search-attribute upserts,
 * and local activities once per workflow task that ran any. Activity heartbeats that reach the server are also
 * actions but leave no event; see docs/scaling.md for how many there are.
 */
function countActions(events: IHistoryEvent[], cost: RunCost): void {
  const add = (kind: string, n = 1) => {
    cost.kinds[kind] = (cost.kinds[kind] ?? 0) + n;
    cost.actions += n;
  };
  // Local activities are recorded as markers after the workflow task that ran them: one action per such task.
  let task: { id: string; identity: string } | null = null;
  const tasksWithLocalActivities = new Set<string>();
  for (const e of events) {
    if (e.workflowExecutionStartedEventAttributes) add('workflow started');
    else if (e.activityTaskScheduledEventAttributes) add(`activity ${e.activityTaskScheduledEventAttributes.activityType?.name}`);
    else if (e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 1) > 1) add('activity retry', (e.activityTaskStartedEventAttributes.attempt ?? 1) - 1);
    else if (e.timerStartedEventAttributes) add('timer');
    else if (e.workflowExecutionSignaledEventAttributes) add('signal');
    else if (e.upsertWorkflowSearchAttributesEventAttributes) {
      // The SDK's own upsert of TemporalChangeVersion (a `patched` workflow) is exempt from billing.
      const names = Object.keys(e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {});
      if (names.some((name) => name !== 'TemporalChangeVersion')) add('search attribute upsert');
    } else if (e.workflowTaskCompletedEventAttributes) {
      task = { id: String(e.eventId), identity: e.workflowTaskCompletedEventAttributes.identity ?? '?' };
    } else if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity' && task) {
      if (!tasksWithLocalActivities.has(task.id)) add('local activities (one per workflow task)');
      tasksWithLocalActivities.add(task.id);
      if (localActivityType(e) === 'fetchFindings') cost.fetchesBy[task.identity] = (cost.fetchesBy[task.identity] ?? 0) + 1;
    }
  }
  // The worker that ran each fetch as a regular activity: the identity on the started event of the fetchFindings activity.
  const fetchIds = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'fetchFindings').map((e) => String(e.eventId)));
  for (const e of events) {
    const started = e.activityTaskStartedEventAttributes;
    if (started && fetchIds.has(String(started.scheduledEventId))) cost.fetchesBy[started.identity ?? '?'] = (cost.fetchesBy[started.identity ?? '?'] ?? 0) + 1;
  }
}

/** The activity type a local activity's marker names (the SDK's marker data is JSON). */
function localActivityType(e: IHistoryEvent): string | undefined {
  const data = e.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
  if (!data) return undefined;
  try {
    return (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type;
  } catch {
    return undefined;
  }
}

/** History events and actions of every run of one connector sync (the parent's runs and every record's child). */
async function runCost(stack: ChaosStack, connectorId: string, since: Date, until: Date, records: number): Promise<RunCost> {
  const query = `ConnectorId = "${connectorId}" AND StartTime >= "${since.toISOString()}" AND StartTime <= "${until.toISOString()}"`;
  let executions: { workflowId: string; runId: string }[] = [];
  // Visibility lags the runs a little: wait until every record's child is listed.
  for (let attempt = 0; attempt < 60; attempt++) {
    executions = [];
    for await (const info of stack.client.workflow.list({ query })) executions.push({ workflowId: info.workflowId, runId: info.runId });
    if (executions.length > records) break;
    await delay(500);
  }
  const cost: RunCost = { executions: executions.length, events: 0, actions: 0, kinds: {}, fetchesBy: {} };
  const queue = [...executions];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let next = queue.pop(); next; next = queue.pop()) {
        const history = await stack.client.workflow.getHandle(next.workflowId, next.runId).fetchHistory();
        const events = history.events ?? [];
        cost.events += events.length;
        countActions(events, cost);
      }
    }),
  );
  return cost;
}

/** Runs `work` for every item, at most `window` at once (the connector sync's window, without Temporal). */
async function inWindow<T>(items: T[], window: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items].reverse();
  await Promise.all(Array.from({ length: window }, async () => {
    for (let next = queue.pop(); next !== undefined; next = queue.pop()) await work(next);
  }));
}

/**
 * The same sync without Temporal: discover, then for every mapped record (`window` at once) the activities the
 * record's run calls, as it calls them — the fetch that first checks the record and its Test, then the apply that
 * also notes the outcome — called directly.
 */
async function bareSync(stack: ChaosStack, connectorId: string, window: number): Promise<number> {
  const db = await openDatabase(stack.env.DATABASE_URL!, { poolSize: Math.max(window, 10) });
  const pool = openPool(stack.env.DATABASE_URL!, Math.min(window, 10));
  const activities = createActivities({ orm: db, pool, secrets: new SecretBox(stack.env.VULNSYNC_SECRET_KEY!), logger: pino({ level: 'silent' }) });
  const run = <A, R>(fn: (input: A) => Promise<R>, input: A): Promise<R> => new MockActivityEnvironment().run(fn, input);
  try {
    const started = performance.now();
    await run(activities.discoverRecords, { connectorId });
    const records: string[] = [];
    for (let afterId: string | null = null; ; ) {
      const page: ListSyncableRecordsResult = await run(activities.listSyncableRecords, { connectorId, afterId, limit: 100 });
      if (page.records.length === 0) break;
      for (const r of page.records) records.push(r.recordId);
      afterId = page.records.at(-1)!.recordId;
    }
    await inWindow(records, window, async (recordId) => {
      const fetchId = crypto.randomUUID();
      const fetched = await run(activities.fetchFindings, { fetchId, connectorId, recordId, operationId: null, prepare: true });
      await run(activities.applyReimport, { fetchId, connectorId, testId: fetched.prepared!.testId!, operationId: null, recordId, fetched: fetched.items });
    });
    return performance.now() - started;
  } finally {
    await pool.end();
    await db.close();
  }
}

interface TemporalRun {
  ms: number;
  window: number;
  summary: Record<string, number>;
  cost: RunCost;
  operationId: string;
}

async function temporalSync(stack: ChaosStack, workload: Workload, records: number): Promise<TemporalRun> {
  const since = new Date(Date.now() - 1000);
  const t0 = performance.now();
  const started = await workload.startSync();
  const op = await waitForOperation(stack, started.operationId);
  const ms = performance.now() - t0;
  if (op.status !== 'succeeded') throw new Error(`the sync ended ${op.status}: ${JSON.stringify(op.error)}`);
  const cost = await runCost(stack, workload.connectorId, since, new Date(), records);
  const summary = op.summary ?? {};
  return { ms, window: summary.window ?? Number(stack.env.VULNSYNC_SYNC_CONCURRENCY ?? 4), summary, cost, operationId: started.operationId };
}

/** Every record of the connector fetched once and applied once by the Operation: counts what ran more than once. */
async function ranTwice(stack: ChaosStack, workload: Workload, operationId: string): Promise<{ imports: number; fetches: number; twice: number; requestsTwice: number }> {
  const [row] = await stack.query<{ imports: number; fetches: number; twice: number }>(
    `select (select count(*) from finding_import i join tool_record r on r.id = i.record_id where r.connector_id = $1 and i.operation_id = $2)::int imports,
            (select count(*) from sync_fetch f join tool_record r on r.id = f.record_id where r.connector_id = $1 and f.operation_id = $2)::int fetches,
            (select count(*) from (select i.record_id from finding_import i join tool_record r on r.id = i.record_id
               where r.connector_id = $1 and i.operation_id = $2 group by i.record_id having count(*) > 1) twice)::int twice`,
    [workload.connectorId, operationId],
  );
  const requests = new Map<string, number>();
  for (const r of workload.tool.state.requests) if (r.path.startsWith('/api/v1/finding/')) requests.set(r.path, (requests.get(r.path) ?? 0) + 1);
  return { imports: row!.imports, fetches: row!.fetches, twice: row!.twice, requestsTwice: [...requests.values()].filter((n) => n > 1).length };
}

/** The processes of the stack by role: this process is the tools (and, for the bare runs, the work itself). */
function processRoles(stack: ChaosStack): Classify {
  const workers = new Set([stack.worker!, ...stack.extraWorkers].map((w) => w.child.pid!));
  const api = stack.api!.child.pid!;
  return ({ pid, pgrp, comm }) => {
    if (workers.has(pgrp)) return 'worker';
    if (pgrp === api) return 'api';
    if (pid === process.pid) return 'bench';
    if (comm === 'postgres') return 'postgres';
    if (comm === 'temporal') return 'temporal';
    return null;
  };
}

const ROLE_ORDER = ['temporal', 'worker', 'api', 'postgres', 'bench'];

/**
 * CPU milliseconds per record by process, e.g. "temporal 12.1, worker 20.3 (MainThread 11.0, …), …, all 60.2";
 * the worker's share split by thread (the SDK runs workflows in a thread of their own, V8 collects garbage in
 * helper threads, the Temporal core's gRPC runs on tokio threads).
 */
function cpuPerRecord(spent: Map<string, number>, records: number): string {
  const ms = (seconds: number) => ((seconds * 1000) / records).toFixed(1);
  const total = ROLE_ORDER.reduce((sum, role) => sum + (spent.get(role) ?? 0), 0);
  const threads = (role: string) => {
    const own = [...spent].filter(([name, seconds]) => name.startsWith(`${role}/`) && seconds * 1000 >= records * 0.5);
    own.sort((a, b) => b[1] - a[1]);
    return own.length > 0 ? ` (${own.map(([name, seconds]) => `${name.slice(role.length + 1)} ${ms(seconds)}`).join(', ')})` : '';
  };
  const parts = ROLE_ORDER.filter((role) => (spent.get(role) ?? 0) > 0.005).map((role) => `${role} ${ms(spent.get(role)!)}${threads(role)}`);
  return `${parts.join(', ')}; all ${ms(total)}`;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const perRecord = (n: number, records: number) => (n / records).toFixed(1);

async function main() {
  // In memory by default: a Temporal cluster's own database is nearer to that than a dev SQLite file's fsyncs.
  // The worker and the API as production runs them: compiled JavaScript (dist/), not the sources under tsx.
  const stack = await ChaosStack.start({ syncConcurrency: null, temporalInMemory: !PERSISTENT_TEMPORAL, build: true, log: (line) => console.log(`  ${line}`) });
  // Ctrl-C still stops the worker, the API, the Temporal server and drops the database.
  process.once('SIGINT', () => void stack.stop().finally(() => process.exit(130)));
  const rows: string[] = [];
  const breakdowns: string[] = [];
  /** CPU per record by process, one line per run. */
  const cpu: string[] = [];
  let twoWorkers = 'not run (BENCH_FANOUT_TWO_WORKERS=0)';
  const restartWorker = async () => {
    await stack.worker!.stop();
    stack.worker = null;
    await stack.startWorker();
  };
  try {
    for (const records of SIZES) {
      // A fresh worker per size, so its peak RSS is this size's.
      await restartWorker();
      await delay(2000);
      const idle = workerMemory(stack.worker!.child.pid!).rssMb;
      console.log(`N = ${records}: ${records} records × ${FINDINGS} findings`);
      const temporal = await syntheticConnector(stack, `fanout-${records}`, records);
      const bare = await syntheticConnector(stack, `bare-${records}`, records);
      const memory = sampleMemory(stack);
      const roles = processRoles(stack);
      /** Runs one side of the comparison, noting the CPU each process spent on it. */
      const measured = async <T>(label: string, run: () => Promise<T>): Promise<T> => {
        const meter = cpuMeter(roles, new Set(['worker']));
        const result = await run();
        cpu.push(`- N = ${records.toLocaleString('en')}, ${label}: ${cpuPerRecord(meter(), records)}`);
        console.log(`  CPU ms per record, ${label}: ${cpu.at(-1)!.split(': ')[1]}`);
        return result;
      };
      const first = await measured('first sync through Temporal', () => temporalSync(stack, temporal, records));
      const window = first.window;
      const bareFirst = await measured('first sync bare', () => bareSync(stack, bare.connectorId, window));
      console.log(`  first sync: temporal ${secs(first.ms)}, bare ${secs(bareFirst)} (window ${window})`);
      await stack.query('vacuum analyze finding');
      const again = await measured('identical resync through Temporal', () => temporalSync(stack, temporal, records));
      const bareAgain = await measured('identical resync bare', () => bareSync(stack, bare.connectorId, window));
      const [peak] = memory();
      console.log(`  identical resync: temporal ${secs(again.ms)}, bare ${secs(bareAgain)}; worker RSS ${idle.toFixed(0)} MB idle, peak ${peak!.toFixed(0)} MB`);
      for (const [name, run, bareMs] of [['first sync', first, bareFirst], ['identical resync', again, bareAgain]] as const) {
        const c = run.summary;
        rows.push(
          `| ${records.toLocaleString('en')} | ${name} | ${window} | **${secs(run.ms)}** | ${(records / (run.ms / 1000)).toFixed(0)} | ${secs(bareMs)} | ${(run.ms / bareMs).toFixed(2)}× | ` +
            `${perRecord(run.cost.actions, records)} | ${perRecord(run.cost.events, records)} | ${idle.toFixed(0)} → ${peak!.toFixed(0)} MB | ${c.created ?? 0}/${c.closed ?? 0}/${c.untouched ?? 0} |`,
        );
      }
      breakdowns.push(
        `- N = ${records.toLocaleString('en')}, first sync: ${first.cost.executions} executions; ` +
          Object.entries(first.cost.kinds).sort().map(([k, n]) => `${k} ${perRecord(n, records)}`).join(', '),
      );
      console.log(breakdowns.at(-1));
      await temporal.close();
      await bare.close();
    }

    if (TWO_WORKERS > 0) {
      await restartWorker();
      await stack.startExtraWorker();
      const workload = await syntheticConnector(stack, 'two-workers', TWO_WORKERS);
      const memory = sampleMemory(stack);
      const run = await temporalSync(stack, workload, TWO_WORKERS);
      const peaks = memory();
      const once = await ranTwice(stack, workload, run.operationId);
      const split = Object.values(run.cost.fetchesBy).sort((a, b) => b - a);
      twoWorkers =
        `${TWO_WORKERS.toLocaleString('en')} records, window ${run.window}: **${secs(run.ms)}** (${(TWO_WORKERS / (run.ms / 1000)).toFixed(0)} records/s); ` +
        `fetches per worker ${split.join(' / ')}; imports ${once.imports} and fetches ${once.fetches} for ${TWO_WORKERS} records, ` +
        `records applied more than once: ${once.twice}, projects the tool was asked for twice: ${once.requestsTwice}; ` +
        `peak RSS per worker ${peaks.map((p) => `${p.toFixed(0)} MB`).join(' / ')}.`;
      console.log(`two workers: ${twoWorkers}`);
      if (once.twice > 0 || once.imports !== TWO_WORKERS || once.fetches !== TWO_WORKERS) throw new Error(`two workers: something ran twice or not at all: ${JSON.stringify(once)}`);
      await workload.close();
    }
  } finally {
    await stack.stop();
  }

  const pgVersion = execFileSync('psql', ['-At', 'postgres://postgres@127.0.0.1:5432/postgres', '-c', 'show server_version'], { encoding: 'utf8' }).trim();
  const cores = cpus();
  writeSection(
    'fanout',
    `## Connector sync at scale (fan-out)

Produced by \`npm run bench:fanout\` (bench/fanout.ts) on ${new Date().toISOString().slice(0, 10)}. Machine: ${cores.length} × ${cores[0]?.model ?? 'unknown CPU'},
${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node.js ${process.version}, PostgreSQL ${pgVersion} (local), Temporal dev server ${PERSISTENT_TEMPORAL ? 'on a SQLite file' : 'in memory'}.

A synthetic Dependency-Track (the test fake, findings made on request) with N projects of ${FINDINGS} findings each; one
connector with auto-map. *Temporal* is \`POST /connectors/:id/sync\` to the Operation's final status, worker and API
as real processes from the production build (\`npm run start:worker\`, \`npm run start:api\`); *bare* is the same
discover and the same activities a record's run calls (the fetch that checks the record and its Test first, the
apply that notes the outcome) called directly in one process, the same number of records at once (the window)
against a second connector on its own copy of the tool. Actions are counted from every run's history as
Temporal Cloud bills them (workflow starts incl. children and continue-as-new, activity attempts, timers, signals,
search-attribute upserts, local activities once per workflow task); heartbeats are not in histories (docs/scaling.md).
Counts are created/closed/untouched.

| records | run | window | time | records/s | bare | ÷ bare | actions/record | events/record | worker RSS idle → peak | counts |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|
${rows.join('\n')}

Actions per record by kind:
${breakdowns.join('\n')}

CPU time per record by process (milliseconds, from /proc; *bench* is the synthetic tool, and in the bare runs also
the work itself; *all* is the machine's cost of a record):
${cpu.join('\n')}

**Two workers on one task queue:** ${twoWorkers}
`,
  );
  console.log('wrote the fanout section of docs/benchmarks.md');
}

await main();
