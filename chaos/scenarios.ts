import { execFile } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { MALFORMED_JSON } from '../test/fakes/fake-server.js';
import { restartPostgres } from './postgres.js';
import { RUNNER_APPLICATION_NAME, type ChaosStack } from './stack.js';
import { Workload, type Measurement, type OperationRow } from './workload.js';

const execFileAsync = promisify(execFile);

export interface ScenarioResult {
  scenario: string;
  passed: boolean;
  measurement: Measurement | null;
  /** From the fault to the Operation's final status; null when it never got there. */
  recoverMs: number | null;
  /** What went wrong (a failed row) and what happened (facts worth a line). */
  problems: string[];
  notes: string[];
}

export interface Scenario {
  name: string;
  /** Kills or restarts something every scenario shares (worker, PostgreSQL, Temporal): runs alone. */
  exclusive: boolean;
  run(stack: ChaosStack): Promise<ScenarioResult>;
}

/** How long a scenario may take to end after its fault before its row fails as "never recovered". */
const RECOVERY_LIMIT_MS = 4 * 60_000;
/** 30 s to resume after a worker is back, and 15 s for what is left of the sync itself. */
const WORKER_BACK_BUDGET_MS = 45_000;

interface Expectation {
  status: 'succeeded' | 'partial' | 'failed';
  /** For `partial`/`failed` connector syncs: the error type the failed record must carry. */
  recordError?: string;
  /** For a failed single-record Operation: its error type. */
  error?: string;
}

/** Builds a row from the end state: the Operation against what it should say, the findings against the tool. */
class Row {
  readonly problems: string[] = [];
  readonly notes: string[] = [];
  measurement: Measurement | null = null;
  recoverMs: number | null = null;

  constructor(readonly scenario: string) {}

  checkOperation(op: OperationRow | null, expected: Expectation, since: number, what = 'the Operation', limitMs = RECOVERY_LIMIT_MS): void {
    if (!op) {
      this.problems.push(`${what} was not final ${Math.round(limitMs / 1000)} s after the fault`);
      return;
    }
    this.recoverMs = Math.max(this.recoverMs ?? 0, Date.now() - since);
    if (op.status !== expected.status) this.problems.push(`${what} says ${op.status}${op.error ? ` (${op.error.type}: ${op.error.message})` : ''}, expected ${expected.status}`);
    if (expected.error && op.error?.type !== expected.error) this.problems.push(`${what}'s error is ${op.error?.type ?? 'none'}, expected ${expected.error}`);
    if (expected.recordError) {
      const types = (op.error?.records ?? []).map((r) => r.type);
      if (!types.includes(expected.recordError)) this.problems.push(`${what} names record errors [${types.join(', ')}], expected ${expected.recordError}`);
    }
  }

  /** The issue's promise: a dead worker's work resumes within 30 s of a worker being back (plus the little work left here). */
  checkResumed(op: OperationRow | null, workerBackAt: number): void {
    const ms = Date.now() - workerBackAt;
    if (op && ms > WORKER_BACK_BUDGET_MS) {
      this.problems.push(`finished ${Math.round(ms / 1000)} s after a new worker was up; a dead worker's work must resume within 30 s`);
    }
  }

  async checkFindings(w: Workload): Promise<void> {
    const m = await w.measure();
    this.measurement = m;
    if (m.lost) this.problems.push(`${m.lost} findings the tool reports have no active finding`);
    if (m.extra) this.problems.push(`${m.extra} active findings the tool does not report`);
    if (m.duplicates) this.problems.push(`${m.duplicates} duplicated findings`);
    if (m.wronglyClosed) this.problems.push(`${m.wronglyClosed} findings closed that the tool still reports`);
    const [staged] = await w.stack.query<{ n: string }>(
      `select count(*) n from staged_finding s join sync_fetch f on f.id = s.fetch_id join tool_record r on r.id = f.record_id
       where r.connector_id = $1 and f.status = 'applied'`,
      [w.connectorId],
    );
    if (Number(staged?.n ?? 0) > 0) this.problems.push(`${staged!.n} staged rows of applied fetches left behind`);
  }

  result(): ScenarioResult {
    return { scenario: this.scenario, passed: this.problems.length === 0, measurement: this.measurement, recoverMs: this.recoverMs, problems: this.problems, notes: this.notes };
  }
}

