import { DEFAULT_DT_API_KEY, dtFinding, dtProject, startDependencyTrackFake, type DependencyTrackFake } from '../fakes/dependency-track.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/**
 * Staging takes a connection per page, not per fetch, so fetches from several connectors syncing at the
 * same hour never queue behind the staging pool: here 12 record fetches run at once (3 connectors × 4
 * records, each tool answering slowly) against a staging pool of 4 connections.
 */
let stack: TestStack;
const tools: DependencyTrackFake[] = [];

beforeAll(async () => {
  stack = await startTestStack({ VULNSYNC_STAGING_POOL_SIZE: '4', VULNSYNC_SYNC_CONCURRENCY: '4' });
});
afterAll(async () => {
  for (const tool of tools) await tool.close();
  await stack?.stop();
});

it('runs 12 fetches from 3 connectors at once, all succeeding with exact counts', async () => {
  const connectorIds: string[] = [];
  for (let c = 0; c < 3; c++) {
    const tool = await startDependencyTrackFake();
    tools.push(tool);
    for (let r = 0; r < 4; r++) {
      const project = dtProject({ name: `c${c}-project-${r}`, version: '1' });
      tool.state.projects.push(project);
      tool.state.findings[project.uuid] = Array.from({ length: 50 }, (_, i) =>
        dtFinding(project, { name: `pkg-${i}`, version: '1.0.0' }, { vulnId: `CVE-2025-${c}${r}${i}`, severity: 'HIGH' }),
      );
    }
    // Every findings answer takes a while, so the record fetches overlap.
    tool.inject({ match: '/api/v1/finding', times: 4, respond: { delayMs: 1_500 } });
    const created = await stack.call('POST', '/api/v1/connectors', { tool: 'dependency_track', label: `busy-${c}`, location: tool.url, secret: DEFAULT_DT_API_KEY, autoMap: true });
    expect(created.status).toBe(201);
    connectorIds.push(created.body.id);
  }

  const started = await Promise.all(connectorIds.map((id) => stack.call('POST', `/api/v1/connectors/${id}/sync`)));
  for (const s of started) expect(s.status).toBe(202);
  const ops = await Promise.all(started.map((s) => stack.waitForOperation(s.body.operationId, 120_000)));
  for (const op of ops) expect(op).toMatchObject({ status: 'succeeded', summary: { records: 4, recordsSucceeded: 4, recordsFailed: 0, created: 200 } });

  // The fetches did overlap: each tool had its four findings requests in flight together.
  for (const tool of tools) {
    const times = tool.state.requests.filter((r) => r.path.startsWith('/api/v1/finding/')).map((r) => r.at);
    expect(times).toHaveLength(4);
    expect(Math.max(...times) - Math.min(...times)).toBeLessThan(1_500);
  }
}, 150_000);
