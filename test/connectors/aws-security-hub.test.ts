import { describe, expect, it } from '@jest/globals';
import { awsSecurityHub, createAwsSecurityHubConnector } from '../../src/connectors/aws-security-hub/index.js';
import { createOutbound } from '../../src/connectors/http/outbound.js';
import type { ConnectorConfig, RecordRef, StoredCursor } from '../../src/connectors/types.js';
import { AWS_ACCESS_KEY_ID, AWS_ACCOUNT, DEFAULT_AWS_SECRET, asffFinding, seedAwsDefaults, startAwsFake, type AwsFake } from '../fakes/aws-security-hub.js';
import { FAST_RETRIES, collect, connectorErrorOf, testContext } from './connector-context.js';
import { describeConnectorContract, seededFake } from './http-contract.js';

const connector = createAwsSecurityHubConnector(FAST_RETRIES);
const REGION = 'eu-central-1';
const ROLE = `arn:aws:iam::${AWS_ACCOUNT}:role/vulnsync-reader`;

/**
 * Two regions; eu-central-1 has 120 current findings (two GetFindings pages of 100) next to 10 resolved, 5
 * whose compliance check passed and 3 archived ones, and findings of another region and another account.
 */
function seed(fake: AwsFake) {
  seedAwsDefaults(fake.state);
  fake.state.findings = [
    ...Array.from({ length: 120 }, (_, i) => asffFinding(`Finding ${i}`)),
    ...Array.from({ length: 10 }, (_, i) => asffFinding(`Resolved ${i}`, { Workflow: { Status: 'RESOLVED' } })),
    ...Array.from({ length: 5 }, (_, i) => asffFinding(`Passed ${i}`, { Compliance: { Status: 'PASSED' } })),
    ...Array.from({ length: 3 }, (_, i) => asffFinding(`Archived ${i}`, { RecordState: 'ARCHIVED' })),
    asffFinding('Other region', {}, 'us-east-1'),
    asffFinding('Other account', {}, REGION, '210987654321'),
  ];
  const config: ConnectorConfig<{ regions: string[]; roleArn?: string; accountId?: string }> = { location: fake.url, secret: DEFAULT_AWS_SECRET, settings: { regions: [REGION, 'us-east-1'] } };
  const record: RecordRef = { externalId: `${AWS_ACCOUNT}/${REGION}`, name: `AWS ${AWS_ACCOUNT} ${REGION}`, metadata: { accountId: AWS_ACCOUNT, region: REGION } };
  return { config, record, findings: 120, records: 2 };
}

describeConnectorContract('AWS Security Hub', {
  connector,
  start: startAwsFake,
  seed,
  findingsPath: '/findings',
  checkSeesPermission: true,
  denyPermission: (fake) => (fake.state.keys[AWS_ACCESS_KEY_ID]!.getFindings = false),
  removeRecord: (fake) => (fake.state.enabled = fake.state.enabled.filter((pair) => pair !== `${AWS_ACCOUNT}/${REGION}`)),
  wrongSecret: (secret) => `AKIAWRONGKEY00000000:${secret.split(':')[1]}`,
  rateLimitHeaders: { 'Retry-After': '1' },
});

