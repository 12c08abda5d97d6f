import { describe, expect, it } from '@jest/globals';
import { createEdgescanConnector, edgescan } from '../../src/connectors/edgescan/index.js';
import { RESTART_FETCH, type ConnectorConfig, type RecordRef } from '../../src/connectors/types.js';
import { DEFAULT_EDGESCAN_TOKEN, edgescanAsset, edgescanVulnerability, startEdgescanFake, type EdgescanFake } from '../fakes/edgescan.js';
import { FAST_RETRIES, collect, testContext } from './connector-context.js';
import { describeConnectorContract, seededFake } from './http-contract.js';

const connector = createEdgescanConnector(FAST_RETRIES);

/** Three assets; the portal has 30 open and 5 closed vulnerabilities, and one on another asset. */
function seed(fake: EdgescanFake) {
  fake.state.tokens = { [DEFAULT_EDGESCAN_TOKEN]: { vulnerabilities: true } };
  const portal = edgescanAsset('portal');
  const other = edgescanAsset('intranet');
  fake.state.assets = [portal, other, edgescanAsset('mail')];
  fake.state.vulnerabilities = [
    ...Array.from({ length: 30 }, (_, i) => edgescanVulnerability(portal, `Issue ${i}`)),
    ...Array.from({ length: 5 }, (_, i) => edgescanVulnerability(portal, `Fixed ${i}`, { status: 'closed' })),
    edgescanVulnerability(other, 'Elsewhere'),
  ];
  const config: ConnectorConfig<Record<string, never>> = { location: fake.url, secret: DEFAULT_EDGESCAN_TOKEN, settings: {} };
  const record: RecordRef = { externalId: String(portal.id), name: 'portal', metadata: null };
  return { config, record, findings: 30, records: 3, portal };
}

describeConnectorContract('Edgescan', {
  connector,
  start: startEdgescanFake,
  seed,
  findingsPath: '/api/v1/vulnerabilities/export.json',
  checkSeesPermission: false,
  denyPermission: (fake) => (fake.state.tokens[DEFAULT_EDGESCAN_TOKEN] = { vulnerabilities: false }),
  removeRecord: (fake) => (fake.state.assets = fake.state.assets.filter((a) => a.name !== 'portal')),
  rateLimitHeaders: { 'Retry-After': '1' },
});

describe('Edgescan: requests and mapping', () => {
  const env = seededFake(startEdgescanFake, seed);
  const pagesOf = (c = connector) => collect(c.open(env.seeded.config).fetchFindings(env.seeded.record, null, testContext()));
  const fetchAll = async () => (await pagesOf()).flatMap((p) => p.findings);

  it('is the shipped connector, matching on the vulnerability id', () => {
    expect(edgescan).toMatchObject({ tool: 'edgescan', displayName: 'Edgescan', matching: 'unique_id_from_tool' });
  });

  it('discovers assets with their host name', async () => {
    const records = await collect(connector.open(env.seeded.config).discover(testContext()));
    expect(records.find((r) => r.name === 'portal')).toEqual({
      externalId: String(env.seeded.portal.id),
      name: 'portal',
      metadata: { hostname: 'portal.example.com', type: 'app', tags: [] },
    });
  });

  it('exports the open vulnerabilities of the one asset, after confirming the asset exists, with the token header', async () => {
    await fetchAll();
    expect(env.fake.state.requests.map((r) => [r.path, r.query])).toEqual([
      [`/api/v1/assets/${env.seeded.portal.id}.json`, {}],
      ['/api/v1/vulnerabilities/export.json', { 'c[asset_id_in]': String(env.seeded.portal.id), 'c[status]': 'open' }],
    ]);
    expect(env.fake.state.requests[0]!.headers['x-api-token']).toBe('[redacted]');
  });

  it('maps a vulnerability: id as identity, CWE and CVE, CVSS, location as endpoint', async () => {
    const item = edgescanVulnerability(env.seeded.portal, 'SQL injection', { severity: 5, cwes: ['CWE-89'], cves: ['CVE-2024-1234'], cvss_score: 9.8 });
    env.fake.state.vulnerabilities = [item];
    expect(await fetchAll()).toEqual([
      {
        title: 'SQL injection',
        severity: 'Critical',
        description: 'SQL injection was found.',
        mitigation: 'Fix SQL injection.',
        cwes: [89],
        vulnerabilityIds: ['CVE-2024-1234'],
        cvssScore: 9.8,
        cvssVector: item.cvss_vector,
        endpoint: 'https://portal.example.com/login',
        uniqueIdFromTool: String(item.id),
        vulnIdFromTool: '101',
        verified: false,
        falseP: false,
        riskAccepted: false,
        outOfScope: false,
        raw: item,
      },
    ]);
  });

  it('maps severities 1–5 and triage: a false-positive PCI exception → falseP, any other exception → risk accepted', async () => {
    const v = (name: string, fields: object) => edgescanVulnerability(env.seeded.portal, name, fields);
    env.fake.state.vulnerabilities = [1, 2, 3, 4, 5].map((severity) => v(`sev-${severity}`, { severity }));
    env.fake.state.vulnerabilities.push(v('fp', { pci_exception: 'false_positive' }), v('accepted', { pci_exception: 'compensating_control' }));
    const findings = await fetchAll();
    expect(findings.slice(0, 5).map((f) => f.severity)).toEqual(['Info', 'Low', 'Medium', 'High', 'Critical']);
    expect(findings.slice(5).map((f) => [f.title, f.falseP, f.riskAccepted])).toEqual([
      ['fp', true, false],
      ['accepted', false, true],
    ]);
    expect(findings.slice(0, 5).every((f) => !f.falseP && !f.riskAccepted)).toBe(true);
  });

  it('cuts the unpaginated export into bounded pages that ask a retried fetch to start over', async () => {
    expect((await pagesOf()).map((p) => [p.findings.length, p.cursor])).toEqual([[30, null]]);
    env.fake.state.vulnerabilities = Array.from({ length: 1200 }, (_, i) => edgescanVulnerability(env.seeded.portal, `Bulk ${i}`));
    const many = await pagesOf();
    expect(many.map((p) => [p.findings.length, p.cursor])).toEqual([
      [500, RESTART_FETCH],
      [500, RESTART_FETCH],
      [200, null],
    ]);
  });
});
