import { randomUUID } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { DEFAULT_DT_API_KEY, dtFinding, dtProject, startDependencyTrackFake, type DependencyTrackFake } from '../fakes/dependency-track.js';
import { SCREENSHOTS, launchChromium, screenshot } from '../support/browser.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/**
 * What an operator does in the Temporal UI with a failed record run: its details name the error type and
 * message, and Reset (to the first workflow task, as the UI's Reset does) re-runs it once the cause is
 * fixed. The reset run gets its own Operation with its status and counts (one Operation per run; the
 * failed one keeps the failure), and neither it nor a second reset duplicates a finding.
 */
let stack: TestStack;
let tool: DependencyTrackFake;

beforeAll(async () => {
  [stack, tool] = await Promise.all([startTestStack(), startDependencyTrackFake()]);
});
afterAll(async () => {
  await stack?.stop();
  await tool?.close();
});

const project = dtProject({ name: 'reset-me', version: '2' });
const lodash = dtFinding(project, { name: 'lodash', version: '4.17.15' }, { vulnId: 'CVE-2021-23337', severity: 'HIGH' });
const minimist = dtFinding(project, { name: 'minimist', version: '1.2.5' }, { vulnId: 'CVE-2021-44906', severity: 'CRITICAL' });
const axios = dtFinding(project, { name: 'axios', version: '0.21.0' }, { vulnId: 'CVE-2020-28168', severity: 'MEDIUM' });

/** Resets a run to its first completed workflow task, as the Temporal UI's Reset does; answers the new run id. */
async function resetToFirstWorkflowTask(workflowId: string, runId: string): Promise<string> {
  const history = await stack.temporal.client.workflow.getHandle(workflowId, runId).fetchHistory();
  const firstTask = (history.events ?? []).find((e) => e.workflowTaskCompletedEventAttributes);
  expect(firstTask).toBeDefined();
  const reset = await stack.temporal.client.workflowService.resetWorkflowExecution({
    namespace: stack.temporal.client.options.namespace,
    workflowExecution: { workflowId, runId },
    reason: 'operator retry after fixing the API key',
    workflowTaskFinishEventId: firstTask!.eventId,
    requestId: randomUUID(),
  });
  return reset.runId!;
}

/** What the run shows in the Temporal UI as its current details (the SDK's metadata query). */
async function currentDetails(workflowId: string, runId: string): Promise<string> {
  const answer = await stack.temporal.client.workflowService.queryWorkflow({
    namespace: stack.temporal.client.options.namespace,
    execution: { workflowId, runId },
    query: { queryType: '__temporal_workflow_metadata' },
  });
  const payload = answer.queryResult?.payloads?.[0] as temporal.api.common.v1.IPayload | undefined;
  const metadata = JSON.parse(Buffer.from(payload?.data ?? []).toString('utf8')) as { currentDetails?: string };
  return metadata.currentDetails ?? '';
}

/**
 * With VULNSYNC_UI_SCREENSHOTS=1 (the global setup then starts Temporal with its Web UI), pictures the
 * run's pages in the Temporal UI for the operator playbook, once `waitFor` shows on each.
 */
async function pictureTemporalUi(pages: { name: string; path: string; tab?: string; waitFor: string }[]) {
  const ui = process.env.VULNSYNC_TEST_TEMPORAL_UI_URL;
  if (!SCREENSHOTS || !ui) return;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    for (const { name, path, tab, waitFor } of pages) {
      await page.goto(`${ui}${path}`);
      if (tab) await page.getByText(tab, { exact: true }).first().click();
      // Summaries and details are rendered as Markdown in sandboxed frames: look in every frame.
      const deadline = Date.now() + 30_000;
      while (!(await Promise.all(page.frames().map((f) => f.getByText(waitFor).count().catch(() => 0)))).some((n) => n > 0)) {
        if (Date.now() > deadline) throw new Error(`the Temporal UI never showed "${waitFor}" at ${path}`);
        await page.waitForTimeout(250);
      }
      await page.waitForLoadState('networkidle');
      await screenshot(page, name);
    }
  } finally {
    await browser.close();
  }
}