/** Runs a scenario's body on a fresh workload and always closes the tool and ends the runs it left behind. */
async function withWorkload(
  stack: ChaosStack,
  name: string,
  label: string,
  shape: { projects: number; findings: number | number[] },
  body: (w: Workload, row: Row) => Promise<void>,
): Promise<ScenarioResult> {
  const row = new Row(name);
  const w = await Workload.create(stack, `chaos-${label}`, shape);
  try {
    await body(w, row);
  } catch (error) {
    row.problems.push((error as Error).message);
  } finally {
    if (row.problems.length > 0) console.error(`  ${name}: where its runs stood\n${await diagnose(stack, w)}`);
    await endRuns(stack, w);
    await w.close();
  }
  return row.result();
}

/** Where a failed row's runs stand: each record sync's pending activities, and the chaos database's sessions. */
async function diagnose(stack: ChaosStack, w: Workload): Promise<string> {
  const lines: string[] = [];
  try {
    const records = await stack.query<{ id: string; name: string }>('select id, name from tool_record where connector_id = $1', [w.connectorId]);
    const running = (await w.operations()).filter((op) => op.status === 'pending' || op.status === 'running');
    const runs = [...running.map((op) => ({ name: `operation ${op.id}`, workflowId: op.workflow_id })), ...records.map((r) => ({ name: r.name, workflowId: `sync/${w.connectorId}/${r.id}` }))];
    for (const r of runs) {
      const d = await stack.client.workflow
        .getHandle(r.workflowId)
        .describe()
        .catch(() => null);
      if (!d) continue;
      const pending = (d.raw.pendingActivities ?? []).map(
        (a) => `${a.activityType?.name} state=${a.state} attempt=${a.attempt} lastFailure=${a.lastFailure?.message ?? '-'} worker=${a.lastWorkerIdentity}`,
      );
      lines.push(`    ${r.name}: ${d.status.name}${pending.length ? ` — ${pending.join('; ')}` : ''}`);
    }
    const sessions = await stack.query<{ state: string; n: string; waiting: string }>(
      `select coalesce(state, '?') state, count(*) n, count(*) filter (where wait_event_type = 'Lock') waiting from pg_stat_activity where datname = current_database() group by 1`,
    );
    lines.push(`    PostgreSQL sessions: ${sessions.map((x) => `${x.n} ${x.state} (${x.waiting} waiting on a lock)`).join(', ')}`);
  } catch (error) {
    lines.push(`    (could not describe: ${(error as Error).message})`);
  }
  return lines.join('\n');
}

/** Terminates what a failed row left running, so it cannot disturb the next scenario. */
async function endRuns(stack: ChaosStack, w: Workload): Promise<void> {
  for (const op of await w.operations()) {
    if (op.status === 'pending' || op.status === 'running') {
      await stack.client.workflow
        .getHandle(op.workflow_id)
        .terminate('chaos scenario over')
        .catch(() => undefined);
    }
  }
}

/** A fault the tool answers the first project's findings with: the record fails (or retries and succeeds); nothing else changes. */
function toolFault(
  name: string,
  label: string,
  respond: Parameters<Workload['inject']>[1],
  expectation: Expectation,
  options: { times?: number; transient?: boolean; limitMs?: number } = {},
): Scenario {
  return {
    name,
    exclusive: false,
    run: (stack) =>
      withWorkload(stack, name, label, { projects: 3, findings: 20 }, async (w, row) => {
        await w.baseline();
        // A transient fault must end in the tool's new state; a lasting one must leave the last good state.
        if (options.transient) w.churn(0);
        const before = new Date();
        const seen = w.requests(0);
        w.inject(0, respond, options.times ?? 1);
        const t0 = Date.now();
        const started = await w.startSync();
        const limitMs = options.limitMs ?? RECOVERY_LIMIT_MS;
        const op = await w.waitForOperation({ id: started.operationId }, limitMs);
        row.checkOperation(op, expectation, t0, 'the Operation', limitMs);
        if (!options.transient && (await w.importsSince(0, before)) > 0) row.problems.push('the failed record was imported anyway');
        row.notes.push(`requests for the faulted record: ${w.requests(0) - seen}`);
        await row.checkFindings(w);
      }),
  };
}

const SUCCEEDED: Expectation = { status: 'succeeded' };

