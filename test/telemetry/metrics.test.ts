import { DEFAULT_DT_API_KEY, dtFinding, dtProject, startDependencyTrackFake, type DependencyTrackFake } from '../fakes/dependency-track.js';
import { sampleValue, scrape } from '../support/prometheus.js';
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

describe('metrics after a real sync', () => {
  it("the API's /metrics and the worker's /metrics count what the sync did", async () => {
    const [alpha, beta] = [dtProject({ name: 'alpha', version: '1' }), dtProject({ name: 'beta', version: '1' })];
    tool.state.projects.push(alpha, beta);
    const vuln = (id: string) => ({ vulnId: id, severity: 'HIGH' as const });
    tool.state.findings[alpha.uuid] = [dtFinding(alpha, { name: 'a', version: '1' }, vuln('CVE-2024-1')), dtFinding(alpha, { name: 'b', version: '1' }, vuln('CVE-2024-2')), dtFinding(alpha, { name: 'c', version: '1' }, vuln('CVE-2024-3'))];
    tool.state.findings[beta.uuid] = [dtFinding(beta, { name: 'd', version: '1' }, vuln('CVE-2024-4')), dtFinding(beta, { name: 'e', version: '1' }, vuln('CVE-2024-5'))];
    const created = await stack.call('POST', '/api/v1/connectors', { tool: 'dependency_track', label: 'metrics', location: tool.url, secret: DEFAULT_DT_API_KEY, autoMap: true });
    expect(created.status).toBe(201);

    // One findings request is answered 503 and retried: one call more, and one TOOL_UNAVAILABLE error.
    tool.inject({ match: '/api/v1/finding/project/', times: 1, respond: { status: 503, headers: { 'Retry-After': '0' }, body: { error: 'busy' } } });
    const requestsBefore = tool.state.requests.length;
    // The tally is kept in PostgreSQL, which the other tests of this run share.
    const [tally] = await stack.orm.em.fork().execute<{ calls: string; unavailable: string }[]>(
      `select coalesce(sum(calls), 0) as calls, coalesce(sum(calls) filter (where error_type = 'TOOL_UNAVAILABLE'), 0) as unavailable
       from tool_api_call where tool = 'dependency_track'`,
    );
    const [toolCallsBefore, unavailableBefore] = [Number(tally!.calls), Number(tally!.unavailable)];
    const started = await stack.call('POST', `/api/v1/connectors/${created.body.id}/sync`);
    expect(started.status).toBe(202);
    const op = await stack.waitForOperation(started.body.operationId, 60_000);
    expect({ status: op.status, created: op.summary.created }).toEqual({ status: 'succeeded', created: 5 });
    const toolRequests = tool.state.requests.length - requestsBefore;

    // The workers add up their tool calls in PostgreSQL every 15 s; the API reports every worker's from there.
    await stack.worker.recordToolCalls();
    const api = await scrape(`${stack.api.url}/metrics`);
    expect({
      goodRecords: sampleValue(api, 'vulnsync_records', { tool: 'dependency_track', state: 'good' }),
      newRecords: sampleValue(api, 'vulnsync_records', { tool: 'dependency_track', state: 'new' }),
      syncsSucceeded: sampleValue(api, 'vulnsync_operations', { type: 'sync', status: 'succeeded' }),
      syncsFailed: sampleValue(api, 'vulnsync_operations', { type: 'sync', status: 'failed' }),
      discovers: sampleValue(api, 'vulnsync_operations', { type: 'discover', status: 'succeeded' }),
      imports: sampleValue(api, 'vulnsync_sync_findings_count', { action: 'created' }),
      created: sampleValue(api, 'vulnsync_sync_findings_sum', { action: 'created' }),
      closed: sampleValue(api, 'vulnsync_sync_findings_sum', { action: 'closed' }),
      untouched: sampleValue(api, 'vulnsync_sync_findings_sum', { action: 'untouched' }),
      importsWithNoneClosed: sampleValue(api, 'vulnsync_sync_findings_bucket', { action: 'closed', le: '0' }),
      importsWithUpToTenCreated: sampleValue(api, 'vulnsync_sync_findings_bucket', { action: 'created', le: '10' }),
      importsWithOneOrNoneCreated: sampleValue(api, 'vulnsync_sync_findings_bucket', { action: 'created', le: '1' }),
      syncDurations: sampleValue(api, 'vulnsync_operation_duration_seconds_count', { type: 'sync', status: 'succeeded' }),
    }).toEqual({
      goodRecords: 2,
      newRecords: 0,
      syncsSucceeded: 1,
      syncsFailed: 0,
      discovers: 0,
      imports: 2,
      created: 5,
      closed: 0,
      untouched: 0,
      importsWithNoneClosed: 2,
      importsWithUpToTenCreated: 2,
      importsWithOneOrNoneCreated: 0,
      syncDurations: 1,
    });
    expect({
      calls: sampleValue(api, 'vulnsync_tool_api_requests_total', { tool: 'dependency_track' }),
      unavailable: sampleValue(api, 'vulnsync_tool_api_request_errors_total', { tool: 'dependency_track', type: 'TOOL_UNAVAILABLE' }),
    }).toEqual({ calls: toolRequests + toolCallsBefore, unavailable: 1 + unavailableBefore });
    expect(sampleValue(api, 'vulnsync_operation_duration_seconds_sum', { type: 'sync', status: 'succeeded' })).toBeCloseTo(op.durationMs / 1000, 3);

    expect(stack.worker.healthUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const worker = await scrape(`${stack.worker.healthUrl}/metrics`);
    expect({
      calls: sampleValue(worker, 'vulnsync_tool_api_calls_total', { tool: 'dependency_track' }),
      unavailable: sampleValue(worker, 'vulnsync_tool_api_errors_total', { tool: 'dependency_track', type: 'TOOL_UNAVAILABLE' }),
      fetched: sampleValue(worker, 'vulnsync_findings_fetched_total', { tool: 'dependency_track' }),
      recordSyncs: sampleValue(worker, 'vulnsync_record_syncs_total', { status: 'succeeded' }),
    }).toEqual({ calls: toolRequests, unavailable: 1, fetched: 5, recordSyncs: 2 });
    expect(toolRequests).toBeGreaterThanOrEqual(4);
    expect(sampleValue(worker, 'vulnsync_worker_process_resident_memory_bytes')).toBeGreaterThan(0);
  }, 120_000);

  it('serves a burst of scrapes from one reading of PostgreSQL, and reads again a few seconds later', async () => {
    const good = async () => sampleValue(await scrape(`${stack.api.url}/metrics`), 'vulnsync_records', { tool: 'dependency_track', state: 'good' });
    const texts = await Promise.all(Array.from({ length: 20 }, () => fetch(`${stack.api.url}/metrics`).then((r) => r.text())));
    expect(new Set(texts).size).toBe(1);
    const before = await good();
    const records = (await stack.call('GET', '/api/v1/records?state=good')).body.items as { id: string }[];
    expect(records.length).toBe(before);
    expect((await stack.call('POST', `/api/v1/records/${records[0]!.id}/ignore`)).status).toBe(200);
    // Within the snapshot's lifetime the change is not read yet; after it, it is.
    expect(await good()).toBe(before);
    await new Promise((r) => setTimeout(r, 10_500));
    expect(await good()).toBe(before - 1);

    const health = await fetch(`${stack.worker.healthUrl}/healthz`);
    expect({ status: health.status, body: await health.json() }).toEqual({ status: 200, body: { status: 'ok', worker: 'RUNNING' } });
  }, 30_000);
});
