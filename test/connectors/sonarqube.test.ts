import { describe, expect, it } from '@jest/globals';
import { createSonarqubeConnector, sonarqube } from '../../src/connectors/sonarqube/index.js';
import type { ConnectorConfig, FindingPage, RecordRef } from '../../src/connectors/types.js';
import { DEFAULT_SONARQUBE_TOKEN, SONAR_CAP, sonarHotspot, sonarIssue, sonarProject, startSonarqubeFake, type SonarqubeFake } from '../fakes/sonarqube.js';
import { FAST_RETRIES, collect, connectorErrorOf, testContext } from './connector-context.js';
import { describeConnectorContract, seededFake } from './http-contract.js';

const connector = createSonarqubeConnector(FAST_RETRIES);
const ISSUES = '/api/issues/search';
const HOTSPOTS = '/api/hotspots/search';

/** 520 projects (two pages of 500); "shop" has 620 vulnerability issues (20 fixed) and 30 hotspots (5 fixed). */
function seed(fake: SonarqubeFake) {
  fake.state.tokens = [DEFAULT_SONARQUBE_TOKEN];
  fake.state.denied = [];
  fake.state.projects = [sonarProject('shop', 'Shop'), ...Array.from({ length: 519 }, (_, i) => sonarProject(`project-${i}`))];
  fake.state.issues = [
    ...Array.from({ length: 600 }, (_, i) => sonarIssue('shop', `Injection ${i}`)),
    ...Array.from({ length: 20 }, (_, i) => sonarIssue('shop', `Fixed ${i}`, { status: 'RESOLVED', resolution: 'FIXED' })),
    sonarIssue('shop', 'A bug, not a vulnerability', { type: 'BUG' }),
    sonarIssue('project-1', 'Elsewhere'),
  ];
  fake.state.hotspots = [
    ...Array.from({ length: 25 }, (_, i) => sonarHotspot('shop', `Weak hash ${i}`)),
    ...Array.from({ length: 5 }, (_, i) => sonarHotspot('shop', `Fixed hotspot ${i}`, { status: 'REVIEWED', resolution: 'FIXED' })),
  ];
  const config: ConnectorConfig<{ tokenAs: 'bearer' | 'basic' }> = { location: fake.url, secret: DEFAULT_SONARQUBE_TOKEN, settings: { tokenAs: 'bearer' } };
  const record: RecordRef = { externalId: 'shop', name: 'Shop', metadata: {} };
  return { config, record, findings: 625, records: 520 };
}

describeConnectorContract('SonarQube', {
  connector,
  start: startSonarqubeFake,
  seed,
  findingsPath: ISSUES,
  secondPage: { p: '2', ps: '500' },
  // Listing projects needs no permission (it lists those the user may browse): only the issues tell.
  checkSeesPermission: false,
  denyPermission: (fake) => fake.state.denied.push('shop'),
  removeRecord: (fake) => (fake.state.projects = fake.state.projects.filter((p) => p.key !== 'shop')),
  rateLimitHeaders: { 'Retry-After': '1' },
});