/** Tool misbehaviour: each runs on a connector of its own and may run beside the others. */
export const toolScenarios: Scenario[] = [
  toolFault('tool answers 401', '401', { status: 401, rawBody: '' }, { status: 'partial', recordError: 'AUTH_REJECTED' }),
  toolFault('tool answers 403', '403', { status: 403, rawBody: '' }, { status: 'partial', recordError: 'AUTH_REJECTED' }),
  toolFault(
    'tool answers 404',
    '404',
    { status: 404, headers: { 'Content-Type': 'text/plain' }, rawBody: 'The project could not be found.' },
    { status: 'partial', recordError: 'RECORD_MISSING' },
  ),
  // Waits the tool asks for are to be capped; until then a one-hour Retry-After holds the run past any limit.
  toolFault('tool answers 429, Retry-After 1 h', '429', { status: 429, headers: { 'Retry-After': '3600' }, body: '' }, SUCCEEDED, { transient: true, limitMs: 120_000 }),
  toolFault('tool answers 503 ×4, then 200', '5xx', { status: 503, body: { message: 'maintenance' } }, SUCCEEDED, { times: 4, transient: true }),
  toolFault('tool times out once (125 s)', 'timeout', { delayMs: 125_000 }, SUCCEEDED, { transient: true }),
  toolFault('truncated body', 'truncated', { cutAfterBytes: 3_000 }, SUCCEEDED, { transient: true }),
  toolFault('garbage body (invalid JSON)', 'garbage', MALFORMED_JSON, { status: 'partial', recordError: 'BAD_TOOL_DATA' }),
];

/**
 * A fault while the tool is slow to answer a record's findings (the fetch is under way), after a clean sync
 * and a change at the tool. `fault` may return when a new worker was up, to hold the 30 s resume promise.
 */
function midFetch(name: string, label: string, fault: (stack: ChaosStack) => Promise<number | void>): Scenario {
  return {
    name,
    exclusive: true,
    run: (stack) =>
      withWorkload(stack, name, label, { projects: 3, findings: 30 }, async (w, row) => {
        await w.baseline();
        w.churn(0);
        w.churn(2);
        w.inject(0, { delayMs: 5_000 });
        const seen = w.requests(0);
        const started = await w.startSync();
        await w.requested(0, seen + 1);
        const t0 = Date.now();
        const workerBackAt = await fault(stack);
        const op = await w.waitForOperation({ id: started.operationId }, RECOVERY_LIMIT_MS);
        row.checkOperation(op, SUCCEEDED, t0);
        if (workerBackAt) row.checkResumed(op, workerBackAt);
        await row.checkFindings(w);
      }),
  };
}

/** SIGKILL, then a new worker: what a crashed host or an OOM kill leaves. */
async function replaceWorker(stack: ChaosStack): Promise<number> {
  await stack.killWorker();
  await stack.startWorker();
  return Date.now();
}

export const workerKillMidFetch = midFetch('worker SIGKILL mid-fetch', 'kill-fetch', replaceWorker);

/** Waits until a record's fetch is staged completely (`fetched`), i.e. its apply is starting. */
async function whenFetched(w: Workload, project: number, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // The sync's discovery creates the record first, so it is looked up by the tool's id on every poll.
    const rows = await w.stack.query<{ id: string }>(
      `select f.id from sync_fetch f join tool_record r on r.id = f.record_id where r.connector_id = $1 and r.external_id = $2 and f.status = 'fetched'`,
      [w.connectorId, w.projects[project]!.uuid],
    );
    if (rows[0]) return rows[0].id;
    if (Date.now() > deadline) throw new Error(`the record's fetch was not fetched within ${timeoutMs} ms`);
    await delay(10);
  }
}

/** Waits until a transaction of the worker has been open a moment: after the big fetch is staged, only its apply's is. */
async function whenApplying(w: Workload, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const rows = await w.stack.query(
      `select 1 from pg_stat_activity where datname = current_database() and application_name <> $1
       and state in ('active', 'idle in transaction') and now() - xact_start > interval '100 milliseconds'`,
      [RUNNER_APPLICATION_NAME],
    );
    if (rows.length > 0) return true;
    await delay(10);
  }
  return false;
}

async function importedFetch(w: Workload, fetchId: string): Promise<boolean> {
  return (await w.stack.query('select 1 from finding_import where fetch_id = $1', [fetchId])).length > 0;
}

/** A large first import (20,000 findings) whose apply is interrupted by `fault`. */
function midApply(
  name: string,
  label: string,
  fault: (stack: ChaosStack) => Promise<number | void>,
  after?: (w: Workload, row: Row) => Promise<void>,
): Scenario {
  return {
    name,
    exclusive: true,
    run: (stack) =>
      withWorkload(stack, name, label, { projects: 2, findings: [20_000, 10] }, async (w, row) => {
        const started = await w.startSync();
        const fetchId = await whenFetched(w, 0);
        if (!(await whenApplying(w))) row.notes.push('no apply transaction seen before the fault');
        const t0 = Date.now();
        const workerBackAt = await fault(stack);
        if (await importedFetch(w, fetchId)) row.problems.push('the apply had committed before the fault: the scenario did not hit mid-apply');
        const op = await w.waitForOperation({ id: started.operationId }, RECOVERY_LIMIT_MS);
        row.checkOperation(op, SUCCEEDED, t0);
        if (workerBackAt) row.checkResumed(op, workerBackAt);
        await after?.(w, row);
        await row.checkFindings(w);
      }),
  };
}

