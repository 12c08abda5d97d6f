import { DEFAULT_DT_API_KEY, dtFinding, dtProject, startDependencyTrackFake, type DependencyTrackFake, type DtFindingJson, type DtProjectJson } from '../fakes/dependency-track.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/**
 * Findings are owned by the Record that reported them (SPEC §1): Records of one connector mapped to one
 * Product share its Test, and each Record's sync matches and closes only its own findings. Dependency-Track
 * matches by hash (component, version, vulnerability), so two projects reporting the same vulnerable
 * component are exactly the case where one Record could otherwise take or close the other's finding.
 */
let stack: TestStack;
let tool: DependencyTrackFake;

beforeAll(async () => {
  stack = await startTestStack();
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

interface RecordView {
  id: string;
  externalId: string;
  state: string;
  productId: string | null;
}

function project(name: string, version: string): DtProjectJson {
  const p = dtProject({ name, version });
  tool.state.projects.push(p);
  tool.state.findings[p.uuid] = [];
  return p;
}

const finding = (p: DtProjectJson, component: string, cve: string): DtFindingJson =>
  dtFinding(p, { name: component, version: '1.0.0' }, { vulnId: cve, severity: 'HIGH', cvssV3BaseScore: 7.5 });

async function setUp(label: string, projects: DtProjectJson[], productName: string) {
  const created = await stack.call('POST', '/api/v1/connectors', { tool: 'dependency_track', label, location: tool.url, secret: DEFAULT_DT_API_KEY });
  expect(created.status).toBe(201);
  const connectorId = created.body.id as string;
  expect((await runAndWait(`/api/v1/connectors/${connectorId}/discover`)).status).toBe('succeeded');
  const records = await recordsOf(connectorId);
  const byProject = new Map<string, RecordView>();
  for (const p of projects) {
    const record = records.find((r) => r.externalId === p.uuid)!;
    const mapped = await stack.call('POST', `/api/v1/records/${record.id}/map`, { productName });
    expect(mapped.status).toBe(200);
    byProject.set(p.uuid, mapped.body);
  }
  return { connectorId, record: (p: DtProjectJson) => byProject.get(p.uuid)! };
}

async function recordsOf(connectorId: string): Promise<RecordView[]> {
  const res = await stack.call('GET', `/api/v1/records?connectorId=${connectorId}&limit=100`);
  expect(res.status).toBe(200);
  return res.body.items;
}

async function runAndWait(path: string) {
  const started = await stack.call('POST', path);
  expect(started.status).toBe(202);
  return stack.waitForOperation(started.body.operationId);
}

async function sync(connectorId: string) {
  const op = await runAndWait(`/api/v1/connectors/${connectorId}/sync`);
  expect(op.status).toBe('succeeded');
  return op.summary as Record<string, number>;
}

/** The record's findings as `component@cve` → active, per Test. */
async function findingsOf(recordId: string): Promise<Record<string, Record<string, boolean>>> {
  const res = await stack.call('GET', `/api/v1/findings?recordId=${recordId}&limit=500`);
  expect(res.status).toBe(200);
  const byTest: Record<string, Record<string, boolean>> = {};
  for (const f of res.body.items as { testId: string; recordId: string; componentName: string; vulnerabilityIds: string[]; active: boolean }[]) {
    expect(f.recordId).toBe(recordId);
    (byTest[f.testId] ??= {})[`${f.componentName}@${f.vulnerabilityIds.join(',')}`] = f.active;
  }
  return byTest;
}

const only = (byTest: Record<string, Record<string, boolean>>) => {
  const tests = Object.values(byTest);
  expect(tests).toHaveLength(1);
  return tests[0]!;
};

describe('records mapped to one product', () => {
  it('two records keep their own findings through first, identical and churn syncs', async () => {
    const v1 = project('app', '1.0');
    const v2 = project('app', '2.0');
    // Both versions ship the same vulnerable lodash: one finding each, never one for both.
    tool.state.findings[v1.uuid] = [finding(v1, 'lodash', 'CVE-2021-1'), finding(v1, 'axios', 'CVE-2021-2'), finding(v1, 'ws', 'CVE-2021-3')];
    tool.state.findings[v2.uuid] = [finding(v2, 'lodash', 'CVE-2021-1'), finding(v2, 'express', 'CVE-2022-1')];
    const { connectorId, record } = await setUp('two-records', [v1, v2], 'app');
    expect(record(v1).productId).toBe(record(v2).productId);

    const first = await sync(connectorId);
    expect(first).toMatchObject({ records: 2, recordsSucceeded: 2, created: 5, closed: 0, untouched: 0 });
    const tests = (await stack.call('GET', `/api/v1/tests?connectorId=${connectorId}`)).body.items;
    expect(tests).toHaveLength(1);
    expect(only(await findingsOf(record(v1).id))).toEqual({ 'lodash@CVE-2021-1': true, 'axios@CVE-2021-2': true, 'ws@CVE-2021-3': true });
    expect(only(await findingsOf(record(v2).id))).toEqual({ 'lodash@CVE-2021-1': true, 'express@CVE-2022-1': true });

    for (let i = 0; i < 2; i++) {
      const identical = await sync(connectorId);
      expect(identical).toMatchObject({ created: 0, closed: 0, reactivated: 0, updated: 0, untouched: 5 });
    }

    // 2.0 fixes lodash and gains a finding; 1.0 reports exactly what it did before.
    tool.state.findings[v2.uuid] = [finding(v2, 'express', 'CVE-2022-1'), finding(v2, 'qs', 'CVE-2022-2')];
    const churn = await sync(connectorId);
    expect(churn).toMatchObject({ created: 1, closed: 1, reactivated: 0, untouched: 4 });
    expect(only(await findingsOf(record(v1).id))).toEqual({ 'lodash@CVE-2021-1': true, 'axios@CVE-2021-2': true, 'ws@CVE-2021-3': true });
    expect(only(await findingsOf(record(v2).id))).toEqual({ 'lodash@CVE-2021-1': false, 'express@CVE-2022-1': true, 'qs@CVE-2022-2': true });

    // 1.0 drops everything (a legitimately empty answer): only its own findings close.
    tool.state.findings[v1.uuid] = [];
    const emptied = await sync(connectorId);
    expect(emptied).toMatchObject({ created: 0, closed: 3, untouched: 2 });
    expect(Object.values(only(await findingsOf(record(v1).id)))).toEqual([false, false, false]);
    expect(only(await findingsOf(record(v2).id))).toEqual({ 'lodash@CVE-2021-1': false, 'express@CVE-2022-1': true, 'qs@CVE-2022-2': true });
  });

  it('three records, churn in each, counts exact and nothing crosses', async () => {
    const ps = [project('svc', 'a'), project('svc', 'b'), project('svc', 'c')];
    for (const p of ps) tool.state.findings[p.uuid] = [finding(p, 'shared', 'CVE-1'), finding(p, `own-${p.version}`, 'CVE-2')];
    const { connectorId, record } = await setUp('three-records', ps, 'svc');

    expect(await sync(connectorId)).toMatchObject({ records: 3, created: 6, closed: 0 });
    expect(await sync(connectorId)).toMatchObject({ created: 0, closed: 0, untouched: 6 });

    // a loses the shared finding, b gains one, c is unchanged; then the shared one comes back to a.
    const [a, b, c] = ps as [DtProjectJson, DtProjectJson, DtProjectJson];
    tool.state.findings[a.uuid] = [finding(a, 'own-a', 'CVE-2')];
    tool.state.findings[b.uuid]!.push(finding(b, 'extra', 'CVE-3'));
    expect(await sync(connectorId)).toMatchObject({ created: 1, closed: 1, reactivated: 0, untouched: 5 });
    tool.state.findings[a.uuid]!.push(finding(a, 'shared', 'CVE-1'));
    expect(await sync(connectorId)).toMatchObject({ created: 0, closed: 0, reactivated: 1, untouched: 6 });

    expect(only(await findingsOf(record(a).id))).toEqual({ 'shared@CVE-1': true, 'own-a@CVE-2': true });
    expect(only(await findingsOf(record(b).id))).toEqual({ 'shared@CVE-1': true, 'own-b@CVE-2': true, 'extra@CVE-3': true });
    expect(only(await findingsOf(record(c).id))).toEqual({ 'shared@CVE-1': true, 'own-c@CVE-2': true });
  });

  it('a remapped record starts afresh in the new Test and leaves the old one as it was; unmap and delete keep findings', async () => {
    const v1 = project('web', '1');
    const v2 = project('web', '2');
    tool.state.findings[v1.uuid] = [finding(v1, 'lodash', 'CVE-1')];
    tool.state.findings[v2.uuid] = [finding(v2, 'lodash', 'CVE-1'), finding(v2, 'ws', 'CVE-2')];
    const { connectorId, record } = await setUp('remap', [v1, v2], 'web');
    expect(await sync(connectorId)).toMatchObject({ created: 3 });
    const oldTest = Object.keys(await findingsOf(record(v2).id))[0]!;

    const remapped = await stack.call('POST', `/api/v1/records/${record(v2).id}/map`, { productName: 'web-2' });
    expect(remapped.status).toBe(200);
    tool.state.findings[v2.uuid] = [finding(v2, 'ws', 'CVE-2')];
    // v2 creates its one finding in its new Test; v1's is untouched; v2's old findings are not closed.
    expect(await sync(connectorId)).toMatchObject({ created: 1, closed: 0, untouched: 1 });
    const v2Findings = await findingsOf(record(v2).id);
    expect(v2Findings[oldTest]).toEqual({ 'lodash@CVE-1': true, 'ws@CVE-2': true });
    const newTest = Object.keys(v2Findings).find((t) => t !== oldTest)!;
    expect(v2Findings[newTest]).toEqual({ 'ws@CVE-2': true });
    expect(only(await findingsOf(record(v1).id))).toEqual({ 'lodash@CVE-1': true });

    // Unmapped, v1 is no longer synced: what it reported stays as it was even though the tool dropped it.
    expect((await stack.call('POST', `/api/v1/records/${record(v1).id}/unmap`)).status).toBe(200);
    tool.state.findings[v1.uuid] = [];
    expect(await sync(connectorId)).toMatchObject({ records: 1, created: 0, closed: 0, untouched: 1 });
    expect(only(await findingsOf(record(v1).id))).toEqual({ 'lodash@CVE-1': true });

    // Deleted, v2 keeps its findings in both Tests; discovered again, it is a new Record with none of its own.
    expect((await stack.call('DELETE', `/api/v1/records/${record(v2).id}`)).status).toBe(204);
    expect(await findingsOf(record(v2).id)).toEqual(v2Findings);
    await runAndWait(`/api/v1/connectors/${connectorId}/discover`);
    const again = (await recordsOf(connectorId)).find((r) => r.externalId === v2.uuid)!;
    expect(again.id).not.toBe(record(v2).id);
    expect(again.state).toBe('new');
    expect(await findingsOf(again.id)).toEqual({});
    const all = await stack.call('GET', `/api/v1/findings?connectorId=${connectorId}&active=true&limit=500`);
    expect(all.body.items).toHaveLength(4);
  });
});
