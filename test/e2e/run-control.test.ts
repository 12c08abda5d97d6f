import { DEFAULT_DT_API_KEY, dtFinding, dtProject, startDependencyTrackFake, type DependencyTrackFake } from '../fakes/dependency-track.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/**
 * How runs end, whatever the tool or the operator does: a tool asking for an hour's wait is waited on no
 * longer than the worker's cap; a record already syncing is skipped with its reason; deleting a connector
 * cancels what it has running, and the Operation says so.
 */
let stack: TestStack;
let tool: DependencyTrackFake;

beforeAll(async () => {
  stack = await startTestStack({ VULNSYNC_MAX_TOOL_WAIT_SECONDS: '2' });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  tool = await startDependencyTrackFake();
});
afterEach(async () => {
  await tool.close();
});

async function connectorWithOneProject(label: string) {
  const project = dtProject({ name: label, version: '1' });
  tool.state.projects.push(project);
  tool.state.findings[project.uuid] = [dtFinding(project, { name: 'lodash', version: '4.17.15' }, { vulnId: 'CVE-2021-23337', severity: 'HIGH' })];
  const created = await stack.call('POST', '/api/v1/connectors', { tool: 'dependency_track', label, location: tool.url, secret: DEFAULT_DT_API_KEY, autoMap: true });
  expect(created.status).toBe(201);
  const discovered = await stack.call('POST', `/api/v1/connectors/${created.body.id}/discover`);
  await stack.waitForOperation(discovered.body.operationId);
  const [record] = (await stack.call('GET', `/api/v1/records?connectorId=${created.body.id}`)).body.items;
  return { connectorId: created.body.id as string, recordId: record.id as string, project };
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('a tool asking to wait an hour (429, Retry-After: 3600) is retried after the worker’s cap, and the sync completes', async () => {
  const { connectorId } = await connectorWithOneProject('patient');
  tool.inject({ match: '/api/v1/finding', times: 1, respond: { status: 429, headers: { 'Retry-After': '3600' }, body: { message: 'slow down' } } });
  const started = await stack.call('POST', `/api/v1/connectors/${connectorId}/sync`);
  const op = await stack.waitForOperation(started.body.operationId, 30_000);
  expect(op).toMatchObject({ status: 'succeeded', summary: { created: 1 } });
  expect(tool.state.requests.filter((r) => r.path.startsWith('/api/v1/finding/'))).toHaveLength(2);
});

it('a connector sync skips a record that is already syncing, and says why', async () => {
  const { connectorId, recordId } = await connectorWithOneProject('busy');
  tool.inject({ match: '/api/v1/finding', times: 1, respond: { delayMs: 4_000 } });
  const alone = await stack.call('POST', `/api/v1/records/${recordId}/sync`);
  expect(alone.status).toBe(202);
  await waitUntil('the record fetch to start', async () => tool.state.requests.some((r) => r.path.startsWith('/api/v1/finding/')));

  const all = await stack.call('POST', `/api/v1/connectors/${connectorId}/sync`);
  const op = await stack.waitForOperation(all.body.operationId);
  expect(op).toMatchObject({
    status: 'succeeded',
    summary: { records: 1, recordsSkipped: 1, skippedRecords: [{ recordId, reason: 'the record is already syncing in another run' }] },
  });
  expect((await stack.waitForOperation(alone.body.operationId)).status).toBe('succeeded');
});

it('deleting a connector cancels its running sync; the Operation ends as cancelled and the findings stay', async () => {
  const { connectorId } = await connectorWithOneProject('doomed');
  const first = await stack.call('POST', `/api/v1/connectors/${connectorId}/sync`);
  await stack.waitForOperation(first.body.operationId);
  tool.inject({ match: '/api/v1/finding', times: 5, respond: { delayMs: 30_000 } });
  const started = await stack.call('POST', `/api/v1/connectors/${connectorId}/sync`);
  await waitUntil('the second fetch to start', async () => tool.state.requests.filter((r) => r.path.startsWith('/api/v1/finding/')).length >= 2);

  expect((await stack.call('DELETE', `/api/v1/connectors/${connectorId}`)).status).toBe(204);
  const handle = stack.temporal.client.workflow.getHandle(started.body.workflowId);
  await waitUntil('the sync to be cancelled', async () => (await handle.describe()).status.name === 'CANCELLED');
  const op = await stack.waitForOperation(started.body.operationId);
  expect(op).toMatchObject({ status: 'failed', error: { type: 'CANCELLED' } });
  // Deleting a connector never deletes findings.
  const [row] = await stack.orm.em.fork().execute<{ n: number }[]>('select count(*)::int as n from finding where record_id is not null');
  expect(row!.n).toBeGreaterThanOrEqual(1);
});

it('a stored connector whose settings the tool refuses fails its check and its runs alike: CONFIG_INVALID, at once', async () => {
  const { connectorId } = await connectorWithOneProject('misconfigured');
  await stack.orm.em.fork().execute(`update connector set settings = '{"includeInactive":"sometimes"}' where id = ?`, [connectorId]);
  const check = await stack.call('POST', `/api/v1/connectors/${connectorId}/check`);
  expect(check.status).toBe(422);
  expect(check.body.error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('includeInactive') });
  const started = await stack.call('POST', `/api/v1/connectors/${connectorId}/sync`);
  const op = await stack.waitForOperation(started.body.operationId, 15_000);
  expect(op).toMatchObject({ status: 'failed', error: { type: 'CONFIG_INVALID' } });
  const history = await stack.temporal.client.workflow.getHandle(started.body.workflowId).fetchHistory();
  const attempts = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
  expect(Math.max(...attempts)).toBe(1);
});
