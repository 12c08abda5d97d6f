import { ScheduleNotFoundError } from '@temporalio/client';
import { startWorker } from '../../src/worker.js';
import { connectorScheduleId } from '../../src/workflow-ids.js';
import { DEFAULT_DT_API_KEY, dtFinding, dtProject, startDependencyTrackFake, type DependencyTrackFake } from '../fakes/dependency-track.js';
import { startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
let tool: DependencyTrackFake;

beforeAll(async () => {
  stack = await startTestStack();
  tool = await startDependencyTrackFake();
});
afterAll(async () => {
  await tool?.close();
  await stack?.stop();
});

const afterThis: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of afterThis.splice(0)) await close();
});

async function createConnector(label: string, on: DependencyTrackFake = tool): Promise<string> {
  const res = await stack.call('POST', '/api/v1/connectors', { tool: 'dependency_track', label, location: on.url, secret: DEFAULT_DT_API_KEY, autoMap: true });
  expect(res.status).toBe(201);
  return res.body.id;
}

describe('connectorSync', () => {
  it('continues as new in bounded batches and still syncs every record exactly once', async () => {
    for (let i = 0; i < 7; i++) {
      const project = dtProject({ name: `service-${i}`, version: '2.0' });
      tool.state.projects.push(project);
      tool.state.findings[project.uuid] = [
        dtFinding(project, { name: 'lodash', version: '4.17.15' }, { vulnId: `CVE-2021-${1000 + i}`, severity: 'HIGH' }),
        dtFinding(project, { name: 'axios', version: '0.21.0' }, { vulnId: `CVE-2020-${2000 + i}`, severity: 'MEDIUM' }),
      ];
    }
    const connectorId = await createConnector('batches');
    const handle = await stack.temporal.client.workflow.start('connectorSync', {
      taskQueue: stack.env.VULNSYNC_TASK_QUEUE!,
      workflowId: `connector-sync/${connectorId}/batched`,
      args: [{ connectorId, trigger: 'manual', concurrency: 2, recordsPerRun: 3 }],
    });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'succeeded', summary: { records: 7, recordsSucceeded: 7, created: 14 } });

    const first = await stack.temporal.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
    const runs = [];
    for await (const run of stack.temporal.client.workflow.list({ query: `WorkflowId = "${handle.workflowId}"` })) runs.push(run.runId);
    expect(runs.length).toBe(3);

    const op = await stack.waitForOperation(result.operationId);
    expect(op).toMatchObject({ status: 'succeeded', trigger: 'manual', summary: { records: 7, created: 14 } });

    // Each record's run is summarised in the Temporal UI by the names people know, not by ids.
    const [record] = (await stack.call('GET', `/api/v1/records?connectorId=${connectorId}&limit=1`)).body.items;
    const child = await stack.temporal.client.workflow.getHandle(`sync/${connectorId}/${record.id}`).describe();
    expect(await child.staticSummary()).toBe(`Sync Dependency-Track record "${record.name}" into product "${record.productName}" (connector "batches", manual)`);

    // So are the runs the API starts: a connector sync, a record sync and a discovery.
    const summaryOf = async (path: string) => {
      const started = await stack.call('POST', path);
      expect(started.status).toBe(202);
      await stack.waitForOperation(started.body.operationId);
      return stack.temporal.client.workflow.getHandle(started.body.workflowId, started.body.runId).describe().then((d) => d.staticSummary());
    };
    expect(await summaryOf(`/api/v1/connectors/${connectorId}/sync`)).toBe('Manual sync of Dependency-Track connector "batches"');
    expect(await summaryOf(`/api/v1/records/${record.id}/sync`)).toBe(
      `Manual sync of Dependency-Track record "${record.name}" into product "${record.productName}" (connector "batches")`,
    );
    expect(await summaryOf(`/api/v1/connectors/${connectorId}/discover`)).toBe('Discover the projects of Dependency-Track connector "batches"');
  });

  it('one sync per connector: a scheduled run and a manual request at the same moment make one sync, the other defers', async () => {
    // A tool of its own, so the connector has exactly this one project.
    const own = await startDependencyTrackFake();
    afterThis.push(() => own.close());
    const project = dtProject({ name: 'at-once', version: '1' });
    own.state.projects.push(project);
    own.state.findings[project.uuid] = [dtFinding(project, { name: 'minimist', version: '1.2.0' }, { vulnId: 'CVE-2021-44906', severity: 'CRITICAL' })];
    const connectorId = await createConnector('at-once', own);
    const schedule = stack.temporal.client.schedule.getHandle(connectorScheduleId(connectorId));
    const [, manual] = await Promise.all([schedule.trigger(), stack.call('POST', `/api/v1/connectors/${connectorId}/sync`)]);
    expect(manual.status).toBe(202);

    // Wait for every connector sync of this connector to finish, however they were started.
    const runs = async () => {
      const found = [];
      for await (const run of stack.temporal.client.workflow.list({ query: `WorkflowType = 'connectorSync' AND ConnectorId = '${connectorId}'` })) found.push(run);
      return found;
    };
    let all = await runs();
    for (let i = 0; i < 100 && (all.length < 2 || all.some((r) => r.status.name === 'RUNNING')); i++) {
      await new Promise((r) => setTimeout(r, 200));
      all = await runs();
    }
    expect(all).toHaveLength(2);
    const results = await Promise.all(all.map((r) => stack.temporal.client.workflow.getHandle(r.workflowId, r.runId).result()));
    expect(results.map((r) => r.status).sort()).toEqual(['skipped', 'succeeded']);

    // One Operation, one fetch of the record, one finding.
    const ops = (await stack.call('GET', `/api/v1/operations?connectorId=${connectorId}&type=sync`)).body.items;
    expect(ops).toHaveLength(1);
    expect(ops[0]).toMatchObject({ status: 'succeeded', summary: { records: 1, created: 1 } });
    expect(own.state.requests.filter((r) => r.path.startsWith('/api/v1/finding/'))).toHaveLength(1);
    expect((await stack.call('GET', `/api/v1/findings?connectorId=${connectorId}`)).body.items).toHaveLength(1);
  });

  it('a worker whose schedule reconciliation fails keeps polling and retries it in the background', async () => {
    const connectorId = await createConnector('unschedulable');
    // A timezone Temporal refuses: the schedule cannot be written until it is fixed.
    await stack.orm.em.fork().execute(`update connector set schedule_timezone = 'Mars/Olympus_Mons' where id = ?`, [connectorId]);
    const second = await startWorker(stack.env);
    try {
      const settled = await Promise.race([second.schedulesReconciled.then(() => 'reconciled'), new Promise((r) => setTimeout(() => r('still retrying'), 3_000))]);
      expect(settled).toBe('still retrying');
      // Meanwhile the worker works: a sync of another connector completes on this task queue.
      const other = await createConnector('while-retrying');
      const started = await stack.call('POST', `/api/v1/connectors/${other}/sync`);
      expect((await stack.waitForOperation(started.body.operationId)).status).toMatch(/succeeded|partial/);
    } finally {
      await stack.orm.em.fork().execute(`update connector set schedule_timezone = 'UTC' where id = ?`, [connectorId]);
      await second.shutdown();
    }
  });

  it('the worker reconciles schedules at start: restores a missing one, removes one whose connector is gone', async () => {
    const connectorId = await createConnector('reconciled');
    const schedules = stack.temporal.client.schedule;
    await schedules.getHandle(connectorScheduleId(connectorId)).delete();
    const strayId = connectorScheduleId(crypto.randomUUID());
    await schedules.create({
      scheduleId: strayId,
      memo: { vulnsyncTaskQueue: stack.env.VULNSYNC_TASK_QUEUE },
      spec: { calendars: [{ hour: 1 }] },
      action: { type: 'startWorkflow', workflowType: 'connectorSync', taskQueue: stack.env.VULNSYNC_TASK_QUEUE!, args: [{}] },
      state: { paused: true },
    });

    const second = await startWorker(stack.env);
    await second.schedulesReconciled;
    await second.shutdown();

    const restored = await schedules.getHandle(connectorScheduleId(connectorId)).describe();
    expect(restored.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 3, end: 3, step: 1 }] });
    await expect(schedules.getHandle(strayId).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });
});