const runPath = (workflowId: string, runId: string) => `/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;

/** The Operation of one run of the record (as the Operations table lists it), once that run is final. */
async function operationOfRun(recordId: string, runId: string) {
  const operations = (await stack.call('GET', `/api/v1/operations?recordId=${recordId}`)).body.items as { id: string; runId: string }[];
  const op = operations.find((o) => o.runId === runId);
  expect(op).toBeDefined();
  return stack.waitForOperation(op!.id);
}

async function findingsOfRecord(recordId: string) {
  return stack.orm.em
    .fork()
    .execute<{ hash_code: string; active: boolean }[]>('select hash_code, active from finding where record_id = ? order by id', [recordId]);
}

it('a failed record run shows its error, and resetting it re-runs it into the same Operation without duplicating findings', async () => {
  tool.state.projects.push(project);
  tool.state.findings[project.uuid] = [lodash, minimist];
  const created = await stack.call('POST', '/api/v1/connectors', { tool: 'dependency_track', label: 'resettable', location: tool.url, secret: DEFAULT_DT_API_KEY, autoMap: true });
  expect(created.status).toBe(201);
  const connectorId = created.body.id as string;
  await stack.waitForOperation((await stack.call('POST', `/api/v1/connectors/${connectorId}/discover`)).body.operationId);
  const [record] = (await stack.call('GET', `/api/v1/records?connectorId=${connectorId}`)).body.items;
  const first = await stack.call('POST', `/api/v1/records/${record.id}/sync`);
  expect(await stack.waitForOperation(first.body.operationId)).toMatchObject({ status: 'succeeded', summary: { created: 2 } });
  // The run closes just after its Operation: a sync requested before then would join it instead of starting anew.
  await stack.temporal.client.workflow.getHandle(first.body.workflowId, first.body.runId).result();

  // The tool changes (axios appears, minimist is fixed) and the stored key stops working: the run fails fast.
  tool.state.findings[project.uuid] = [lodash, axios];
  tool.state.apiKey = 'odt_rotatedKey000000000000000000000000';
  const failed = await stack.call('POST', `/api/v1/records/${record.id}/sync`);
  expect(failed.body.attached).toBe(false);
  const failedOp = await stack.waitForOperation(failed.body.operationId);
  expect(failedOp).toMatchObject({ status: 'failed', error: { type: 'AUTH_REJECTED' } });
  const { workflowId, runId: failedRunId } = failed.body as { workflowId: string; runId: string };

  // In the Temporal UI: the run failed with the typed error, and its details say so.
  // Its Operation is final a moment before the run itself closes.
  await stack.temporal.client.workflow.getHandle(workflowId, failedRunId).result().catch(() => undefined);
  const failedHistory = await stack.temporal.client.workflow.getHandle(workflowId, failedRunId).fetchHistory();
  const failure = failedHistory.events!.at(-1)!.workflowExecutionFailedEventAttributes?.failure;
  expect(failure?.applicationFailureInfo?.type).toBe('AUTH_REJECTED');
  expect(failure?.message).toBe(failedOp.error.message);
  expect(await currentDetails(workflowId, failedRunId)).toBe(`failed: AUTH_REJECTED — ${failedOp.error.message}`);

  await pictureTemporalUi([
    { name: 'temporal-find-runs', path: `/namespaces/default/workflows?query=${encodeURIComponent(`RecordId = '${record.id}'`)}`, waitFor: 'Failed' },
    // Its summary and details (the page's History tab would also show the failure's stack trace).
    { name: 'temporal-failed-run', path: runPath(workflowId, failedRunId), tab: 'User Metadata', waitFor: 'failed: AUTH_REJECTED' },
  ]);

  // The operator fixes the key and resets the failed run. The reset run is a run of its own, so it has an
  // Operation of its own (status, counts, its run id); the failed one stays as the record of the failure.
  tool.state.apiKey = DEFAULT_DT_API_KEY;
  const resetRunId = await resetToFirstWorkflowTask(workflowId, failedRunId);
  expect(resetRunId).not.toBe(failedRunId);
  await stack.temporal.client.workflow.getHandle(workflowId, resetRunId).result();
  const retried = await operationOfRun(record.id, resetRunId);
  expect(retried).toMatchObject({
    type: 'sync',
    trigger: 'manual',
    recordId: record.id,
    status: 'succeeded',
    error: null,
    workflowId,
    summary: { records: 1, recordsSucceeded: 1, created: 1, closed: 1, untouched: 1, reactivated: 0 },
  });
  expect(retried.temporalUrl).toContain(resetRunId);
  expect(await stack.waitForOperation(failed.body.operationId)).toEqual(failedOp);
  expect((await stack.call('GET', `/api/v1/records/${record.id}`)).body).toMatchObject({ lastSyncStatus: 'succeeded' });

  await pictureTemporalUi([{ name: 'temporal-reset-run', path: runPath(workflowId, resetRunId), waitFor: 'Completed' }]);

  const afterRetry = await findingsOfRecord(record.id);
  expect(afterRetry).toHaveLength(3);
  expect(new Set(afterRetry.map((f) => f.hash_code)).size).toBe(3);
  expect(afterRetry.filter((f) => f.active)).toHaveLength(2);

  // Resetting the run that succeeded re-runs it once more: nothing changes twice.
  const againRunId = await resetToFirstWorkflowTask(workflowId, resetRunId);
  await stack.temporal.client.workflow.getHandle(workflowId, againRunId).result();
  expect(await operationOfRun(record.id, againRunId)).toMatchObject({ status: 'succeeded', summary: { created: 0, closed: 0, reactivated: 0, untouched: 2 } });
  expect(await stack.waitForOperation(retried.id)).toEqual(retried);
  const operations = (await stack.call('GET', `/api/v1/operations?recordId=${record.id}`)).body.items;
  expect(operations.map((op: { runId: string; status: string }) => `${op.runId} ${op.status}`).sort()).toEqual(
    [`${first.body.runId} succeeded`, `${failedRunId} failed`, `${resetRunId} succeeded`, `${againRunId} succeeded`].sort(),
  );
  expect(await findingsOfRecord(record.id)).toEqual(afterRetry);
});
