import { DEFAULT_DT_API_KEY, dtFinding, dtProject, startDependencyTrackFake, type DependencyTrackFake, type DtFindingJson, type DtProjectJson } from '../fakes/dependency-track.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import type { AnswerBody } from '../support/answers.js';

let stack: TestStack;
let tool: DependencyTrackFake;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});
// Each test talks to a tool of its own, so auto-map sees only that test's projects.
beforeEach(async () => {
  tool = await startDependencyTrackFake();
});
afterEach(async () => {
  await tool.close();
});

const vuln = (id: string, severity: 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' = 'HIGH') => ({ vulnId: id, severity, cvssV3BaseScore: 7.5 });

function seed(names: string[]): DtProjectJson[] {
  const projects = names.map((name) => dtProject({ name, version: '1.0' }));
  tool.state.projects.push(...projects);
  for (const p of projects) tool.state.findings[p.uuid] = [];
  return projects;
}

function finding(project: DtProjectJson, component: string, cve: string, severity: 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' = 'HIGH'): DtFindingJson {
  return dtFinding(project, { name: component, version: '1.0.0' }, vuln(cve, severity));
}

async function createConnector(label: string, extra: Record<string, unknown> = {}) {
  const res = await stack.call('POST', '/api/v1/connectors', {
    tool: 'dependency_track',
    label,
    location: tool.url,
    secret: DEFAULT_DT_API_KEY,
    ...extra,
  });
  expect(res.status).toBe(201);
  expect(res.text).not.toContain(DEFAULT_DT_API_KEY);
  return res.body as { id: string };
}

async function startAndWait(path: string) {
  const started = await stack.call('POST', path);
  expect(started.status).toBe(202);
  expect(started.body.temporalUrl).toContain(encodeURIComponent(started.body.workflowId));
  return stack.waitForOperation(started.body.operationId);
}

async function activeFindings(connectorId: string): Promise<number> {
  const res = await stack.call('GET', `/api/v1/findings?connectorId=${connectorId}&active=true&limit=500`);
  expect(res.status).toBe(200);
  return res.body.items.length;
}

describe('a connector, end to end through the API', () => {
  it('checks, discovers, maps, syncs, and reimports changes with exact counts', async () => {
    const [alpha, beta] = seed(['alpha-service', 'beta-service']);
    tool.state.findings[alpha!.uuid] = [finding(alpha!, 'lodash', 'CVE-2021-1'), finding(alpha!, 'axios', 'CVE-2021-2'), finding(alpha!, 'ws', 'CVE-2021-3', 'MEDIUM')];
    tool.state.findings[beta!.uuid] = [finding(beta!, 'django', 'CVE-2022-1', 'CRITICAL'), finding(beta!, 'pillow', 'CVE-2022-2')];

    const connector = await createConnector('scenario');
    const check = await stack.call('POST', `/api/v1/connectors/${connector.id}/check`);
    expect(check.status).toBe(200);
    expect(check.body).toEqual({ ok: true });

    const discovered = await startAndWait(`/api/v1/connectors/${connector.id}/discover`);
    expect(discovered.status).toBe('succeeded');
    const records = (await stack.call('GET', `/api/v1/records?connectorId=${connector.id}`)).body.items as { id: string; name: string; state: string; externalId: string }[];
    expect(records.map((r) => [r.externalId, r.state]).sort()).toEqual([[alpha!.uuid, 'new'], [beta!.uuid, 'new']].sort());

    const alphaRecord = records.find((r) => r.externalId === alpha!.uuid)!;
    const mapped = await stack.call('POST', `/api/v1/records/${alphaRecord.id}/map`, { productName: 'Alpha', productDescription: 'The alpha storefront' });
    expect(mapped.status).toBe(200);
    expect(mapped.body.state).toBe('good');
    // Auto-map picks up the other record at the next discovery (which every sync starts with).
    expect((await stack.call('PATCH', `/api/v1/connectors/${connector.id}`, { autoMap: true })).status).toBe(200);

    const first = await startAndWait(`/api/v1/connectors/${connector.id}/sync`);
    expect(first.status).toBe('succeeded');
    expect(first.summary).toMatchObject({ records: 2, recordsSucceeded: 2, created: 5, closed: 0, reactivated: 0, untouched: 0 });
    // No window configured: the worker's own (20 activity slots, 10 ORM connections) sets it.
    expect(first.summary.window).toBe(10);
    expect(await activeFindings(connector.id)).toBe(5);

    // The tool fixes one finding of alpha and reports a new one for beta.
    const fixed = tool.state.findings[alpha!.uuid]!.pop()!;
    tool.state.findings[beta!.uuid]!.push(finding(beta!, 'requests', 'CVE-2023-9', 'LOW'));
    const second = await startAndWait(`/api/v1/connectors/${connector.id}/sync`);
    expect(second.summary).toMatchObject({ created: 1, closed: 1, reactivated: 0, untouched: 4, updated: 0 });
    expect(await activeFindings(connector.id)).toBe(5);
    // Every open finding was seen by the second sync, unchanged ones included.
    const open = (await stack.call('GET', `/api/v1/findings?connectorId=${connector.id}&active=true`)).body.items as AnswerBody[];
    for (const f of open) expect(Date.parse(f.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(second.startedAt));
    const closed = (await stack.call('GET', `/api/v1/findings?connectorId=${connector.id}&active=false`)).body.items as AnswerBody[];
    expect(closed).toHaveLength(1);
    expect(Date.parse(closed[0].lastSeenAt)).toBeLessThan(Date.parse(second.startedAt));

    // It comes back, and one severity changes upstream.
    tool.state.findings[alpha!.uuid]!.push(fixed);
    tool.state.findings[beta!.uuid]![0] = finding(beta!, 'django', 'CVE-2022-1', 'HIGH');
    const third = await startAndWait(`/api/v1/connectors/${connector.id}/sync`);
    expect(third.summary).toMatchObject({ created: 0, closed: 0, reactivated: 1, untouched: 4, updated: 1 });
    expect(await activeFindings(connector.id)).toBe(6);

    // The sync created one Test per product, named after the tool and the connector, under Global Connectors.
    const tests = (await stack.call('GET', `/api/v1/tests?connectorId=${connector.id}`)).body.items as { id: string; productId: string }[];
    expect(tests).toHaveLength(2);
    for (const test of tests) {
      expect(test).toMatchObject({ title: 'Dependency-Track - scenario', engagementName: 'Global Connectors', tool: 'dependency_track', connectorId: connector.id });
    }
    // A product a person named keeps the description they gave; one auto-map created says where it came from.
    const betaRecord = (await stack.call('GET', `/api/v1/records?connectorId=${connector.id}`)).body.items.find((r: { externalId: string }) => r.externalId === beta!.uuid);
    const products = (await stack.call('GET', '/api/v1/products?limit=500')).body.items as { id: string; name: string; description: string | null }[];
    expect(products.find((p) => p.id === mapped.body.productId)).toMatchObject({ name: 'Alpha', description: 'The alpha storefront' });
    expect(products.find((p) => p.id === betaRecord.productId)).toMatchObject({
      name: 'beta-service 1.0',
      description: 'Created by vulnsync when the Dependency-Track connector "scenario" discovered the record "beta-service 1.0" (auto-map).',
    });

    // The imports of alpha's test tell the same story, and each action is recorded.
    const alphaProduct = mapped.body.productId;
    const alphaTest = tests.find((t) => t.productId === alphaProduct)!;
    const imports = (await stack.call('GET', `/api/v1/tests/${alphaTest.id}/imports`)).body.items as AnswerBody[];
    expect(imports.map((i) => [i.created, i.closed, i.reactivated, i.untouched]).sort()).toEqual(
      [
        [3, 0, 0, 0],
        [0, 1, 0, 2],
        [0, 0, 1, 2],
      ].sort(),
    );
  });

  it("writes the tool's verified flag with each finding and refreshes it when the tool's analysis changes", async () => {
    const [iota] = seed(['iota-service']);
    const withState = (component: string, cve: string, state: string) =>
      dtFinding(iota!, { name: component, version: '1.0.0' }, vuln(cve), { state });
    tool.state.findings[iota!.uuid] = [withState('tar', 'CVE-2021-37701', 'EXPLOITABLE'), withState('glob-parent', 'CVE-2020-28469', 'NOT_SET')];
    const connector = await createConnector('verified', { autoMap: true });
    const first = await startAndWait(`/api/v1/connectors/${connector.id}/sync`);
    expect(first.summary).toMatchObject({ created: 2 });
    const verifiedOf = async () => {
      const items = (await stack.call('GET', `/api/v1/findings?connectorId=${connector.id}`)).body.items as { componentName: string; verified: boolean; active: boolean }[];
      return Object.fromEntries(items.map((f) => [f.componentName, f.verified]));
    };
    expect(await verifiedOf()).toEqual({ tar: true, 'glob-parent': false });

    // A person in Dependency-Track confirms one and sends the other back to triage.
    tool.state.findings[iota!.uuid] = [withState('tar', 'CVE-2021-37701', 'IN_TRIAGE'), withState('glob-parent', 'CVE-2020-28469', 'EXPLOITABLE')];
    const second = await startAndWait(`/api/v1/connectors/${connector.id}/sync`);
    expect(second.summary).toMatchObject({ updated: 2, created: 0, closed: 0 });
    expect(await verifiedOf()).toEqual({ tar: false, 'glob-parent': true });
  });

  it('a 429 is retried after the Retry-After the tool asked for', async () => {
    const [gamma] = seed(['gamma-service']);
    tool.state.findings[gamma!.uuid] = [finding(gamma!, 'minimist', 'CVE-2021-44906', 'CRITICAL')];
    const connector = await createConnector('rate-limited', { autoMap: true });
    await startAndWait(`/api/v1/connectors/${connector.id}/discover`);
    tool.state.requests.length = 0;
    tool.state.faults.push({ match: `/api/v1/finding/project/${gamma!.uuid}`, times: 1, respond: { status: 429, headers: { 'Retry-After': '2' }, body: '' } });

    const op = await startAndWait(`/api/v1/connectors/${connector.id}/sync`);
    expect(op.status).toBe('succeeded');
    const findingCalls = tool.state.requests.filter((r) => r.path === `/api/v1/finding/project/${gamma!.uuid}`);
    expect(findingCalls).toHaveLength(2);
    expect(findingCalls[1]!.at - findingCalls[0]!.at).toBeGreaterThanOrEqual(2000);
  });

  it('a rejected API key fails the run fast with AUTH_REJECTED and closes nothing', async () => {
    const [delta] = seed(['delta-service']);
    tool.state.findings[delta!.uuid] = [finding(delta!, 'qs', 'CVE-2022-24999'), finding(delta!, 'json5', 'CVE-2022-46175')];
    const connector = await createConnector('auth', { autoMap: true });
    const first = await startAndWait(`/api/v1/connectors/${connector.id}/sync`);
    expect(first.summary).toMatchObject({ created: 2 });
    const record = (await stack.call('GET', `/api/v1/records?connectorId=${connector.id}`)).body.items[0];
    const synced = await stack.call('GET', `/api/v1/records/${record.id}`);
    expect(synced.status).toBe(200);
    expect(synced.body).toMatchObject({ id: record.id, state: 'good', lastSyncStatus: 'succeeded' });
    expect(Date.parse(synced.body.lastSyncAt)).toBeGreaterThanOrEqual(Date.parse(first.startedAt));

    expect((await stack.call('PATCH', `/api/v1/connectors/${connector.id}`, { secret: 'odt_revokedKey000000000' })).status).toBe(200);
    tool.state.requests.length = 0;
    const failed = await startAndWait(`/api/v1/records/${record.id}/sync`);
    expect(failed.status).toBe('failed');
    expect(failed.error.type).toBe('AUTH_REJECTED');
    expect(JSON.stringify(failed)).not.toContain('odt_revoked');
    expect(tool.state.requests.filter((r) => r.path.startsWith('/api/v1/finding/'))).toHaveLength(1);
    expect(await activeFindings(connector.id)).toBe(2);
    const after = await stack.call('GET', `/api/v1/records/${record.id}`);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ state: 'good', lastSyncStatus: 'failed' });
    expect(Date.parse(after.body.lastSyncAt)).toBeGreaterThanOrEqual(Date.parse(failed.startedAt));
    expect(Date.parse(after.body.lastSyncAt)).toBeGreaterThan(Date.parse(synced.body.lastSyncAt));
  });

  it('a manual sync while the same connector or record is syncing attaches to the running one', async () => {
    const [epsilon] = seed(['epsilon-service']);
    tool.state.findings[epsilon!.uuid] = [finding(epsilon!, 'braces', 'CVE-2024-4068')];
    const connector = await createConnector('attach', { autoMap: true });
    await startAndWait(`/api/v1/connectors/${connector.id}/discover`);
    tool.state.faults.push({ match: `/api/v1/finding/project/${epsilon!.uuid}`, times: 1, respond: { delayMs: 8000 } });

    const started = await stack.call('POST', `/api/v1/connectors/${connector.id}/sync`);
    expect(started.body.attached).toBe(false);
    const again = await stack.call('POST', `/api/v1/connectors/${connector.id}/sync`);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ attached: true, operationId: started.body.operationId, workflowId: started.body.workflowId });

    // The record's own sync is running as a child of the connector sync: a record sync joins it.
    const record = (await stack.call('GET', `/api/v1/records?connectorId=${connector.id}`)).body.items[0];
    const child = stack.temporal.client.workflow.getHandle(`sync/${connector.id}/${record.id}`);
    for (let i = 0; i < 100; i++) {
      const running = await child.describe().then((d) => d.status.name === 'RUNNING', () => false);
      if (running) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // While the tool is slow to answer, the run reports where it is.
    let progress: AnswerBody;
    for (let i = 0; i < 60 && progress?.phase !== 'fetching'; i++) {
      progress = await child.query('progress').catch(() => undefined);
      if (progress?.phase !== 'fetching') await new Promise((r) => setTimeout(r, 50));
    }
    expect(progress).toMatchObject({ phase: 'fetching' });
    const recordSync = await stack.call('POST', `/api/v1/records/${record.id}/sync`);
    expect(recordSync.status).toBe(202);
    expect(recordSync.body).toMatchObject({ attached: true, operationId: started.body.operationId });

    const op = await stack.waitForOperation(started.body.operationId);
    expect(op.status).toBe('succeeded');
    expect(op.summary).toMatchObject({ records: 1, created: 1 });
    const ops = (await stack.call('GET', `/api/v1/operations?connectorId=${connector.id}&type=sync`)).body.items;
    expect(ops).toHaveLength(1);
  });

  it('the daily schedule starts a sync that is recorded as scheduled', async () => {
    const [zeta] = seed(['zeta-service']);
    tool.state.findings[zeta!.uuid] = [finding(zeta!, 'moment', 'CVE-2022-24785')];
    const connector = await createConnector('scheduled', { autoMap: true, schedule: { hour: 4, minute: 15, timezone: 'Europe/Berlin' } });
    const schedule = await stack.call('GET', `/api/v1/connectors/${connector.id}/schedule`);
    expect(schedule.status).toBe(200);
    expect(schedule.body).toMatchObject({ hour: 4, minute: 15, timezone: 'Europe/Berlin', paused: false });

    await stack.temporal.client.schedule.getHandle(`connector-${connector.id}-sync`).trigger();
    let op: AnswerBody;
    for (let i = 0; i < 200 && !op; i++) {
      const ops = (await stack.call('GET', `/api/v1/operations?connectorId=${connector.id}&type=sync`)).body.items as AnswerBody[];
      op = ops.find((o) => o.trigger === 'scheduled');
      if (!op) await new Promise((r) => setTimeout(r, 200));
    }
    expect(op).toBeDefined();
    const done = await stack.waitForOperation(op.id);
    expect(done.status).toBe('succeeded');
    expect(done.summary).toMatchObject({ created: 1 });
  });

  it("a field a person edited is never refreshed by a sync, while the tool's other changes are", async () => {
    const [eta] = seed(['eta-service']);
    const original = () => dtFinding(eta!, { name: 'jinja2', version: '2.11.2' }, { vulnId: 'CVE-2024-22195', severity: 'MEDIUM', description: 'First wording' });
    tool.state.findings[eta!.uuid] = [original()];
    const connector = await createConnector('edits', { autoMap: true });
    await startAndWait(`/api/v1/connectors/${connector.id}/sync`);
    const [found] = (await stack.call('GET', `/api/v1/findings?connectorId=${connector.id}`)).body.items;
    const edited = await stack.call('PATCH', `/api/v1/findings/${found.id}`, { severity: 'Critical' });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ severity: 'Critical', active: true, triagedByPerson: false });

    tool.state.findings[eta!.uuid] = [dtFinding(eta!, { name: 'jinja2', version: '2.11.2' }, { vulnId: 'CVE-2024-22195', severity: 'LOW', description: 'Second wording' })];
    const op = await startAndWait(`/api/v1/connectors/${connector.id}/sync`);
    expect(op.summary).toMatchObject({ updated: 1, untouched: 0, created: 0, closed: 0 });
    const after = (await stack.call('GET', `/api/v1/findings/${found.id}`)).body;
    expect(after).toMatchObject({ severity: 'Critical', description: expect.stringContaining('Second wording') });

    // Nothing changes upstream: the person's severity still wins, and the finding is simply untouched.
    const again = await startAndWait(`/api/v1/connectors/${connector.id}/sync`);
    expect(again.summary).toMatchObject({ updated: 0, untouched: 1 });
  });

  it('an answer broken off after some pages were staged is fetched again from the start, with what the tool has now', async () => {
    const [theta] = seed(['theta-service']);
    const many = Array.from({ length: 1500 }, (_, i) => finding(theta!, `lib-${i}`, `CVE-2025-${10000 + i}`));
    tool.state.findings[theta!.uuid] = many;
    const connector = await createConnector('restart', { autoMap: true });
    await startAndWait(`/api/v1/connectors/${connector.id}/discover`);
    const path = `/api/v1/finding/project/${theta!.uuid}`;
    const fullSize = Buffer.byteLength(JSON.stringify(many));
    // Past the first page of 1,000 findings, then the connection breaks: that page is staged, the rest is not.
    tool.state.faults.push({ match: path, times: 1, respond: { cutAfterBytes: Math.floor(fullSize * 0.8) } });

    const started = await stack.call('POST', `/api/v1/connectors/${connector.id}/sync`);
    // While the activity waits for its retry, the tool drops one of the findings already staged.
    for (let i = 0; i < 200 && tool.state.requests.filter((r) => r.path === path).length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    tool.state.findings[theta!.uuid] = many.slice(1);
    const op = await stack.waitForOperation(started.body.operationId, 60_000);
    expect(op.status).toBe('succeeded');
    expect(op.summary).toMatchObject({ fetched: 1499, created: 1499 });
    expect(tool.state.requests.filter((r) => r.path === path).length).toBeGreaterThanOrEqual(2);
  });
});

