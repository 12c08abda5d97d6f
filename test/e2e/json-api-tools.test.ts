import { DEFAULT_BUGCROWD_TOKEN, bugcrowdProgram, bugcrowdSubmission, startBugcrowdFake } from '../fakes/bugcrowd.js';
import { DEFAULT_SNYK_ORG, DEFAULT_SNYK_TOKEN, ignoreSnykIssue, snykIssue, snykProject, startSnykFake } from '../fakes/snyk.js';
import { describeToolSyncs, endToEnd, type ToolUnderTest } from '../support/tool-sync.js';

/** The tools that page by JSON:API `links.next`, synced end to end through the API against their fakes. */
const e2e = endToEnd();

const tools: Record<string, () => Promise<ToolUnderTest>> = {
  async snyk() {
    const fake = await startSnykFake();
    e2e.fakes.push(fake);
    const project = snykProject('acme/shop:package.json');
    fake.state.projects[DEFAULT_SNYK_ORG]!.push(project);
    const items = fake.state.issues[DEFAULT_SNYK_ORG]!;
    return {
      location: fake.url,
      secret: DEFAULT_SNYK_TOKEN,
      settings: { orgId: DEFAULT_SNYK_ORG },
      add: (title, fp) => {
        const issue = snykIssue(project, title);
        items.push(fp ? ignoreSnykIssue(fake.state, issue, 'not-vulnerable') : issue);
      },
      setFixed: (title, fixed) => (items.find((i) => i.attributes.title === title)!.attributes.status = fixed ? 'resolved' : 'open'),
    };
  },
  async bugcrowd() {
    const fake = await startBugcrowdFake();
    e2e.fakes.push(fake);
    const program = bugcrowdProgram('Acme Shop');
    fake.state.programs.push(program);
    const items = fake.state.submissions;
    return {
      location: fake.url,
      secret: DEFAULT_BUGCROWD_TOKEN,
      add: (title, fp) => items.push(bugcrowdSubmission(program, title, fp ? { state: 'not_applicable' } : {})),
      setFixed: (title, fixed) => (items.find((s) => s.attributes.title === title)!.attributes.state = fixed ? 'resolved' : 'unresolved'),
    };
  },
};

describeToolSyncs(e2e, tools);

it('lists Snyk with its settings: the organization id required, the API version a date with a default', async () => {
  const tools = await e2e.stack.call('GET', '/api/v1/tools');
  const snyk = tools.body.items.find((t: { tool: string }) => t.tool === 'snyk');
  expect(snyk).toMatchObject({ displayName: 'Snyk', matching: 'unique_id_from_tool' });
  expect(snyk.settingsSchema.required).toEqual(['orgId']);
  expect(snyk.settingsSchema.properties.version).toMatchObject({ type: 'string', default: '2024-10-15' });
  const created = await e2e.stack.call('POST', '/api/v1/connectors', { tool: 'snyk', label: 'no-org', location: 'https://api.snyk.io', secret: DEFAULT_SNYK_TOKEN, settings: {} });
  expect(created.status).toBe(400);
});
