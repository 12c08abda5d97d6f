import { describe, expect, it } from '@jest/globals';
import { createGitLabConnector, gitlab, VULNERABILITIES_QUERY } from '../../src/connectors/gitlab/index.js';
import type { ConnectorConfig, FindingPage, RecordRef } from '../../src/connectors/types.js';
import { DEFAULT_GITLAB_TOKEN, gitlabProject, gitlabVulnerability, startGitLabFake, type GitLabFake } from '../fakes/gitlab.js';
import { FAST_RETRIES, collect, connectorErrorOf, testContext } from './connector-context.js';
import { describeConnectorContract, seededFake } from './http-contract.js';

const connector = createGitLabConnector(FAST_RETRIES);

/** 150 projects (two keyset pages of 100); acme/web has 130 vulnerabilities, 10 of them resolved. */
function seed(fake: GitLabFake) {
  fake.state.tokens = { [DEFAULT_GITLAB_TOKEN]: { readApi: true } };
  fake.state.reporterOf = [];
  const web = gitlabProject('acme/web');
  fake.state.projects = [web, ...Array.from({ length: 149 }, (_, i) => gitlabProject(`acme/project-${i}`))];
  fake.state.vulnerabilities = {
    'acme/web': [
      ...Array.from({ length: 120 }, (_, i) => gitlabVulnerability(web, `Finding ${i}`, { state: i % 2 ? 'CONFIRMED' : 'DETECTED' })),
      ...Array.from({ length: 10 }, (_, i) => gitlabVulnerability(web, `Resolved ${i}`, { state: 'RESOLVED' })),
    ],
    'acme/project-0': [gitlabVulnerability(fake.state.projects[1]!, 'Elsewhere')],
  };
  const config: ConnectorConfig<Record<string, never>> = { location: fake.url, secret: DEFAULT_GITLAB_TOKEN, settings: {} };
  const record: RecordRef = { externalId: String(web.id), name: 'acme/web', metadata: { fullPath: 'acme/web' } };
  return { config, record, findings: 120, records: 150, web };
}

describeConnectorContract('GitLab', {
  connector,
  start: startGitLabFake,
  seed,
  findingsPath: '/api/graphql',
  checkSeesPermission: true,
  denyPermission: (fake) => (fake.state.tokens[DEFAULT_GITLAB_TOKEN] = { readApi: false }),
  removeRecord: (fake) => (fake.state.projects = fake.state.projects.filter((p) => p.path_with_namespace !== 'acme/web')),
  rateLimitHeaders: { 'Retry-After': '1' },
});

