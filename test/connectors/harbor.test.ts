import { describe, expect, it } from '@jest/globals';
import { createHarborConnector, harbor } from '../../src/connectors/harbor/index.js';
import type { ConnectorConfig, RecordRef } from '../../src/connectors/types.js';
import { DEFAULT_HARBOR_ROBOT, DEFAULT_HARBOR_SECRET, harborArtifact, harborVulnerability, startHarborFake, type HarborFake } from '../fakes/harbor.js';
import { FAST_RETRIES, collect, connectorErrorOf, testContext } from './connector-context.js';
import { describeConnectorContract, seededFake } from './http-contract.js';

const connector = createHarborConnector(FAST_RETRIES);
const REPOSITORY = '/api/v2.0/projects/library/repositories/web%252Fshop';

/** Projects "library" (130 repositories: two pages) and "team" (1); library/web/shop's latest image has 40 vulnerabilities. */
function seed(fake: HarborFake) {
  fake.state.robots = { [DEFAULT_HARBOR_ROBOT]: { secret: DEFAULT_HARBOR_SECRET.split(':')[1]!, readArtifacts: true } };
  fake.state.projects = [
    { project_id: 1, name: 'library', cve_allowlist: { items: [] } },
    { project_id: 2, name: 'team', cve_allowlist: { items: [] } },
  ];
  const latest = harborArtifact('v2', '2026-11-02T10:00:00.000Z', Array.from({ length: 40 }, (_, i) => harborVulnerability(`CVE-2026-${1000 + i}`, `pkg-${i}`, '1.0.0')));
  const older = harborArtifact('v1', '2026-10-01T10:00:00.000Z', [harborVulnerability('CVE-2020-0001', 'old', '0.1')]);
  fake.state.repositories = {
    'library/web/shop': [older, latest],
    ...Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`library/image-${i}`, []])),
    'team/api': [harborArtifact('latest', '2026-11-01T00:00:00.000Z')],
  };
  const config: ConnectorConfig<Record<string, never>> = { location: fake.url, secret: DEFAULT_HARBOR_SECRET, settings: {} };
  const record: RecordRef = { externalId: 'library/web/shop', name: 'library/web/shop', metadata: { project: 'library', repository: 'web/shop' } };
  return { config, record, findings: 40, records: 131, latest };
}

describeConnectorContract('Harbor', {
  connector,
  start: startHarborFake,
  seed,
  findingsPath: `${REPOSITORY}/artifacts/sha256`,
  checkSeesPermission: false,
  denyPermission: (fake) => (fake.state.robots[DEFAULT_HARBOR_ROBOT]!.readArtifacts = false),
  removeRecord: (fake) => delete fake.state.repositories['library/web/shop'],
  rateLimitHeaders: { 'Retry-After': '1' },
});

describe('Harbor: requests and mapping', () => {
  const env = seededFake(startHarborFake, seed);
  const fetchAll = async () => (await collect(connector.open(env.seeded.config).fetchFindings(env.seeded.record, null, testContext()))).flatMap((p) => p.findings);

  it('is the shipped connector, matching on a hash of digest, CVE, package and version', () => {
    expect(harbor).toMatchObject({ tool: 'harbor', displayName: 'Harbor', matching: 'hash_code', hashFields: ['endpoint', 'vulnIdFromTool', 'componentName', 'componentVersion'] });
  });

  it('a secret without the robot name is CONFIG_INVALID before anything is sent', async () => {
    const error = await connectorErrorOf(() => connector.open({ ...env.seeded.config, secret: 'justTheRobotSecret00000' }).check(testContext()));
    expect(error.type).toBe('CONFIG_INVALID');
    expect(error.message).not.toContain('justTheRobotSecret');
    expect(env.fake.state.requests).toHaveLength(0);
  });

  it('discovers repositories of every project, with the project and the name inside it', async () => {
    const records = await collect(connector.open(env.seeded.config).discover(testContext()));
    expect(records[0]).toEqual({ externalId: 'library/web/shop', name: 'library/web/shop', metadata: { project: 'library', repository: 'web/shop' } });
    expect(env.fake.state.requests.map((r) => [r.path, r.query.page])).toEqual([
      ['/api/v2.0/projects', '1'],
      ['/api/v2.0/projects/library/repositories', '1'],
      ['/api/v2.0/projects/library/repositories', '2'],
      ['/api/v2.0/projects/team/repositories', '1'],
    ]);
  });

  it('reads the latest artifact’s report, the repository name double-encoded in every path', async () => {
    expect(await fetchAll()).toHaveLength(40);
    const digest = encodeURIComponent(env.seeded.latest.digest);
    expect(env.fake.state.requests.map((r) => [r.path, r.query])).toEqual([
      [REPOSITORY, {}],
      [`${REPOSITORY}/artifacts`, { page: '1', page_size: '1', sort: '-push_time' }],
      ['/api/v2.0/projects/library', {}],
      [`${REPOSITORY}/artifacts/${digest}/additions/vulnerabilities`, {}],
    ]);
    expect(env.fake.state.requests[3]!.headers['x-accept-vulnerabilities']).toContain('application/vnd.security.vulnerability.report; version=1.1');
  });

  it('maps a vulnerability: CVE, package and version, the image digest as endpoint, CVSS v3', async () => {
    const item = harborVulnerability('CVE-2021-44228', 'log4j-core', '2.14.1', { severity: 'Critical', fix_version: '2.15.0' });
    env.fake.state.repositories['library/web/shop'] = [harborArtifact('v3', '2026-11-03T00:00:00.000Z', [item])];
    const digest = env.fake.state.repositories['library/web/shop']![0]!.digest;
    expect(await fetchAll()).toEqual([
      {
        title: 'CVE-2021-44228 in log4j-core 2.14.1',
        severity: 'Critical',
        description: item.description,
        mitigation: 'Upgrade log4j-core to 2.15.0',
        references: (item.links as string[]).join('\n'),
        cwes: [787],
        vulnerabilityIds: ['CVE-2021-44228'],
        cvssScore: 7.5,
        cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N',
        componentName: 'log4j-core',
        componentVersion: '2.14.1',
        endpoint: `library/web/shop@${digest}`,
        vulnIdFromTool: 'CVE-2021-44228',
        verified: false,
        falseP: false,
        riskAccepted: false,
        outOfScope: false,
        raw: { ...item, artifact: { digest, tags: ['v3'] }, allowlisted: false },
      },
    ]);
  });

  it('maps severities; a CVE on the project allowlist is an accepted risk', async () => {
    const v = (id: string, severity: string) => harborVulnerability(id, 'openssl', '3.0.1', { severity });
    const severities = ['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown', 'None'];
    env.fake.state.repositories['library/web/shop'] = [harborArtifact('v3', '2026-11-03T00:00:00.000Z', severities.map((s, i) => v(`CVE-2026-${i}`, s)))];
    env.fake.state.projects[0]!.cve_allowlist.items = [{ cve_id: 'CVE-2026-1' }];
    const findings = await fetchAll();
    expect(findings.map((f) => f.severity)).toEqual(['Critical', 'High', 'Medium', 'Low', 'Info', 'Info', 'Info']);
    expect(findings.map((f) => f.riskAccepted)).toEqual([false, true, false, false, false, false, false]);
  });

  it('a repository without artifacts or without a scan has no findings', async () => {
    env.fake.state.repositories['library/web/shop'] = [harborArtifact('v3', '2026-11-03T00:00:00.000Z')];
    expect(await fetchAll()).toEqual([]);
    env.fake.state.repositories['library/web/shop'] = [];
    expect(await fetchAll()).toEqual([]);
  });
});
