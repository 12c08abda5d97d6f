import { DEFAULT_DT_API_KEY, dtProject, startDependencyTrackFake, type DependencyTrackFake } from '../fakes/dependency-track.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/**
 * Discovery is a tool activity (heartbeated, under the tool's timeouts), not a short database step: a
 * portfolio of 5,000 projects served slowly, page after page, is discovered completely and its
 * Operation says what discovery did.
 */
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

it('discovers 5,000 projects served at 300 ms a page, with created, mapped and missing counts', async () => {
  const projects = Array.from({ length: 5_000 }, (_, i) => dtProject({ name: `project-${i}`, version: '1' }));
  tool.state.projects.push(...projects);
  const pages = Math.ceil(projects.length / 100) + 1;
  tool.inject({ match: '/api/v1/project', times: pages, respond: { delayMs: 300 } });

  const created = await stack.call('POST', '/api/v1/connectors', { tool: 'dependency_track', label: 'portfolio', location: tool.url, secret: DEFAULT_DT_API_KEY });
  expect(created.status).toBe(201);
  const started = await stack.call('POST', `/api/v1/connectors/${created.body.id}/discover`);
  expect(started.status).toBe(202);
  const op = await stack.waitForOperation(started.body.operationId, 120_000);
  expect(op).toMatchObject({ status: 'succeeded', summary: { discovered: 5_000, created: 5_000, mapped: 0, missing: 0 } });
  const listed = tool.state.requests.filter((r) => r.path === '/api/v1/project').length;
  expect(listed).toBeGreaterThanOrEqual(50);

  // One project gone upstream after a person mapped it: the next discovery counts it missing.
  const records = await stack.call('GET', `/api/v1/records?connectorId=${created.body.id}&limit=1`);
  expect((await stack.call('POST', `/api/v1/records/${records.body.items[0].id}/map`, { productName: 'mapped' })).status).toBe(200);
  tool.state.projects.splice(tool.state.projects.findIndex((p) => p.uuid === records.body.items[0].externalId), 1);
  const again = await stack.call('POST', `/api/v1/connectors/${created.body.id}/discover`);
  const second = await stack.waitForOperation(again.body.operationId, 120_000);
  expect(second).toMatchObject({ status: 'succeeded', summary: { discovered: 4_999, created: 0, mapped: 0, missing: 1 } });
}, 180_000);

it('auto-maps a project whose name is longer than a Product name, with NUL and a lone surrogate in it', async () => {
  const fresh = await startDependencyTrackFake();
  try {
    const name = `${'very-long-'.repeat(100)}${String.fromCharCode(0)}\uD800end`;
    fresh.state.projects.push(dtProject({ name, version: '1' }));
    const created = await stack.call('POST', '/api/v1/connectors', { tool: 'dependency_track', label: 'long-names', location: fresh.url, secret: DEFAULT_DT_API_KEY, autoMap: true });
    expect(created.status).toBe(201);
    const started = await stack.call('POST', `/api/v1/connectors/${created.body.id}/discover`);
    const op = await stack.waitForOperation(started.body.operationId);
    expect(op).toMatchObject({ status: 'succeeded', summary: { discovered: 1, created: 1, mapped: 1 } });
    const [record] = (await stack.call('GET', `/api/v1/records?connectorId=${created.body.id}`)).body.items;
    expect(record.state).toBe('good');
    expect(record.productName).toHaveLength(255);
    expect(record.productName.startsWith('very-long-')).toBe(true);
  } finally {
    await fresh.close();
  }
});

it('a discovery whose page fails past the in-process retries resumes at that page on the next attempt', async () => {
  const fresh = await startDependencyTrackFake();
  try {
    fresh.state.projects.push(...Array.from({ length: 350 }, (_, i) => dtProject({ name: `resumed-${i}`, version: '1' })));
    fresh.inject({ match: '/api/v1/project', query: { pageNumber: '3', pageSize: '100' }, times: 3, respond: { status: 502, body: { message: 'Bad Gateway' } } });
    const created = await stack.call('POST', '/api/v1/connectors', { tool: 'dependency_track', label: 'resumed', location: fresh.url, secret: DEFAULT_DT_API_KEY });
    const started = await stack.call('POST', `/api/v1/connectors/${created.body.id}/discover`);
    const op = await stack.waitForOperation(started.body.operationId, 60_000);
    expect(op).toMatchObject({ status: 'succeeded', summary: { discovered: 350, created: 350, missing: 0 } });
    const listed = (page: string) => fresh.state.requests.filter((r) => r.path === '/api/v1/project' && r.query.pageSize === '100' && r.query.pageNumber === page).length;
    expect([listed('1'), listed('2'), listed('3'), listed('4')]).toEqual([1, 1, 4, 1]);
  } finally {
    await fresh.close();
  }
}, 90_000);
