import { describe, expect, it } from '@jest/globals';
import { createSnykConnector, snyk, SNYK_DEFAULT_VERSION } from '../../src/connectors/snyk/index.js';
import type { ConnectorConfig, RecordRef } from '../../src/connectors/types.js';
import { DEFAULT_SNYK_ORG, DEFAULT_SNYK_TOKEN, ignoreSnykIssue, snykIssue, snykProject, startSnykFake, type SnykFake, type SnykIssueJson } from '../fakes/snyk.js';
import { FAST_RETRIES, collect, connectorErrorOf, testContext } from './connector-context.js';
import { describeConnectorContract, seededFake } from './http-contract.js';

const connector = createSnykConnector(FAST_RETRIES);
const cursorAt = (offset: number) => Buffer.from(String(offset)).toString('base64url');

/** 120 projects (two pages of 100); the web app has 130 issues, 10 of them resolved. */
function seed(fake: SnykFake) {
  fake.state.tokens = { [DEFAULT_SNYK_TOKEN]: { orgs: [DEFAULT_SNYK_ORG], issues: true } };
  fake.state.ignores = {};
  const web = snykProject('acme/webapp:package.json');
  const projects = (fake.state.projects[DEFAULT_SNYK_ORG] = [web, ...Array.from({ length: 119 }, (_, i) => snykProject(`acme/repo-${i}:package.json`))]);
  fake.state.issues[DEFAULT_SNYK_ORG] = [
    ...Array.from({ length: 120 }, (_, i) => snykIssue(web, `Issue ${i}`)),
    ...Array.from({ length: 10 }, (_, i) => snykIssue(web, `Resolved ${i}`, { status: 'resolved' })),
    snykIssue(projects[1]!, 'Elsewhere'),
  ];
  const config: ConnectorConfig<{ orgId: string; version: string }> = { location: fake.url, secret: DEFAULT_SNYK_TOKEN, settings: { orgId: DEFAULT_SNYK_ORG, version: SNYK_DEFAULT_VERSION } };
  const record: RecordRef = { externalId: web.id, name: web.attributes.name, metadata: null };
  return { config, record, findings: 120, records: 120, web };
}

describeConnectorContract('Snyk', {
  connector,
  start: startSnykFake,
  seed,
  findingsPath: `/rest/orgs/${DEFAULT_SNYK_ORG}/issues`,
  secondPage: { starting_after: cursorAt(100), limit: '100' },
  checkSeesPermission: true,
  denyPermission: (fake) => (fake.state.tokens[DEFAULT_SNYK_TOKEN]!.issues = false),
  removeRecord: (fake) => (fake.state.projects[DEFAULT_SNYK_ORG] = fake.state.projects[DEFAULT_SNYK_ORG]!.filter((p) => !p.attributes.name.includes('webapp'))),
  rateLimitHeaders: { 'Retry-After': '1' },
});

