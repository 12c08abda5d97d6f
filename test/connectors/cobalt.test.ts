import { describe, expect, it } from '@jest/globals';
import { cobalt, createCobaltConnector } from '../../src/connectors/cobalt/index.js';
import type { ConnectorConfig, RecordRef } from '../../src/connectors/types.js';
import { DEFAULT_COBALT_ORG_TOKEN, DEFAULT_COBALT_SECRET, cobaltAsset, cobaltFinding, startCobaltFake, type CobaltFake } from '../fakes/cobalt.js';
import { FAST_RETRIES, collect, connectorErrorOf, testContext } from './connector-context.js';
import { describeConnectorContract, seededFake } from './http-contract.js';

const connector = createCobaltConnector(FAST_RETRIES);

/** 150 assets (two pages of 100); the web app has 130 findings, 10 of them fixed. */
function seed(fake: CobaltFake) {
  fake.state.orgs = { [DEFAULT_COBALT_ORG_TOKEN]: { findings: true } };
  const web = cobaltAsset('webapp');
  fake.state.assets = [web, ...Array.from({ length: 149 }, (_, i) => cobaltAsset(`asset-${i}`))];
  fake.state.findings = [
    ...Array.from({ length: 120 }, (_, i) => cobaltFinding(web, `Finding ${i}`)),
    ...Array.from({ length: 10 }, (_, i) => cobaltFinding(web, `Fixed ${i}`, { state: 'valid_fix' })),
    cobaltFinding(fake.state.assets[1]!, 'Elsewhere'),
  ];
  const config: ConnectorConfig<Record<string, never>> = { location: fake.url, secret: DEFAULT_COBALT_SECRET, settings: {} };
  const record: RecordRef = { externalId: web.resource.id, name: 'webapp', metadata: null };
  return { config, record, findings: 120, records: 150, web };
}

describeConnectorContract('Cobalt', {
  connector,
  start: startCobaltFake,
  seed,
  findingsPath: '/findings',
  secondPage: { cursor: Buffer.from('100').toString('base64url'), limit: '100' },
  checkSeesPermission: true,
  denyPermission: (fake) => (fake.state.orgs[DEFAULT_COBALT_ORG_TOKEN] = { findings: false }),
  removeRecord: (fake) => (fake.state.assets = fake.state.assets.filter((a) => a.resource.title !== 'webapp')),
  wrongSecret: (secret) => `cobaltWrongApiToken000000000:${secret.split(':')[1]}`,
  rateLimitHeaders: { 'Retry-After': '1' },
});

describe('Cobalt: requests and mapping', () => {
  const env = seededFake(startCobaltFake, seed);
  const fetchAll = async () => (await collect(connector.open(env.seeded.config).fetchFindings(env.seeded.record, null, testContext()))).flatMap((p) => p.findings);

  it('is the shipped connector, matching on the finding id', () => {
    expect(cobalt).toMatchObject({ tool: 'cobalt', displayName: 'Cobalt', matching: 'unique_id_from_tool' });
  });

  it('sends both tokens and the v2 media type; a secret without the org token is CONFIG_INVALID before anything is sent', async () => {
    await connector.open(env.seeded.config).check(testContext());
    expect(env.fake.state.requests[0]).toMatchObject({ path: '/findings', query: { limit: '1' } });
    expect(env.fake.state.requests[0]!.headers).toMatchObject({ authorization: '[redacted]', 'x-org-token': '[redacted]', accept: 'application/vnd.cobalt.v2+json' });
    const error = await connectorErrorOf(() => connector.open({ ...env.seeded.config, secret: 'onlyTheApiTokenHere000000' }).check(testContext()));
    expect(error.type).toBe('CONFIG_INVALID');
    expect(error.message).toContain('<API token>:<org token>');
    expect(error.message).not.toContain('onlyTheApiTokenHere');
    expect(env.fake.state.requests).toHaveLength(1);
  });

  it('a wrong org token is AUTH_REJECTED (403)', async () => {
    const error = await connectorErrorOf(() => connector.open({ ...env.seeded.config, secret: `${env.seeded.config.secret.split(':')[0]}:someOtherOrgToken00000` }).check(testContext()));
    expect(error).toMatchObject({ type: 'AUTH_REJECTED', details: { status: 403 } });
  });

  it('follows the cursor of pagination.next_page, keeping the asset filter and the limit', async () => {
    await fetchAll();
    const listed = env.fake.state.requests.filter((r) => r.path === '/findings').map((r) => r.query);
    expect(listed).toEqual([
      { asset: env.seeded.web.resource.id, limit: '100' },
      { asset: env.seeded.web.resource.id, limit: '100', cursor: Buffer.from('100').toString('base64url') },
    ]);
  });

  it('discovers assets by id and title', async () => {
    const records = await collect(connector.open(env.seeded.config).discover(testContext()));
    expect(records[0]).toEqual({ externalId: env.seeded.web.resource.id, name: 'webapp', metadata: { assetType: 'web', url: env.seeded.web.links.ui.url } });
  });

  it('maps a finding: id as identity, first target as endpoint, link to Cobalt as reference', async () => {
    const item = cobaltFinding(env.seeded.web, 'Stored XSS', { severity: 'critical', state: 'new' });
    env.fake.state.findings = [item];
    expect(await fetchAll()).toEqual([
      {
        title: 'Stored XSS',
        severity: 'Critical',
        description: 'Stored XSS in the login form.\n\nSend the payload.',
        mitigation: 'Encode the output.',
        endpoint: 'https://webapp.example.com/login',
        references: item.links.ui.url,
        uniqueIdFromTool: item.resource.id,
        vulnIdFromTool: 'Cross-Site Scripting (XSS)',
        verified: false,
        falseP: false,
        riskAccepted: false,
        outOfScope: false,
        raw: item,
      },
    ]);
  });

  it('maps severities (none yet → Info) and states: invalid → falseP, wont_fix → risk accepted, valid_fix left out, validated → verified', async () => {
    const f = (title: string, fields: Partial<ReturnType<typeof cobaltFinding>['resource']>) => cobaltFinding(env.seeded.web, title, fields);
    env.fake.state.findings = [
      ...['critical', 'high', 'medium', 'low', 'informational', null].map((severity) => f(`sev-${severity}`, { severity, state: 'triaging' })),
      f('invalid', { state: 'invalid' }),
      f('wont', { state: 'wont_fix' }),
      f('fixed', { state: 'valid_fix' }),
      f('check', { state: 'check_fix' }),
    ];
    const findings = await fetchAll();
    expect(findings.slice(0, 6).map((x) => x.severity)).toEqual(['Critical', 'High', 'Medium', 'Low', 'Info', 'Info']);
    expect(findings.slice(6).map((x) => [x.title, x.falseP, x.riskAccepted, x.verified])).toEqual([
      ['invalid', true, false, false],
      ['wont', false, true, true],
      ['check', false, false, true],
    ]);
    expect(findings.slice(0, 6).every((x) => !x.verified && !x.falseP && !x.riskAccepted)).toBe(true);
  });

  it("retries Cobalt's own rate-limit answer (509) and succeeds", async () => {
    env.fake.inject({ match: '/findings', respond: { status: 509, body: { message: 'BANDWIDTH_LIMIT_EXCEEDED' } } });
    expect(await fetchAll()).toHaveLength(120);
  });
});