describe('AWS Security Hub: requests and mapping', () => {
  const env = seededFake(startAwsFake, seed);
  const bodies = () => env.fake.state.requests.filter((r) => r.path === '/findings').map((r) => JSON.parse(r.body) as Record<string, unknown>);
  const fetchPages = (config = env.seeded.config, cursor: StoredCursor | null = null) => collect(connector.open(config).fetchFindings(env.seeded.record, cursor, testContext()));
  const fetchAll = async () => (await fetchPages()).flatMap((p) => p.findings);

  it('is the shipped connector, matching on the finding Id', () => {
    expect(awsSecurityHub).toMatchObject({ tool: 'aws_security_hub', displayName: 'AWS Security Hub', matching: 'unique_id_from_tool' });
  });

  it("asks GetFindings for the record's account and region, active and not resolved, 100 a page, following NextToken", async () => {
    const pages = await fetchPages();
    const filters = {
      AwsAccountId: [{ Value: AWS_ACCOUNT, Comparison: 'EQUALS' }],
      Region: [{ Value: REGION, Comparison: 'EQUALS' }],
      RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
      WorkflowStatus: [{ Value: 'RESOLVED', Comparison: 'NOT_EQUALS' }],
    };
    const token = Buffer.from('offset:100').toString('base64');
    expect(bodies()).toEqual([
      { Filters: filters, MaxResults: 100 },
      { Filters: filters, MaxResults: 100, NextToken: token },
    ]);
    expect(pages.map((p) => [p.findings.length, p.cursor])).toEqual([
      [100, { next: token }],
      [20, null],
    ]);
    const signed = env.fake.state.requests[0]!;
    expect(signed.headers).toMatchObject({ authorization: '[redacted]', 'x-amz-date': expect.stringMatching(/^\d{8}T\d{6}Z$/) });
  });

  it('resumes from the NextToken of the last stored page', async () => {
    const token = Buffer.from('offset:100').toString('base64');
    const rest = await fetchPages(env.seeded.config, { next: token });
    expect(rest.flatMap((p) => p.findings)).toHaveLength(20);
    expect(bodies()).toEqual([expect.objectContaining({ NextToken: token })]);
  });

  it('discovers one record per configured region of the account STS names; an account in settings spares the call', async () => {
    const records = await collect(connector.open(env.seeded.config).discover(testContext()));
    expect(records).toEqual([
      { externalId: `${AWS_ACCOUNT}/${REGION}`, name: `AWS ${AWS_ACCOUNT} ${REGION}`, metadata: { accountId: AWS_ACCOUNT, region: REGION } },
      { externalId: `${AWS_ACCOUNT}/us-east-1`, name: `AWS ${AWS_ACCOUNT} us-east-1`, metadata: { accountId: AWS_ACCOUNT, region: 'us-east-1' } },
    ]);
    expect(env.fake.state.requests.map((r) => [r.path, new URLSearchParams(r.body).get('Action')])).toEqual([['/', 'GetCallerIdentity']]);
    env.fake.state.requests = [];
    const named = await collect(connector.open({ ...env.seeded.config, settings: { regions: ['us-east-1'], accountId: '999999999999' } }).discover(testContext()));
    expect(named.map((r) => r.externalId)).toEqual(['999999999999/us-east-1']);
    expect(env.fake.state.requests).toHaveLength(0);
  });

  it('with roleArn, assumes the role and reads with its temporary credentials; a role it may not assume is AUTH_REJECTED', async () => {
    env.fake.state.keys[AWS_ACCESS_KEY_ID]!.getFindings = false;
    env.fake.state.roles[ROLE] = { account: AWS_ACCOUNT, getFindings: true };
    const config = { ...env.seeded.config, settings: { regions: [REGION], roleArn: ROLE } };
    const denied = await connectorErrorOf(fetchPages(config));
    expect(denied).toMatchObject({ type: 'AUTH_REJECTED', details: { status: 403 } });
    expect(denied.message).toContain('sts:AssumeRole');
    env.fake.state.keys[AWS_ACCESS_KEY_ID]!.mayAssume = [ROLE];
    env.fake.state.requests = [];
    expect((await fetchPages(config)).flatMap((p) => p.findings)).toHaveLength(120);
    const assume = new URLSearchParams(env.fake.state.requests[0]!.body);
    expect([assume.get('Action'), assume.get('RoleArn'), assume.get('RoleSessionName')]).toEqual(['AssumeRole', ROLE, 'vulnsync']);
    expect(env.fake.state.requests[1]!.headers['x-amz-security-token']).toMatch(/^tempSession/);
  });

  it('a secret that is not "<access key id>:<secret access key>" is CONFIG_INVALID before anything is sent', async () => {
    const error = await connectorErrorOf(() => connector.open({ ...env.seeded.config, secret: 'justOneLongCredential000' }).check(testContext()));
    expect(error.type).toBe('CONFIG_INVALID');
    expect(error.message).toContain('<access key id>:<secret access key>');
    expect(error.message).not.toContain('justOneLongCredential000');
    expect(env.fake.state.requests).toHaveLength(0);
  });

  it('a rate limit longer than the in-process wait is RATE_LIMITED with the delay for Temporal, waiting for nothing', async () => {
    env.fake.inject({ match: '/findings', respond: { status: 429, headers: { 'Retry-After': '120' }, body: { message: 'Rate exceeded' } } });
    const ctx = testContext();
    const error = await connectorErrorOf(() => collect(connector.open(env.seeded.config).fetchFindings(env.seeded.record, null, ctx)));
    expect(error).toMatchObject({ type: 'RATE_LIMITED', details: { retryAfterMs: 120_000 } });
    expect(ctx.waits).toEqual([]);
  });

  it('never connects to a metadata address, given literally or by a name that resolves there', async () => {
    const literal = await connectorErrorOf(() => connector.open({ ...env.seeded.config, location: 'http://169.254.169.254' }).check(testContext()));
    expect(literal.type).toBe('CONFIG_INVALID');
    const port = new URL(env.fake.url).port;
    const outbound = createOutbound({ lookup: ((_host: string, _options: unknown, callback: (e: null, a: { address: string; family: number }[]) => void) => callback(null, [{ address: '169.254.169.254', family: 4 }])) as never });
    const named = await connectorErrorOf(() => connector.open({ ...env.seeded.config, location: `http://metadata.test:${port}` }).check({ ...testContext(), outbound }));
    expect(named.type).toBe('CONFIG_INVALID');
    expect(named.message).toContain('169.254.0.0/16');
    expect(env.fake.state.requests).toHaveLength(0);
  });

  it("with AWS's own endpoints, asks the SDK's regional Security Hub host, and checks the address it resolves to", async () => {
    const looked: string[] = [];
    const lookup = (host: string, _options: unknown, callback: (e: null, a: { address: string; family: number }[]) => void) => {
      looked.push(host);
      callback(null, [{ address: '169.254.169.254', family: 4 }]);
    };
    const error = await connectorErrorOf(() => connector.open({ ...env.seeded.config, location: 'https://amazonaws.com' }).check({ ...testContext(), outbound: createOutbound({ lookup: lookup as never }) }));
    expect(error.type).toBe('CONFIG_INVALID');
    expect(new Set(looked)).toEqual(new Set([`securityhub.${REGION}.amazonaws.com`]));
  });

  it('maps an ASFF finding: Id as identity, first vulnerability and package, first resource as endpoint', async () => {
    const item = asffFinding('CVE-2026-0001 - openssl', { Severity: { Label: 'CRITICAL' }, VerificationState: 'TRUE_POSITIVE' });
    env.fake.state.findings = [item];
    const vulnerability = (item.Vulnerabilities as { Id: string }[])[0]!;
    expect(await fetchAll()).toEqual([
      {
        title: 'CVE-2026-0001 - openssl',
        severity: 'Critical',
        description: 'CVE-2026-0001 - openssl in a package of the instance.',
        mitigation: 'Update the package.',
        references: 'https://example.com/advisory',
        vulnerabilityIds: [vulnerability.Id],
        cvssScore: 7.5,
        cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N',
        componentName: 'openssl',
        componentVersion: '3.0.1',
        endpoint: (item.Resources as { Id: string }[])[0]!.Id,
        uniqueIdFromTool: item.Id,
        vulnIdFromTool: vulnerability.Id,
        verified: true,
        falseP: false,
        riskAccepted: false,
        outOfScope: false,
        raw: item,
      },
    ]);
  });

  it('maps severity labels (or the normalized score without one) and triage: FALSE_POSITIVE → falseP, SUPPRESSED / BENIGN_POSITIVE → risk accepted, RESOLVED and PASSED left out', async () => {
    env.fake.state.findings = [
      ...['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL'].map((Label) => asffFinding(`sev-${Label}`, { Severity: { Label } })),
      ...[95, 70, 40, 1, 0].map((Normalized) => asffFinding(`score-${Normalized}`, { Severity: { Normalized } })),
      asffFinding('fp', { VerificationState: 'FALSE_POSITIVE', Workflow: { Status: 'SUPPRESSED' } }),
      asffFinding('suppressed', { Workflow: { Status: 'SUPPRESSED' } }),
      asffFinding('benign', { VerificationState: 'BENIGN_POSITIVE' }),
      asffFinding('passed', { Compliance: { Status: 'PASSED' } }),
      asffFinding('failed', { Compliance: { Status: 'FAILED' }, Vulnerabilities: undefined, Severity: { Label: 'MEDIUM' } }),
    ];
    const findings = await fetchAll();
    expect(findings.slice(0, 10).map((f) => f.severity)).toEqual(['Critical', 'High', 'Medium', 'Low', 'Info', 'Critical', 'High', 'Medium', 'Low', 'Info']);
    expect(findings.slice(10).map((f) => [f.title, f.falseP, f.riskAccepted, f.vulnIdFromTool === 'AWSInspector'])).toEqual([
      ['fp', true, false, false],
      ['suppressed', false, true, false],
      ['benign', false, true, false],
      ['failed', false, false, true],
    ]);
  });

  it('a finding without Id or Title is BAD_TOOL_DATA', async () => {
    env.fake.state.findings = [{ ...asffFinding('x'), Id: '' }];
    expect((await connectorErrorOf(fetchAll())).type).toBe('BAD_TOOL_DATA');
  });
});