describe('Snyk: requests and mapping', () => {
  const env = seededFake(startSnykFake, seed);
  const fetchAll = async () => (await collect(connector.open(env.seeded.config).fetchFindings(env.seeded.record, null, testContext()))).flatMap((p) => p.findings);
  const only = (...issues: SnykIssueJson[]) => (env.fake.state.issues[DEFAULT_SNYK_ORG] = issues);

  it('is the shipped connector, matching on the issue id', () => {
    expect(snyk).toMatchObject({ tool: 'snyk', displayName: 'Snyk', matching: 'unique_id_from_tool' });
  });

  it('sends "Authorization: token", the JSON:API media type and the version; checks through the issues listing', async () => {
    await connector.open(env.seeded.config).check(testContext());
    expect(env.fake.state.requests[0]).toMatchObject({ path: `/rest/orgs/${DEFAULT_SNYK_ORG}/issues`, query: { version: SNYK_DEFAULT_VERSION, limit: '10' } });
    expect(env.fake.state.requests[0]!.headers).toMatchObject({ authorization: '[redacted]', accept: 'application/vnd.api+json' });
  });

  it('settings: the version defaults to 2024-10-15; an organization id is required and a version must be a date', async () => {
    await connector.open({ ...env.seeded.config, settings: { orgId: DEFAULT_SNYK_ORG } as never }).check(testContext());
    expect(env.fake.state.requests[0]!.query.version).toBe('2024-10-15');
    await connector.open({ ...env.seeded.config, settings: { orgId: DEFAULT_SNYK_ORG, version: '2025-01-22~beta' } }).check(testContext());
    expect(env.fake.state.requests[1]!.query.version).toBe('2025-01-22~beta');
    expect(await connectorErrorOf(() => connector.open({ ...env.seeded.config, settings: {} }).check(testContext()))).toMatchObject({ type: 'CONFIG_INVALID' });
    const badVersion = await connectorErrorOf(() => connector.open({ ...env.seeded.config, settings: { orgId: DEFAULT_SNYK_ORG, version: 'latest' } }).check(testContext()));
    expect(badVersion.type).toBe('CONFIG_INVALID');
    expect(badVersion.message).toContain('version');
    expect(env.fake.state.requests).toHaveLength(2);
  });

  it('an ignore of another issue of the same project leaves this one open', async () => {
    const open = snykIssue(env.seeded.web, 'open');
    only(open, ignoreSnykIssue(env.fake.state, snykIssue(env.seeded.web, 'other'), 'not-vulnerable'));
    expect((await fetchAll()).map((f) => [f.title, f.falseP, f.riskAccepted])).toEqual([
      ['open', false, false],
      ['other', true, false],
    ]);
  });

  it('an organization the token cannot see is AUTH_REJECTED (403)', async () => {
    env.fake.state.tokens[DEFAULT_SNYK_TOKEN]!.orgs = [];
    expect(await connectorErrorOf(() => connector.open(env.seeded.config).check(testContext()))).toMatchObject({ type: 'AUTH_REJECTED', details: { status: 403 } });
  });

  it("reads the project's ignores, then follows links.next with the scan item filter, the version and a limit of 100", async () => {
    await fetchAll();
    expect(env.fake.state.requests.map((r) => [r.path, r.query])).toEqual([
      [`/v1/org/${DEFAULT_SNYK_ORG}/project/${env.seeded.web.id}/ignores`, {}],
      ...[{}, { starting_after: cursorAt(100) }].map((page) => [
        `/rest/orgs/${DEFAULT_SNYK_ORG}/issues`,
        { version: SNYK_DEFAULT_VERSION, limit: '100', 'scan_item.id': env.seeded.web.id, 'scan_item.type': 'project', ...page },
      ]),
    ]);
  });

  it('discovers projects by id and name, with their type and target reference', async () => {
    const records = await collect(connector.open(env.seeded.config).discover(testContext()));
    expect(records[0]).toEqual({ externalId: env.seeded.web.id, name: 'acme/webapp:package.json', metadata: { type: 'npm', targetReference: 'main' } });
  });

  it('maps a package vulnerability: issue id as identity, advisory key, CVEs, CWE, package, Snyk’s CVSS', async () => {
    const item = snykIssue(env.seeded.web, 'Prototype Pollution', { effective_severity_level: 'critical' });
    only(item);
    const n = Number(item.attributes.key.split('-').at(-1)) - 1000;
    expect(await fetchAll()).toEqual([
      {
        title: 'Prototype Pollution',
        severity: 'Critical',
        description: null,
        cwes: [79],
        vulnerabilityIds: [item.attributes.key, `CVE-2026-${10000 + n}`],
        references: `https://nvd.example/CVE-2026-${10000 + n}`,
        cvssScore: 8.1,
        cvssVector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H',
        componentName: `pkg-${n}`,
        componentVersion: '1.2.3',
        filePath: null,
        line: null,
        uniqueIdFromTool: item.id,
        vulnIdFromTool: item.attributes.key,
        verified: false,
        falseP: false,
        riskAccepted: false,
        outOfScope: false,
        raw: item,
      },
    ]);
  });

  it('maps a Snyk Code issue to its file and line', async () => {
    only(
      snykIssue(env.seeded.web, 'SQL Injection', {
        type: 'code',
        coordinates: [{ representations: [{ sourceLocation: { file: 'src/db.ts', commit_id: 'abc', region: { start: { line: 42, column: 3 }, end: { line: 42, column: 9 } } } }] }],
        severities: [],
      }),
    );
    expect(await fetchAll()).toEqual([expect.objectContaining({ filePath: 'src/db.ts', line: 42, componentName: null, cvssScore: null })]);
  });

  it('maps severities (unknown → Info) and ignores: not vulnerable → false positive, any other → risk accepted; resolved left out', async () => {
    const ignored = (title: string, reason: Parameters<typeof ignoreSnykIssue>[2]) => ignoreSnykIssue(env.fake.state, snykIssue(env.seeded.web, title), reason);
    only(
      ...['critical', 'high', 'medium', 'low', 'info', 'whatever'].map((level) => snykIssue(env.seeded.web, `sev-${level}`, { effective_severity_level: level })),
      ignored('not-vulnerable', 'not-vulnerable'),
      ignored('wont-fix', 'wont-fix'),
      ignored('temporary', 'temporary-ignore'),
      // A Snyk Code ignore is not among the v1 ignores: still a person's choice not to fix it.
      snykIssue(env.seeded.web, 'code-ignore', { ignored: true }),
      snykIssue(env.seeded.web, 'resolved', { status: 'resolved' }),
      ignored('resolved-ignored', 'not-vulnerable'),
    );
    env.fake.state.issues[DEFAULT_SNYK_ORG]!.at(-1)!.attributes.status = 'resolved';
    const findings = await fetchAll();
    expect(findings.map((f) => [f.title, f.severity, f.riskAccepted, f.falseP])).toEqual([
      ['sev-critical', 'Critical', false, false],
      ['sev-high', 'High', false, false],
      ['sev-medium', 'Medium', false, false],
      ['sev-low', 'Low', false, false],
      ['sev-info', 'Info', false, false],
      ['sev-whatever', 'Info', false, false],
      ['not-vulnerable', 'High', false, true],
      ['wont-fix', 'High', true, false],
      ['temporary', 'High', true, false],
      ['code-ignore', 'High', true, false],
    ]);
  });
});
