import { DEFAULT_BLACKDUCK_API_TOKEN, blackDuckProject, blackDuckVulnerability, startBlackDuckFake, type BlackDuckBomItem, type BlackDuckFake } from '../fakes/blackduck.js';
import { startTestStack, syncCounts, type TestStack } from '../support/stack.js';

let stack: TestStack;
let fake: BlackDuckFake;

beforeAll(async () => {
  stack = await startTestStack();
  fake = await startBlackDuckFake();
});
afterAll(async () => {
  await fake?.close();
  await stack?.stop();
});

const sync = (connectorId: string) => syncCounts(stack, connectorId);

describe('the Black Duck connector, end to end through the API', () => {
  it('checks, discovers project versions, then syncs first, identical and churned findings with exact counts, renewing its token', async () => {
    const project = blackDuckProject('shop', ['1.0']);
    fake.state.projects.push(project);
    const items: BlackDuckBomItem[] = (fake.state.bom[project.versions[0]!.id] = []);
    const add = (component: string, remediationStatus = 'NEW') => items.push(blackDuckVulnerability(component, '1.0', `CVE-2026-${component}`, { remediationStatus }));
    const setStatus = (component: string, remediationStatus: string) => (items.find((i) => i.componentName === component)!.vulnerabilityWithRemediation.remediationStatus = remediationStatus);
    for (const component of ['alpha', 'bravo', 'charlie']) add(component);
    add('delta', 'NOT_AFFECTED');
    add('echo', 'PATCHED');
    // Every bearer token serves one request, so each discovery and sync meets 401s and renews its token mid-way.
    fake.state.usesPerToken = 1;

    const created = await stack.call('POST', '/api/v1/connectors', { tool: 'blackduck', label: 'blackduck-e2e', location: fake.url, secret: DEFAULT_BLACKDUCK_API_TOKEN, autoMap: true });
    expect(created.status).toBe(201);
    expect(created.text).not.toContain(DEFAULT_BLACKDUCK_API_TOKEN);
    const id = created.body.id as string;
    expect((await stack.call('POST', `/api/v1/connectors/${id}/check`)).body).toEqual({ ok: true });

    // The patched vulnerability is not current; the one that does not affect the version arrives as a false positive.
    expect(await sync(id)).toEqual({ created: 4, closed: 0, untouched: 0, reactivated: 0, updated: 0 });
    const records = await stack.call('GET', `/api/v1/records?connectorId=${id}`);
    expect(records.body.items.map((r: { name: string }) => r.name)).toEqual(['shop 1.0']);
    const falsePositives = await stack.call('GET', `/api/v1/findings?connectorId=${id}&falsePositive=true`);
    expect(falsePositives.body.items.map((f: { title: string }) => f.title)).toEqual(['CVE-2026-delta in delta 1.0']);

    expect(await sync(id)).toEqual({ created: 0, closed: 0, untouched: 4, reactivated: 0, updated: 0 });

    setStatus('bravo', 'REMEDIATION_COMPLETE');
    add('foxtrot');
    expect(await sync(id)).toEqual({ created: 1, closed: 1, untouched: 3, reactivated: 0, updated: 0 });

    setStatus('bravo', 'NEW');
    expect(await sync(id)).toEqual({ created: 0, closed: 0, untouched: 4, reactivated: 1, updated: 0 });
    const active = await stack.call('GET', `/api/v1/findings?connectorId=${id}&active=true&limit=100`);
    expect(active.body.items.map((f: { title: string }) => f.title).sort()).toEqual(['alpha', 'bravo', 'charlie', 'foxtrot'].map((c) => `CVE-2026-${c} in ${c} 1.0`));
    // Each token served one request: more GETs than tokens means some were answered 401 and repeated with a renewed token.
    const exchanges = fake.state.requests.filter((r) => r.path === '/api/tokens/authenticate').length;
    const gets = fake.state.requests.filter((r) => r.method === 'GET').length;
    expect(exchanges).toBeGreaterThan(0);
    expect(gets).toBeGreaterThan(exchanges);
  }, 120_000);
});