describe('SonarQube: requests and mapping', () => {
  const env = seededFake(startSonarqubeFake, seed);
  const pagesOf = (record = env.seeded.record, cursor: FindingPage['cursor'] = null) => collect(connector.open(env.seeded.config).fetchFindings(record, cursor, testContext()));
  const fetchAll = async (record = env.seeded.record) => (await pagesOf(record)).flatMap((p) => p.findings);

  it('is the shipped connector, matching on the issue / hotspot key', () => {
    expect(sonarqube).toMatchObject({ tool: 'sonarqube', displayName: 'SonarQube', matching: 'unique_id_from_tool' });
  });

  it('checks with one small project search; takes the token as the basic-auth user when told to', async () => {
    await connector.open(env.seeded.config).check(testContext());
    expect(env.fake.state.requests).toEqual([expect.objectContaining({ path: '/api/components/search', query: { qualifiers: 'TRK', ps: '1' } })]);
    await connector.open({ ...env.seeded.config, settings: { tokenAs: 'basic' } }).check(testContext());
    const wrong = await connectorErrorOf(() => connector.open({ ...env.seeded.config, secret: 'squ_notAValidToken00000000000', settings: { tokenAs: 'basic' } }).check(testContext()));
    expect(wrong).toMatchObject({ type: 'AUTH_REJECTED', details: { status: 401 } });
    const bad = await connectorErrorOf(() => connector.open({ ...env.seeded.config, settings: { tokenAs: 'cookie' } }).check(testContext()));
    expect(bad.type).toBe('CONFIG_INVALID');
  });

  it('asks for open and resolved vulnerabilities page by page, then the hotspots', async () => {
    const pages = await pagesOf();
    const asked = env.fake.state.requests.map((r) => [r.path, r.query]);
    const issues = { componentKeys: 'shop', types: 'VULNERABILITY', statuses: 'OPEN,CONFIRMED,REOPENED,RESOLVED', s: 'CREATION_DATE', asc: 'true', ps: '500' };
    expect(asked).toEqual([
      [ISSUES, { ...issues, p: '1' }],
      [ISSUES, { ...issues, p: '2' }],
      [HOTSPOTS, { project: 'shop', p: '1', ps: '500' }],
    ]);
    expect(pages.map((p) => p.cursor)).toEqual([expect.objectContaining({ stream: 0 }), { stream: 1, next: null }, null]);
  });

  it('resumes with the hotspots when the issues were all stored', async () => {
    env.fake.state.requests = [];
    const rest = await pagesOf(env.seeded.record, { stream: 1, next: null });
    expect(rest.flatMap((p) => p.findings)).toHaveLength(25);
    expect(env.fake.state.requests.map((r) => r.path)).toEqual([HOTSPOTS]);
  });

  it('discovers projects by key and name', async () => {
    const records = await collect(connector.open(env.seeded.config).discover(testContext()));
    expect(records[0]).toEqual({ externalId: 'shop', name: 'Shop', metadata: {} });
    expect(env.fake.state.requests.map((r) => r.query)).toEqual([
      { qualifiers: 'TRK', p: '1', ps: '500' },
      { qualifiers: 'TRK', p: '2', ps: '500' },
    ]);
  });

  it('maps an issue: key as identity, file from the component, CWE from tags, CVE from the message', async () => {
    const item = sonarIssue('shop', 'Filename: lodash:4.17.15 | Reference: CVE-2021-23337 | CVSS Score: 7.2', { rule: 'dependency-check:HIGH', severity: 'CRITICAL', status: 'CONFIRMED', line: 12 });
    env.fake.state.issues = [item];
    env.fake.state.hotspots = [];
    expect(await fetchAll()).toEqual([
      {
        title: item.message,
        severity: 'High',
        description: item.message,
        cwes: [89],
        vulnerabilityIds: ['CVE-2021-23337'],
        filePath: item.component.slice('shop:'.length),
        line: 12,
        uniqueIdFromTool: item.key,
        vulnIdFromTool: 'dependency-check:HIGH',
        verified: true,
        falseP: false,
        riskAccepted: false,
        outOfScope: false,
        raw: item,
      },
    ]);
  });

  it('maps severities and triage: false positive, won’t fix / accepted, fixed left out; hotspots safe → false positive, fixed left out', async () => {
    const i = (message: string, fields: Parameters<typeof sonarIssue>[2]) => sonarIssue('shop', message, fields);
    env.fake.state.issues = [
      ...['BLOCKER', 'CRITICAL', 'MAJOR', 'MINOR', 'INFO'].map((severity) => i(`sev-${severity}`, { severity })),
      i('impact-only', { severity: undefined, impacts: [{ softwareQuality: 'SECURITY', severity: 'HIGH' }] }),
      i('fp', { status: 'RESOLVED', resolution: 'FALSE-POSITIVE' }),
      i('fp-10.4', { status: 'RESOLVED', resolution: 'FALSE-POSITIVE', issueStatus: 'FALSE_POSITIVE' }),
      i('wontfix', { status: 'RESOLVED', resolution: 'WONTFIX' }),
      i('accepted', { status: 'RESOLVED', resolution: 'WONTFIX', issueStatus: 'ACCEPTED' }),
      i('fixed', { status: 'RESOLVED', resolution: 'FIXED' }),
      i('removed', { status: 'RESOLVED', resolution: 'REMOVED' }),
      i('closed', { status: 'CLOSED', resolution: 'FIXED' }),
    ];
    env.fake.state.hotspots = [
      sonarHotspot('shop', 'to-review', { vulnerabilityProbability: 'HIGH' }),
      sonarHotspot('shop', 'acknowledged', { status: 'REVIEWED', resolution: 'ACKNOWLEDGED', vulnerabilityProbability: 'LOW' }),
      sonarHotspot('shop', 'safe', { status: 'REVIEWED', resolution: 'SAFE' }),
      sonarHotspot('shop', 'hotspot-fixed', { status: 'REVIEWED', resolution: 'FIXED' }),
    ];
    const findings = await fetchAll();
    expect(findings.map((f) => [f.title, f.severity, f.falseP, f.riskAccepted, f.verified])).toEqual([
      ['sev-BLOCKER', 'Critical', false, false, false],
      ['sev-CRITICAL', 'High', false, false, false],
      ['sev-MAJOR', 'Medium', false, false, false],
      ['sev-MINOR', 'Low', false, false, false],
      ['sev-INFO', 'Info', false, false, false],
      ['impact-only', 'High', false, false, false],
      ['fp', 'Medium', true, false, false],
      ['fp-10.4', 'Medium', true, false, false],
      ['wontfix', 'Medium', false, true, false],
      ['accepted', 'Medium', false, true, false],
      ['to-review', 'High', false, false, false],
      ['acknowledged', 'Low', false, false, true],
      ['safe', 'Medium', true, false, false],
    ]);
    // CLOSED issues are not even asked for.
    expect(env.fake.state.requests.find((r) => r.path === ISSUES)!.query.statuses).not.toContain('CLOSED');
  });
});

