import { DEFAULT_COBALT_SECRET, cobaltAsset, cobaltFinding, startCobaltFake } from '../fakes/cobalt.js';
import { DEFAULT_EDGESCAN_TOKEN, edgescanAsset, edgescanVulnerability, startEdgescanFake } from '../fakes/edgescan.js';
import type { FakeServer, FakeState } from '../fakes/fake-server.js';
import { DEFAULT_SEMGREP_TOKEN, semgrepFinding, semgrepProject, startSemgrepFake } from '../fakes/semgrep.js';
import { startTestStack, syncCounts, type TestStack } from '../support/stack.js';

let stack: TestStack;
const fakes: FakeServer<FakeState>[] = [];

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  for (const fake of fakes) await fake.close();
  await stack?.stop();
});

/** One tool's fake, seeded with one record, and the vendor's ways to report a finding, fix it, and triage it. */
interface ToolUnderTest {
  location: string;
  secret: string;
  /** Adds an open finding, or one the tool reports as a false positive. */
  add(title: string, falsePositive?: boolean): void;
  setFixed(title: string, fixed: boolean): void;
}

const tools: Record<string, () => Promise<ToolUnderTest>> = {
  async semgrep() {
    const fake = await startSemgrepFake();
    fakes.push(fake);
    fake.state.deployments.push({ id: 7, slug: 'acme', name: 'Acme' });
    fake.state.projects.acme = [semgrepProject('acme/shop')];
    const items = (fake.state.findings['acme/shop'] = [] as ReturnType<typeof semgrepFinding>[]);
    return {
      location: fake.url,
      secret: DEFAULT_SEMGREP_TOKEN,
      add: (title, fp) =>
        items.push(semgrepFinding('acme/shop', title, `src/${title}.ts`, fp ? { status: 'ignored', triage_state: 'ignored', triage_reason: 'false_positive' } : {})),
      setFixed: (title, fixed) => Object.assign(items.find((f) => f.rule_name === title)!, fixed ? { status: 'fixed', state: 'fixed' } : { status: 'open', state: 'unresolved' }),
    };
  },
  async edgescan() {
    const fake = await startEdgescanFake();
    fakes.push(fake);
    const asset = edgescanAsset('shop');
    fake.state.assets.push(asset);
    const items = fake.state.vulnerabilities;
    return {
      location: fake.url,
      secret: DEFAULT_EDGESCAN_TOKEN,
      add: (title, fp) => items.push(edgescanVulnerability(asset, title, fp ? { pci_exception: 'false_positive' } : {})),
      setFixed: (title, fixed) => (items.find((v) => v.name === title)!.status = fixed ? 'closed' : 'open'),
    };
  },
  async cobalt() {
    const fake = await startCobaltFake();
    fakes.push(fake);
    const asset = cobaltAsset('shop');
    fake.state.assets.push(asset);
    const items = fake.state.findings;
    return {
      location: fake.url,
      secret: DEFAULT_COBALT_SECRET,
      add: (title, fp) => items.push(cobaltFinding(asset, title, fp ? { state: 'invalid' } : {})),
      setFixed: (title, fixed) => (items.find((f) => f.resource.title === title)!.resource.state = fixed ? 'valid_fix' : 'need_fix'),
    };
  },
};

const sync = (connectorId: string) => syncCounts(stack, connectorId);

describe.each(Object.keys(tools))('the %s connector, end to end through the API', (tool) => {
  it('checks, then syncs first, identical and churned findings with exact counts', async () => {
    const vendor = await tools[tool]!();
    for (const title of ['alpha', 'bravo', 'charlie']) vendor.add(title);
    vendor.add('delta', true);
    vendor.add('echo');
    vendor.setFixed('echo', true);

    const created = await stack.call('POST', '/api/v1/connectors', { tool, label: `${tool}-e2e`, location: vendor.location, secret: vendor.secret, autoMap: true });
    expect(created.status).toBe(201);
    expect(created.text).not.toContain(vendor.secret);
    const id = created.body.id as string;
    expect((await stack.call('POST', `/api/v1/connectors/${id}/check`)).body).toEqual({ ok: true });

    // The fixed finding is not current; the false positive arrives triaged.
    expect(await sync(id)).toEqual({ created: 4, closed: 0, untouched: 0, reactivated: 0, updated: 0 });
    const falsePositives = await stack.call('GET', `/api/v1/findings?connectorId=${id}&falsePositive=true`);
    expect(falsePositives.body.items.map((f: { title: string }) => f.title)).toEqual([expect.stringContaining('delta')]);

    expect(await sync(id)).toEqual({ created: 0, closed: 0, untouched: 4, reactivated: 0, updated: 0 });

    vendor.setFixed('bravo', true);
    vendor.add('foxtrot');
    expect(await sync(id)).toEqual({ created: 1, closed: 1, untouched: 3, reactivated: 0, updated: 0 });

    vendor.setFixed('bravo', false);
    expect(await sync(id)).toEqual({ created: 0, closed: 0, untouched: 4, reactivated: 1, updated: 0 });
    const active = await stack.call('GET', `/api/v1/findings?connectorId=${id}&active=true&limit=100`);
    // The false positive stays inactive: the tool's triage, like a person's, is not an open finding.
    expect(active.body.items.map((f: { title: string }) => f.title).sort()).toEqual(['alpha', 'bravo', 'charlie', 'foxtrot']);
  }, 120_000);
});

describe('a declarative connector whose fetch fails mid-way', () => {
  it('resumes from the page after the last stored one when Temporal retries the fetch', async () => {
    const fake = await startSemgrepFake();
    fakes.push(fake);
    fake.state.deployments.push({ id: 8, slug: 'big', name: 'Big' });
    fake.state.projects.big = [semgrepProject('big/monolith')];
    fake.state.findings['big/monolith'] = Array.from({ length: 600 }, (_, i) => semgrepFinding('big/monolith', `rule-${i}`, `src/file-${i}.ts`));
    // Page 1 fails more often than the HTTP client retries in process, so the activity fails and is retried.
    const findingsPath = '/api/v1/deployments/big/findings';
    fake.inject({ match: findingsPath, query: { page: '1' }, times: 3, respond: { status: 502, body: { error: 'Bad Gateway' } } });

    const created = await stack.call('POST', '/api/v1/connectors', { tool: 'semgrep', label: 'big', location: fake.url, secret: DEFAULT_SEMGREP_TOKEN, autoMap: true });
    expect(await sync(created.body.id)).toEqual({ created: 600, closed: 0, untouched: 0, reactivated: 0, updated: 0 });
    const pages = fake.state.requests.filter((r) => r.path === findingsPath).map((r) => r.query.page);
    expect(pages).toEqual(['0', '1', '1', '1', '1', '2']);
  }, 120_000);
});