describe('GitLab: requests and mapping', () => {
  const env = seededFake(startGitLabFake, seed);
  const fetchAll = async () => (await collect(connector.open(env.seeded.config).fetchFindings(env.seeded.record, null, testContext()))).flatMap((p) => p.findings);
  const graphqlBodies = () => env.fake.state.requests.filter((r) => r.path === '/api/graphql').map((r) => r.json as { query: string; variables: Record<string, unknown> });

  it('is the shipped connector, matching on the vulnerability id', () => {
    expect(gitlab).toMatchObject({ tool: 'gitlab', displayName: 'GitLab', matching: 'unique_id_from_tool' });
  });

  it('sends the token as PRIVATE-TOKEN, or an OAuth token as Bearer', async () => {
    await connector.open(env.seeded.config).check(testContext());
    expect(env.fake.state.requests[0]).toMatchObject({ path: '/api/v4/projects', query: { membership: 'true', per_page: '1' }, headers: { 'private-token': '[redacted]' } });
    env.fake.state.tokens['oauthAccessToken0000000000'] = { readApi: true };
    await connector.open({ ...env.seeded.config, secret: 'Bearer oauthAccessToken0000000000' }).check(testContext());
    expect(env.fake.state.requests[1]!.headers).toMatchObject({ authorization: '[redacted]' });
    expect(env.fake.state.requests[1]!.headers['private-token']).toBeUndefined();
  });

  it('discovers member projects with keyset paging, following the Link header', async () => {
    const records = await collect(connector.open(env.seeded.config).discover(testContext()));
    expect(records[0]).toEqual({ externalId: String(env.seeded.web.id), name: 'acme/web', metadata: { fullPath: 'acme/web', webUrl: env.seeded.web.web_url } });
    const listed = env.fake.state.requests.map((r) => r.query);
    const keyset = { membership: 'true', pagination: 'keyset', order_by: 'id', sort: 'asc', per_page: '100' };
    expect(listed).toEqual([keyset, { ...keyset, id_after: String(records[99]!.externalId) }]);
  });

  it('asks GraphQL for detected and confirmed vulnerabilities, 100 at a time, sending each endCursor back as `after`', async () => {
    expect(await fetchAll()).toHaveLength(120);
    const bodies = graphqlBodies();
    expect(bodies.map((b) => b.query)).toEqual([VULNERABILITIES_QUERY, VULNERABILITIES_QUERY]);
    expect(VULNERABILITIES_QUERY).toContain('vulnerabilities(first: 100, after: $after, state: [DETECTED, CONFIRMED])');
    expect(bodies.map((b) => b.variables)).toEqual([
      { fullPath: 'acme/web', after: null },
      { fullPath: 'acme/web', after: Buffer.from('offset:100').toString('base64') },
    ]);
    expect(env.fake.state.requests[0]).toMatchObject({ method: 'GET', path: `/api/v4/projects/${env.seeded.web.id}` });
  });

  it('resumes after the last stored page when a later GraphQL page failed', async () => {
    const second = Buffer.from('offset:100').toString('base64');
    env.fake.inject({ match: '/api/graphql', body: { 'variables.after': second }, times: 3, respond: { status: 502, body: { message: 'Bad Gateway' } } });
    const stored: FindingPage[] = [];
    const error = await connectorErrorOf(
      (async () => {
        for await (const page of connector.open(env.seeded.config).fetchFindings(env.seeded.record, null, testContext())) stored.push(page);
      })(),
    );
    expect(error.type).toBe('TOOL_UNAVAILABLE');
    expect(stored.map((p) => [p.findings.length, p.cursor])).toEqual([[100, { stream: 0, next: second }]]);
    env.fake.state.requests = [];
    const rest = (await collect(connector.open(env.seeded.config).fetchFindings(env.seeded.record, stored[0]!.cursor, testContext()))).flatMap((p) => p.findings);
    expect(new Set([...stored[0]!.findings, ...rest].map((f) => f.uniqueIdFromTool)).size).toBe(120);
    expect(graphqlBodies().map((b) => b.variables.after)).toEqual([second]);
  });

  it('a project GraphQL no longer shows (renamed, access lost) is BAD_TOOL_DATA, never an empty list that would close everything', async () => {
    const error = await connectorErrorOf(() => collect(connector.open(env.seeded.config).fetchFindings({ ...env.seeded.record, metadata: { fullPath: 'acme/old-name' } }, null, testContext())));
    expect(error.type).toBe('BAD_TOOL_DATA');
  });

  it('a role without the vulnerability report (GraphQL answers null) is BAD_TOOL_DATA, never an empty list', async () => {
    env.fake.state.reporterOf = ['acme/web'];
    const error = await connectorErrorOf(fetchAll());
    expect(error.type).toBe('BAD_TOOL_DATA');
    expect(error.message).toContain('data.project.vulnerabilities.nodes');
  });

  it('maps a vulnerability: global id as identity, CWE and CVE from the identifiers, file and line, dependency, link', async () => {
    const item = gitlabVulnerability(env.seeded.web, 'lodash prototype pollution', {
      severity: 'CRITICAL',
      state: 'CONFIRMED',
      primaryIdentifier: { externalType: 'cve', externalId: 'CVE-2021-23337', name: 'CVE-2021-23337' },
      identifiers: [
        { externalType: 'cve', externalId: 'CVE-2021-23337', name: 'CVE-2021-23337' },
        { externalType: 'ghsa', externalId: 'GHSA-35jh-r3h4-6jhm', name: 'GHSA-35jh-r3h4-6jhm' },
        { externalType: 'cwe', externalId: '94', name: 'CWE-94' },
      ],
      location: { file: 'package-lock.json', dependency: { package: { name: 'lodash' }, version: '4.17.15' } },
    });
    env.fake.state.vulnerabilities = { 'acme/web': [item] };
    expect(await fetchAll()).toEqual([
      {
        title: 'lodash prototype pollution',
        severity: 'Critical',
        description: 'lodash prototype pollution found by SAST.',
        mitigation: 'Validate the input.',
        references: item.webUrl,
        filePath: 'package-lock.json',
        line: null,
        componentName: 'lodash',
        componentVersion: '4.17.15',
        endpoint: null,
        cwes: [94],
        vulnerabilityIds: ['CVE-2021-23337', 'GHSA-35jh-r3h4-6jhm'],
        uniqueIdFromTool: item.id,
        vulnIdFromTool: 'CVE-2021-23337',
        verified: true,
        falseP: false,
        riskAccepted: false,
        outOfScope: false,
        raw: item,
      },
    ]);
  });

  it('maps severities, DAST and container locations, and dismissal reasons when present', async () => {
    const v = (title: string, fields: Parameters<typeof gitlabVulnerability>[2]) => gitlabVulnerability(env.seeded.web, title, fields);
    env.fake.state.vulnerabilities = {
      'acme/web': [
        ...['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO', 'UNKNOWN'].map((severity) => v(`sev-${severity}`, { severity })),
        v('dast', { location: { hostname: 'https://shop.example', path: '/login' } }),
        v('image', { location: { image: 'registry.example/shop:1.2', dependency: { package: { name: 'openssl' }, version: '3.0.1' } } }),
        v('fp', { dismissalReason: 'FALSE_POSITIVE' }),
        v('accepted', { dismissalReason: 'ACCEPTABLE_RISK' }),
        v('mitigated', { dismissalReason: 'MITIGATING_CONTROL' }),
        v('tests', { dismissalReason: 'USED_IN_TESTS' }),
        v('dismissed', { state: 'DISMISSED' }),
      ],
    };
    const findings = await fetchAll();
    expect(findings.slice(0, 6).map((f) => f.severity)).toEqual(['Critical', 'High', 'Medium', 'Low', 'Info', 'Info']);
    expect(findings.slice(6, 8).map((f) => [f.endpoint, f.componentName])).toEqual([
      ['https://shop.example/login', null],
      ['registry.example/shop:1.2', 'openssl'],
    ]);
    expect(findings.slice(8).map((f) => [f.title, f.falseP, f.riskAccepted, f.outOfScope])).toEqual([
      ['fp', true, false, false],
      ['accepted', false, true, false],
      ['mitigated', false, true, false],
      ['tests', false, false, true],
    ]);
  });
});