export const workerKillMidApply = midApply('worker SIGKILL mid-apply (20k findings)', 'kill-apply', replaceWorker);

export const postgresRestartMidFetch = midFetch('PostgreSQL restart mid-fetch', 'pg-fetch', () => restartPostgres('restart'));

export const postgresRestartMidApply = midApply('PostgreSQL restart mid-apply (20k findings)', 'pg-apply', () => restartPostgres('restart'));

export const postgresCrashMidApply = midApply(
  'PostgreSQL crash mid-apply: staging emptied',
  'pg-crash',
  () => restartPostgres('crash'),
  async (w, row) => {
    const fetches = w.requests(0);
    row.notes.push(fetches > 1 ? `staging lost, fetched again (${fetches} fetches)` : 'applied from the first fetch');
  },
);

export const temporalRestartMidSync = midFetch('Temporal dev server restart mid-sync', 'temporal', (stack) => stack.restartTemporal());

/** The daily schedule fires and a person asks for a sync in the same moment: one runs, the other joins or skips. */
export const manualAndScheduled: Scenario = {
  name: 'manual and scheduled sync at once',
  exclusive: false,
  run: (stack) =>
    withWorkload(stack, 'manual and scheduled sync at once', 'both', { projects: 3, findings: 20 }, async (w, row) => {
      await w.baseline();
      w.churn(0);
      w.churn(1);
      for (let p = 0; p < 3; p++) w.inject(p, { delayMs: 2_000 });
      const since = new Date();
      const t0 = Date.now();
      const schedule = stack.client.schedule.getHandle(`connector-${w.connectorId}-sync`);
      const [, manual] = await Promise.all([schedule.trigger(), w.startSync()]);
      const manualOp = await w.waitForOperation({ id: manual.operationId }, RECOVERY_LIMIT_MS);
      row.checkOperation(manualOp, SUCCEEDED, t0, manual.attached ? 'the scheduled Operation the manual request attached to' : 'the manual Operation');
      // One sync per connector: the schedule's run either did it (and the manual request attached) or
      // deferred to the manual sync and ended `skipped` without an Operation of its own.
      const scheduledRuns = [];
      for await (const run of stack.client.workflow.list({ query: `WorkflowType = 'connectorSync' AND ConnectorId = '${w.connectorId}'` })) {
        if (run.startTime >= since && !run.workflowId.includes('/manual-')) scheduledRuns.push(run);
      }
      const results = await Promise.all(scheduledRuns.map((r) => stack.client.workflow.getHandle(r.workflowId, r.runId).result() as Promise<{ status: string }>));
      const syncOps = (await w.operations()).filter((op) => op.created_at >= since && op.workflow_id.startsWith('connector-sync/'));
      if (manual.attached) row.notes.push('the manual request attached to the scheduled run');
      else if (results.length === 1 && results[0]!.status === 'skipped') row.notes.push('the scheduled run deferred to the manual sync (skipped)');
      else row.problems.push(`two syncs of one connector: the scheduled runs ended ${JSON.stringify(results.map((r) => r.status))}`);
      if (syncOps.length !== 1) row.problems.push(`${syncOps.length} connector sync Operations, where one sync ran`);
      for (let p = 0; p < 3; p++) {
        const imports = await w.importsSince(p, since);
        if (imports !== 1) row.problems.push(`record ${p} was imported ${imports} times`);
      }
      await row.checkFindings(w);
    }),
};

async function temporalReset(stack: ChaosStack, workflowId: string, runId: string): Promise<void> {
  await execFileAsync(stack.cliPath, [
    'workflow',
    'reset',
    '--workflow-id',
    workflowId,
    '--run-id',
    runId,
    '--type',
    'FirstWorkflowTask',
    '--reason',
    'chaos',
    '--address',
    stack.temporalAddress,
    '--namespace',
    'default',
    '--disable-config-env',
    '--disable-config-file',
  ]);
}

