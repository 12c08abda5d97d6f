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

async function createConnector(label: string): Promise<string> {
  const res = await stack.call('POST', '/api/v1/connectors', { tool: 'dependency_track', label, location: tool.url, secret: DEFAULT_DT_API_KEY, autoMap: true });
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
