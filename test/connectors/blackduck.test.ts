import { describe, expect, it } from '@jest/globals';
import { blackDuck, createBlackDuckConnector } from '../../src/connectors/blackduck/index.js';
import type { ConnectorConfig, RecordRef } from '../../src/connectors/types.js';
import { DEFAULT_BLACKDUCK_API_TOKEN, blackDuckProject, blackDuckVulnerability, startBlackDuckFake, type BlackDuckFake } from '../fakes/blackduck.js';
import { FAST_RETRIES, collect, connectorErrorOf, testContext } from './connector-context.js';
import { describeConnectorContract, seededFake } from './http-contract.js';

const connector = createBlackDuckConnector(FAST_RETRIES);
const BOM_MEDIA_TYPE = 'application/vnd.blackducksoftware.bill-of-materials-6+json';
const SHOP_ID = '5b1e0c52-6a8e-4c1f-9d52-0f4be0a1c001';
const VERSION_ID = '9a7d3f10-2b4c-4e8a-b6f1-3c2d1e0f9002';
const FINDINGS_PATH = `/api/projects/${SHOP_ID}/versions/${VERSION_ID}/vulnerable-bom-components`;

/** 111 projects (two pages of 100); "shop" has versions 1.0 and 2.0 (112 records); shop 1.0 has 130 vulnerable components, 10 of them patched. */
function seed(fake: BlackDuckFake) {
  Object.assign(fake.state, { tokenLifetimeMs: 7_200_000, usesPerToken: undefined, bomAccess: true, issued: new Map() });
  const shop = { ...blackDuckProject('shop', ['1.0', '2.0']), id: SHOP_ID };
  shop.versions[0]!.id = VERSION_ID;
  fake.state.projects = [shop, ...Array.from({ length: 110 }, (_, i) => blackDuckProject(`project-${i}`, ['main']))];
  const version = shop.versions[0]!;
  fake.state.bom = {
    [version.id]: [
      ...Array.from({ length: 120 }, (_, i) => blackDuckVulnerability(`lib-${i}`, '1.2.3', `CVE-2026-${1000 + i}`)),
      ...Array.from({ length: 10 }, (_, i) => blackDuckVulnerability(`patched-${i}`, '1.0.0', `CVE-2026-${2000 + i}`, { remediationStatus: 'PATCHED' })),
    ],
    [shop.versions[1]!.id]: [blackDuckVulnerability('elsewhere', '9.9.9', 'BDSA-2026-0001')],
  };
  const config: ConnectorConfig<Record<string, never>> = { location: fake.url, secret: DEFAULT_BLACKDUCK_API_TOKEN, settings: {} };
  const record: RecordRef = { externalId: version.id, name: 'shop 1.0', metadata: { projectId: shop.id } };
  return { config, record, findings: 120, records: 112, shop };
}

describeConnectorContract('Black Duck', {
  connector,
  start: startBlackDuckFake,
  seed,
  findingsPath: FINDINGS_PATH,
  secondPage: { offset: '100', limit: '100' },
  checkRequests: 2,
  checkSeesPermission: false,
  denyPermission: (fake) => (fake.state.bomAccess = false),
  removeRecord: (fake) => (fake.state.projects[0]!.versions = fake.state.projects[0]!.versions.slice(1)),
  rateLimitHeaders: { 'Retry-After': '1' },
});