describe('SonarQube: a project past the 10,000-results cap', () => {
  /** 10,300 MAJOR issues (a week of minutes), 200 CRITICAL, 40 MINOR fixed; 3 hotspots. */
  function seedBig(fake: SonarqubeFake) {
    const base = seed(fake);
    fake.state.projects.push(sonarProject('monolith'));
    fake.state.issues = [
      ...Array.from({ length: 10_300 }, (_, i) => sonarIssue('monolith', `major-${i}`)),
      ...Array.from({ length: 200 }, (_, i) => sonarIssue('monolith', `critical-${i}`, { severity: 'CRITICAL' })),
      ...Array.from({ length: 40 }, (_, i) => sonarIssue('monolith', `minor-fixed-${i}`, { severity: 'MINOR', status: 'RESOLVED', resolution: 'FIXED' })),
    ];
    fake.state.hotspots = Array.from({ length: 3 }, (_, i) => sonarHotspot('monolith', `hotspot-${i}`));
    return { ...base, record: { externalId: 'monolith', name: 'monolith', metadata: {} } };
  }
  const env = seededFake(startSonarqubeFake, seedBig);
  const keys = (pages: FindingPage[]) => pages.flatMap((p) => p.findings.map((f) => f.uniqueIdFromTool));

  it('splits by severity, then by creation date, and yields every item exactly once', async () => {
    const pages = await collect(connector.open(env.seeded.config).fetchFindings(env.seeded.record, null, testContext()));
    const all = keys(pages);
    expect(all).toHaveLength(10_503);
    expect(new Set(all).size).toBe(10_503);
    const issueQueries = env.fake.state.requests.filter((r) => r.path === ISSUES).map((r) => r.query);
    expect(issueQueries.every((q) => Number(q.p) * Number(q.ps) <= SONAR_CAP)).toBe(true);
    expect(issueQueries.some((q) => q.severities === 'MAJOR' && q.createdAfter && q.createdBefore)).toBe(true);
    // CRITICAL fits one query: it is not split by date.
    expect(issueQueries.filter((q) => q.severities === 'CRITICAL').map((q) => [q.p, q.createdAfter])).toEqual([['1', undefined]]);
    expect(pages.at(-1)!.cursor).toBeNull();
  }, 60_000);

  it('resumes inside the split after a failed page: nothing lost, nothing twice', async () => {
    env.fake.inject({ match: ISSUES, query: { severities: 'MAJOR', p: '2' }, times: 3, respond: { status: 502, body: { message: 'Bad Gateway' } } });
    const stored: FindingPage[] = [];
    const error = await connectorErrorOf(
      (async () => {
        for await (const page of connector.open(env.seeded.config).fetchFindings(env.seeded.record, null, testContext())) stored.push(page);
      })(),
    );
    expect(error.type).toBe('TOOL_UNAVAILABLE');
    const cursor = stored.at(-1)!.cursor!;
    expect(JSON.parse(String(cursor.next)).parts[0].query).toMatchObject({ severities: 'MAJOR', createdAfter: expect.any(String) });
    env.fake.state.requests = [];
    const rest = await collect(connector.open(env.seeded.config).fetchFindings(env.seeded.record, cursor, testContext()));
    const all = [...keys(stored), ...keys(rest)];
    expect(all).toHaveLength(10_503);
    expect(new Set(all).size).toBe(10_503);
    expect(env.fake.state.requests[0]!.query).toMatchObject({ severities: 'MAJOR', p: '2' });
  }, 60_000);

  it('fails clearly when one second holds more than 10,000 issues, instead of returning a partial list', async () => {
    const at = '2025-03-01T00:00:00+0000';
    for (const issue of env.fake.state.issues) issue.creationDate = at;
    const error = await connectorErrorOf(() => collect(connector.open(env.seeded.config).fetchFindings(env.seeded.record, null, testContext())));
    expect({ type: error.type, message: error.message }).toMatchObject({ type: 'BAD_TOOL_DATA', message: expect.stringContaining('more than 10000 results') });
  }, 60_000);
});