/** The run a reset started: the workflow's latest run, once it is not the old one. */
async function runAfterReset(stack: ChaosStack, workflowId: string, oldRunId: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const d = await stack.client.workflow.getHandle(workflowId).describe();
    if (d.runId !== oldRunId) return d.runId;
    await delay(100);
  }
  throw new Error(`no new run of ${workflowId} after the reset`);
}

export const resetFinishedRun: Scenario = {
  name: 'temporal workflow reset of a finished run',
  exclusive: false,
  run: (stack) =>
    withWorkload(stack, 'temporal workflow reset of a finished run', 'reset-ok', { projects: 3, findings: 20 }, async (w, row) => {
      const first = await w.baseline();
      w.churn(1);
      const t0 = Date.now();
      await temporalReset(stack, first.workflow_id, first.run_id!);
      const runId = await runAfterReset(stack, first.workflow_id, first.run_id!);
      const rerun = await w.waitForOperation({ workflowId: first.workflow_id, runId }, RECOVERY_LIMIT_MS);
      row.checkOperation(rerun, SUCCEEDED, t0, "the reset run's Operation");
      const [original] = await stack.query<OperationRow>('select * from operation where id = $1', [first.id]);
      if (original?.status !== 'succeeded' || JSON.stringify(original.summary) !== JSON.stringify(first.summary)) {
        row.problems.push('the finished run\'s Operation changed after the reset');
      }
      if (rerun && rerun.id === first.id) row.problems.push('the reset run reused the finished run\'s Operation');
      if (rerun?.summary) row.notes.push(`re-run: ${rerun.summary.created} created, ${rerun.summary.closed} closed, ${rerun.summary.untouched} untouched`);
      await row.checkFindings(w);
    }),
};

export const resetFailedRun: Scenario = {
  name: 'temporal workflow reset of a failed run',
  exclusive: false,
  run: (stack) =>
    withWorkload(stack, 'temporal workflow reset of a failed run', 'reset-failed', { projects: 2, findings: 20 }, async (w, row) => {
      await w.baseline();
      w.inject(0, { status: 401, rawBody: '' });
      const started = await w.startRecordSync(0);
      const failed = await w.waitForOperation({ id: started.operationId }, 60_000);
      if (failed?.status !== 'failed') throw new Error(`the record sync meant to fail ended ${failed?.status ?? 'not at all'}`);
      w.churn(0);
      const t0 = Date.now();
      await temporalReset(stack, started.workflowId, started.runId);
      const runId = await runAfterReset(stack, started.workflowId, started.runId);
      row.checkOperation(await w.waitForOperation({ workflowId: started.workflowId, runId }, RECOVERY_LIMIT_MS), SUCCEEDED, t0, "the reset run's Operation");
      const [original] = await stack.query<OperationRow>('select * from operation where id = $1', [started.operationId]);
      if (original?.status !== 'failed') row.problems.push(`the failed run's Operation now says ${original?.status}`);
      await row.checkFindings(w);
    }),
};

/** 2,000 records: the connector sync continues as new every 500 records and still accounts for each. */
export const continueAsNew: Scenario = {
  name: '2,000 records, continue-as-new',
  exclusive: true,
  run: (stack) =>
    withWorkload(stack, '2,000 records, continue-as-new', 'many', { projects: 2_000, findings: 3 }, async (w, row) => {
      const t0 = Date.now();
      const started = await w.startSync();
      const op = await w.waitForOperation({ id: started.operationId }, 20 * 60_000);
      row.checkOperation(op, SUCCEEDED, t0);
      const s = op?.summary ?? {};
      if (op && (s.records !== 2_000 || s.recordsSucceeded !== 2_000 || s.created !== 6_000)) {
        row.problems.push(`the Operation counts ${s.records} records, ${s.recordsSucceeded} succeeded, ${s.created} created; expected 2000, 2000, 6000`);
      }
      const firstRun = await stack.client.workflow.getHandle(started.workflowId, started.runId).describe();
      if (firstRun.status.name !== 'CONTINUED_AS_NEW') row.problems.push(`the first run ended ${firstRun.status.name}, not continued as new`);
      row.notes.push(`took ${Math.round((Date.now() - t0) / 1000)} s`);
      await row.checkFindings(w);
    }),
};

export const allScenarios: Scenario[] = [
  ...toolScenarios,
  manualAndScheduled,
  resetFinishedRun,
  resetFailedRun,
  workerKillMidFetch,
  workerKillMidApply,
  postgresRestartMidFetch,
  postgresRestartMidApply,
  postgresCrashMidApply,
  temporalRestartMidSync,
  continueAsNew,
];