describe('Black Duck: token exchange, requests and mapping', () => {
  const env = seededFake(startBlackDuckFake, seed);
  const fetchAll = async () => (await collect(connector.open(env.seeded.config).fetchFindings(env.seeded.record, null, testContext()))).flatMap((p) => p.findings);
  const calls = () => env.fake.state.requests.map((r) => `${r.method} ${r.path}${r.query.offset ? `@${r.query.offset}` : ''}`.replace(FINDINGS_PATH, '/bom'));

  it('is the shipped connector, matching on component version and vulnerability', () => {
    expect(blackDuck).toMatchObject({ tool: 'blackduck', displayName: 'Black Duck', matching: 'unique_id_from_tool' });
  });

  it('exchanges the API token once for a bearer token that serves a whole fetch while it lives', async () => {
    await connector.open(env.seeded.config).check(testContext());
    expect(env.fake.state.requests.map((r) => [r.method, r.path, r.query])).toEqual([
      ['POST', '/api/tokens/authenticate', {}],
      ['GET', '/api/projects', { limit: '1' }],
    ]);
    env.fake.state.requests = [];
    expect(await fetchAll()).toHaveLength(120);
    expect(calls()).toEqual(['POST /api/tokens/authenticate', 'GET /bom@0', 'GET /bom@100']);
    expect(env.fake.state.requests[1]!.headers.accept).toBe(BOM_MEDIA_TYPE);
  });

  it('renews the bearer token before each request when the tool says it has already expired', async () => {
    env.fake.state.tokenLifetimeMs = 0;
    expect(await fetchAll()).toHaveLength(120);
    expect(calls()).toEqual(['POST /api/tokens/authenticate', 'GET /bom@0', 'POST /api/tokens/authenticate', 'GET /bom@100']);
  });

  it('renews once on a 401 mid-fetch (a token revoked or expired early) and goes on with the new token', async () => {
    env.fake.state.usesPerToken = 1;
    expect(await fetchAll()).toHaveLength(120);
    expect(calls()).toEqual(['POST /api/tokens/authenticate', 'GET /bom@0', 'GET /bom@100', 'POST /api/tokens/authenticate', 'GET /bom@100']);
  });

  it('a bearer token rejected again right after renewal is AUTH_REJECTED, without a loop', async () => {
    env.fake.state.usesPerToken = 0;
    const error = await connectorErrorOf(fetchAll());
    expect(error).toMatchObject({ type: 'AUTH_REJECTED', details: { status: 401 } });
    expect(calls()).toEqual(['POST /api/tokens/authenticate', 'GET /bom@0', 'POST /api/tokens/authenticate', 'GET /bom@0']);
  });

  it('never repeats the API token, even when the tool echoes it in an error', async () => {
    env.fake.inject({ match: FINDINGS_PATH, respond: { status: 400, body: { errorMessage: `bad request for token ${DEFAULT_BLACKDUCK_API_TOKEN}` } } });
    const error = await connectorErrorOf(fetchAll());
    expect(error.type).toBe('CONFIG_INVALID');
    expect(error.message).toContain('token [redacted]');
    expect(error.message).not.toContain(DEFAULT_BLACKDUCK_API_TOKEN);
  });

  it('discovers every project version as a record named "project version", with the project id to fetch it', async () => {
    const records = await collect(connector.open(env.seeded.config).discover(testContext()));
    const { shop } = env.seeded;
    expect(records.slice(0, 2)).toEqual([
      { externalId: VERSION_ID, name: 'shop 1.0', metadata: { projectId: SHOP_ID, projectName: 'shop', versionName: '1.0', phase: 'DEVELOPMENT' } },
      { externalId: shop.versions[1]!.id, name: 'shop 2.0', metadata: { projectId: SHOP_ID, projectName: 'shop', versionName: '2.0', phase: 'DEVELOPMENT' } },
    ]);
    const listed = env.fake.state.requests.filter((r) => r.path === '/api/projects').map((r) => r.query);
    expect(listed).toEqual([
      { offset: '0', limit: '100' },
      { offset: '100', limit: '100' },
    ]);
  });

  it('maps a vulnerable component: component version and vulnerability as identity, CWE, CVE of a BDSA record', async () => {
    const item = blackDuckVulnerability('minimist', '1.2.0', 'BDSA-2026-0042', { severity: 'CRITICAL', baseScore: 9.8 });
    env.fake.state.bom = { [VERSION_ID]: [item] };
    const [finding] = await fetchAll();
    expect(finding).toEqual({
      title: 'BDSA-2026-0042 in minimist 1.2.0',
      severity: 'Critical',
      description: 'BDSA-2026-0042 lets an attacker exhaust memory in minimist.',
      cwes: [400],
      vulnerabilityIds: ['BDSA-2026-0042', 'CVE-2026-1000'],
      cvssScore: 9.8,
      componentName: 'minimist',
      componentVersion: '1.2.0',
      endpoint: 'minimist/1.2.0',
      uniqueIdFromTool: `components/${item.componentId}/versions/${item.versionId}:BDSA-2026-0042`,
      vulnIdFromTool: 'BDSA-2026-0042',
      verified: false,
      falseP: false,
      riskAccepted: false,
      outOfScope: false,
      raw: expect.objectContaining({ componentName: 'minimist', componentVersion: expect.stringContaining(`/api/components/${item.componentId}/versions/${item.versionId}`) }),
    });
  });

  it('maps severities and remediation statuses: fixed ones left out, NOT_AFFECTED → falseP, IGNORED or an ignored component → risk accepted', async () => {
    const v = (name: string, remediationStatus: string, fields = {}) => blackDuckVulnerability(name, '1.0', `CVE-2026-${name}`, { remediationStatus }, fields);
    env.fake.state.bom = {
      [VERSION_ID]: [
        ...['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNSCORED'].map((severity) => blackDuckVulnerability(`sev-${severity}`, '1.0', `CVE-${severity}`, { severity })),
        ...['PATCHED', 'REMEDIATION_COMPLETE', 'MITIGATED', 'DUPLICATE'].map((status) => v(status, status)),
        v('not-affected', 'NOT_AFFECTED'),
        v('ignored', 'IGNORED'),
        v('component-ignored', 'NEW', { ignored: true }),
        v('required', 'REMEDIATION_REQUIRED'),
        v('affected', 'AFFECTED'),
        v('review', 'NEEDS_REVIEW'),
      ],
    };
    const findings = await fetchAll();
    expect(findings.slice(0, 5).map((f) => f.severity)).toEqual(['Critical', 'High', 'Medium', 'Low', 'Info']);
    expect(findings.slice(5).map((f) => [f.componentName, f.falseP, f.riskAccepted, f.verified])).toEqual([
      ['not-affected', true, false, false],
      ['ignored', false, true, false],
      ['component-ignored', false, true, false],
      ['required', false, false, true],
      ['affected', false, false, true],
      ['review', false, false, false],
    ]);
  });
});
