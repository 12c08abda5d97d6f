import { DEFAULT_SONARQUBE_TOKEN, sonarHotspot, sonarIssue, sonarProject, startSonarqubeFake, type SonarqubeFake } from '../fakes/sonarqube.js';
import { startTestStack, syncCounts, type TestStack } from '../support/stack.js';

let stack: TestStack;
let tool: SonarqubeFake;

beforeAll(async () => {
  stack = await startTestStack();
  tool = await startSonarqubeFake();
});
afterAll(async () => {
  await tool?.close();
  await stack?.stop();
});

const sync = (connectorId: string) => syncCounts(stack, connectorId);

describe('the SonarQube connector, end to end through the API', () => {
  it('syncs issues and hotspots first, identical (resuming at the hotspots after a failure) and churned, with exact counts', async () => {
    tool.state.projects.push(sonarProject('shop', 'Shop'));
    const issue = (message: string, fields: Parameters<typeof sonarIssue>[2] = {}) => tool.state.issues.push(sonarIssue('shop', message, fields));
    const hotspot = (message: string, fields: Parameters<typeof sonarHotspot>[2] = {}) => tool.state.hotspots.push(sonarHotspot('shop', message, fields));
    for (const title of ['alpha', 'bravo', 'charlie']) issue(title);
    issue('delta', { status: 'RESOLVED', resolution: 'FALSE-POSITIVE' });
    issue('echo', { status: 'RESOLVED', resolution: 'FIXED' });
    hotspot('hotspot-open');
    hotspot('hotspot-safe', { status: 'REVIEWED', resolution: 'SAFE' });
    hotspot('hotspot-fixed', { status: 'REVIEWED', resolution: 'FIXED' });
    const set = <T extends object>(items: T[], title: string, fields: Partial<T>) => Object.assign(items.find((i) => (i as { message?: string }).message === title)!, fields);

    const created = await stack.call('POST', '/api/v1/connectors', { tool: 'sonarqube', label: 'sonar', location: tool.url, secret: DEFAULT_SONARQUBE_TOKEN, autoMap: true });
    expect(created.status).toBe(201);
    expect(created.text).not.toContain(DEFAULT_SONARQUBE_TOKEN);
    const id = created.body.id as string;
    expect((await stack.call('POST', `/api/v1/connectors/${id}/check`)).body).toEqual({ ok: true });

    expect(await sync(id)).toEqual({ created: 6, closed: 0, untouched: 0, reactivated: 0, updated: 0 });
    const falsePositives = await stack.call('GET', `/api/v1/findings?connectorId=${id}&falsePositive=true`);
    expect(falsePositives.body.items.map((f: { title: string }) => f.title).sort()).toEqual(['delta', 'hotspot-safe']);

    // The hotspots fail more often than the HTTP client retries in process: Temporal's retry resumes there.
    tool.state.requests = [];
    tool.inject({ match: '/api/hotspots/search', times: 3, respond: { status: 502, body: { errors: [{ msg: 'Bad Gateway' }] } } });
    expect(await sync(id)).toEqual({ created: 0, closed: 0, untouched: 6, reactivated: 0, updated: 0 });
    expect(tool.state.requests.filter((r) => r.path === '/api/issues/search')).toHaveLength(1);
    expect(tool.state.requests.filter((r) => r.path === '/api/hotspots/search')).toHaveLength(4);

    set(tool.state.issues, 'bravo', { status: 'RESOLVED', resolution: 'FIXED' });
    set(tool.state.hotspots, 'hotspot-open', { status: 'REVIEWED', resolution: 'FIXED' });
    issue('foxtrot');
    expect(await sync(id)).toEqual({ created: 1, closed: 2, untouched: 4, reactivated: 0, updated: 0 });

    set(tool.state.issues, 'bravo', { status: 'REOPENED', resolution: undefined });
    expect(await sync(id)).toEqual({ created: 0, closed: 0, untouched: 5, reactivated: 1, updated: 0 });
    const active = await stack.call('GET', `/api/v1/findings?connectorId=${id}&active=true&limit=100`);
    expect(active.body.items.map((f: { title: string }) => f.title).sort()).toEqual(['alpha', 'bravo', 'charlie', 'foxtrot']);
  }, 180_000);
});
