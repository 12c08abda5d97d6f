import { DEFAULT_GITLAB_TOKEN, gitlabProject, gitlabVulnerability, startGitLabFake, type GitLabFake, type GitLabVulnerabilityJson } from '../fakes/gitlab.js';
import { startTestStack, syncCounts, type TestStack } from '../support/stack.js';

let stack: TestStack;
let fake: GitLabFake;

beforeAll(async () => {
  stack = await startTestStack();
  fake = await startGitLabFake();
});
afterAll(async () => {
  await fake?.close();
  await stack?.stop();
});

const sync = (connectorId: string) => syncCounts(stack, connectorId);

describe('the GitLab connector, end to end through the API', () => {
  it('checks, discovers projects, then syncs first, identical and churned vulnerabilities with exact counts', async () => {
    const project = gitlabProject('acme/shop');
    fake.state.projects.push(project);
    const items: GitLabVulnerabilityJson[] = (fake.state.vulnerabilities['acme/shop'] = []);
    const add = (title: string, state = 'DETECTED') => items.push(gitlabVulnerability(project, title, { state }));
    const setState = (title: string, state: string) => (items.find((v) => v.title === title)!.state = state);
    for (const title of ['alpha', 'bravo']) add(title);
    add('charlie', 'CONFIRMED');
    add('echo', 'RESOLVED');

    const created = await stack.call('POST', '/api/v1/connectors', { tool: 'gitlab', label: 'gitlab-e2e', location: fake.url, secret: DEFAULT_GITLAB_TOKEN, autoMap: true });
    expect(created.status).toBe(201);
    expect(created.text).not.toContain(DEFAULT_GITLAB_TOKEN);
    const id = created.body.id as string;
    expect((await stack.call('POST', `/api/v1/connectors/${id}/check`)).body).toEqual({ ok: true });

    // The resolved vulnerability is not asked for; the confirmed one arrives verified.
    expect(await sync(id)).toEqual({ created: 3, closed: 0, untouched: 0, reactivated: 0, updated: 0 });
    const records = await stack.call('GET', `/api/v1/records?connectorId=${id}`);
    expect(records.body.items.map((r: { name: string }) => r.name)).toEqual(['acme/shop']);

    expect(await sync(id)).toEqual({ created: 0, closed: 0, untouched: 3, reactivated: 0, updated: 0 });

    // Dismissed in GitLab: no longer current, so closed; a new one is created.
    setState('bravo', 'DISMISSED');
    add('foxtrot');
    expect(await sync(id)).toEqual({ created: 1, closed: 1, untouched: 2, reactivated: 0, updated: 0 });

    setState('bravo', 'DETECTED');
    expect(await sync(id)).toEqual({ created: 0, closed: 0, untouched: 3, reactivated: 1, updated: 0 });
    const active = await stack.call('GET', `/api/v1/findings?connectorId=${id}&active=true&limit=100`);
    expect(active.body.items.map((f: { title: string }) => f.title).sort()).toEqual(['alpha', 'bravo', 'charlie', 'foxtrot']);
    const verified = active.body.items.filter((f: { verified: boolean }) => f.verified).map((f: { title: string }) => f.title);
    expect(verified).toEqual(['charlie']);
  }, 120_000);
});
