import { AWS_ACCOUNT, DEFAULT_AWS_SECRET, asffFinding, startAwsFake, type AsffFindingJson, type AwsFake } from '../fakes/aws-security-hub.js';
import { startTestStack, syncCounts, type TestStack } from '../support/stack.js';

let stack: TestStack;
let fake: AwsFake;

beforeAll(async () => {
  stack = await startTestStack();
  fake = await startAwsFake();
});
afterAll(async () => {
  await fake?.close();
  await stack?.stop();
});

const sync = (connectorId: string) => syncCounts(stack, connectorId);

describe('the AWS Security Hub connector, end to end through the API', () => {
  it('checks, discovers the account × region records, then syncs first, identical and churned findings with exact counts', async () => {
    const items = fake.state.findings;
    const add = (title: string, fields: Partial<AsffFindingJson> = {}, region = 'eu-central-1') => items.push(asffFinding(title, fields, region));
    const setResolved = (title: string, resolved: boolean) => (items.find((f) => f.Title === title)!.Workflow = { Status: resolved ? 'RESOLVED' : 'NOTIFIED' });
    for (const title of ['alpha', 'bravo', 'charlie']) add(title);
    add('delta', { VerificationState: 'FALSE_POSITIVE', Workflow: { Status: 'SUPPRESSED' } });
    add('echo', { Workflow: { Status: 'RESOLVED' } });
    add('in us-east-1', {}, 'us-east-1');

    const created = await stack.call('POST', '/api/v1/connectors', {
      tool: 'aws_security_hub',
      label: 'aws-e2e',
      location: fake.url,
      secret: DEFAULT_AWS_SECRET,
      settings: { regions: ['eu-central-1', 'us-east-1'] },
      autoMap: true,
    });
    expect(created.status).toBe(201);
    expect(created.text).not.toContain(DEFAULT_AWS_SECRET.split(':')[1]);
    const id = created.body.id as string;
    expect((await stack.call('POST', `/api/v1/connectors/${id}/check`)).body).toEqual({ ok: true });

    // Two records (one per region); the resolved finding is not current; the false positive arrives triaged.
    expect(await sync(id)).toEqual({ created: 5, closed: 0, untouched: 0, reactivated: 0, updated: 0 });
    const records = await stack.call('GET', `/api/v1/records?connectorId=${id}`);
    expect(records.body.items.map((r: { externalId: string }) => r.externalId).sort()).toEqual([`${AWS_ACCOUNT}/eu-central-1`, `${AWS_ACCOUNT}/us-east-1`]);
    const falsePositives = await stack.call('GET', `/api/v1/findings?connectorId=${id}&falsePositive=true`);
    expect(falsePositives.body.items.map((f: { title: string }) => f.title)).toEqual(['delta']);

    expect(await sync(id)).toEqual({ created: 0, closed: 0, untouched: 5, reactivated: 0, updated: 0 });

    setResolved('bravo', true);
    add('foxtrot');
    expect(await sync(id)).toEqual({ created: 1, closed: 1, untouched: 4, reactivated: 0, updated: 0 });

    setResolved('bravo', false);
    expect(await sync(id)).toEqual({ created: 0, closed: 0, untouched: 5, reactivated: 1, updated: 0 });
    const active = await stack.call('GET', `/api/v1/findings?connectorId=${id}&active=true&limit=100`);
    expect(active.body.items.map((f: { title: string }) => f.title).sort()).toEqual(['alpha', 'bravo', 'charlie', 'foxtrot', 'in us-east-1']);
  }, 120_000);
});

describe('an AWS Security Hub fetch that fails mid-way', () => {
  it('resumes from the NextToken after the last stored page when Temporal retries the fetch', async () => {
    const big = await startAwsFake();
    try {
      big.state.findings = Array.from({ length: 250 }, (_, i) => asffFinding(`finding-${i}`));
      // The second page fails more often than the SDK retries in process, so the activity fails and is retried.
      const secondPage = Buffer.from('offset:100').toString('base64');
      big.inject({ match: '/findings', bodyIncludes: secondPage, times: 3, respond: { status: 502, body: { message: 'Bad Gateway' } } });
      const created = await stack.call('POST', '/api/v1/connectors', { tool: 'aws_security_hub', label: 'aws-big', location: big.url, secret: DEFAULT_AWS_SECRET, settings: { regions: ['eu-central-1'] }, autoMap: true });
      expect(await sync(created.body.id)).toEqual({ created: 250, closed: 0, untouched: 0, reactivated: 0, updated: 0 });
      const tokens = big.state.requests.filter((r) => r.path === '/findings').map((r) => (JSON.parse(r.body) as { NextToken?: string }).NextToken ?? null);
      expect(tokens).toEqual([null, secondPage, secondPage, secondPage, secondPage, Buffer.from('offset:200').toString('base64')]);
    } finally {
      await big.close();
    }
  }, 120_000);
});
