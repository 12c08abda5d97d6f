import { beforeEach, describe, expect, it } from '@jest/globals';
import { createSemgrepConnector, semgrep } from '../../src/connectors/semgrep/index.js';
import type { ConnectorConfig, NormalizedFinding, RecordPage, RecordRef } from '../../src/connectors/types.js';
import { DEFAULT_SEMGREP_TOKEN, semgrepFinding, semgrepProject, startSemgrepFake, type SemgrepFake } from '../fakes/semgrep.js';
import { FAST_RETRIES, collect, connectorErrorOf, testContext } from './connector-context.js';
import { describeConnectorContract, seededFake } from './http-contract.js';

const connector = createSemgrepConnector(FAST_RETRIES);
const PAGE = 500;

/** Two deployments, one with more projects than a page; `acme/web` has a page and a half of findings. */
function seed(fake: SemgrepFake) {
  fake.state.tokens = { [DEFAULT_SEMGREP_TOKEN]: { webApi: true } };
  fake.state.deployments = [
    { id: 1, slug: 'acme', name: 'Acme' },
    { id: 2, slug: 'acme-labs', name: 'Acme Labs' },
  ];
  const web = semgrepProject('acme/web');
  fake.state.projects = {
    acme: [web, ...Array.from({ length: PAGE }, (_, i) => semgrepProject(`acme/service-${i}`))],
    'acme-labs': [semgrepProject('labs/prototype')],
  };
  fake.state.findings = {
    'acme/web': Array.from({ length: PAGE + 250 }, (_, i) => semgrepFinding('acme/web', `js.rule-${i}`, `src/file-${i}.ts`)),
  };
  const config: ConnectorConfig<Record<string, never>> = { location: fake.url, secret: DEFAULT_SEMGREP_TOKEN, settings: {} };
  const record: RecordRef = { externalId: String(web.id), name: 'acme/web', metadata: { deploymentSlug: 'acme' } };
  return { config, record, findings: PAGE + 250, records: PAGE + 2 };
}

describeConnectorContract('Semgrep', {
  connector,
  start: startSemgrepFake,
  seed,
  findingsPath: '/api/v1/deployments/acme/findings',
  secondPage: { page: '1', page_size: String(PAGE) },
  checkSeesPermission: true,
  denyPermission: (fake) => (fake.state.tokens[DEFAULT_SEMGREP_TOKEN] = { webApi: false }),
  removeRecord: (fake) => (fake.state.projects.acme = fake.state.projects.acme!.filter((p) => p.name !== 'acme/web')),
  rateLimitHeaders: { 'Retry-After': '1' },
});

describe('Semgrep: requests and mapping', () => {
  const env = seededFake(startSemgrepFake, seed);
  beforeEach(() => {
    env.fake.state.findings['acme/web'] = [];
  });
  const fetchAll = async () => (await collect(connector.open(env.seeded.config).fetchFindings(env.seeded.record, null, testContext()))).flatMap((p) => p.findings);
  const byRule = (findings: NormalizedFinding[], rule: string) => findings.find((f) => f.vulnIdFromTool === rule);

  it('is the shipped connector, matching on the tool id', () => {
    expect(semgrep).toMatchObject({ tool: 'semgrep', displayName: 'Semgrep', matching: 'unique_id_from_tool', minSecretLength: 20 });
  });

  it('discovers page by page with a cursor that resumes a failed listing at the failed page, parents included', async () => {
    // Page 1 of the first deployment's projects fails past the in-process retries.
    env.fake.inject({ match: '/api/v1/deployments/acme/projects', query: { page: '1' }, times: 3, respond: { status: 502, body: { message: 'Bad Gateway' } } });
    const stored: RecordPage[] = [];
    const failure = await connectorErrorOf(
      (async () => {
        for await (const page of connector.open(env.seeded.config).discoverPages(null, testContext())) stored.push(page);
      })(),
    );
    expect(failure.type).toBe('TOOL_UNAVAILABLE');
    expect(stored).toHaveLength(1);
    env.fake.state.requests = [];
    const rest = await collect(connector.open(env.seeded.config).discoverPages(stored[0]!.cursor, testContext()));
    const names = [...stored, ...rest].flatMap((p) => p.records.map((r) => r.name));
    expect(new Set(names).size).toBe(names.length);
    expect(names).toHaveLength(env.seeded.records);
    // The resumed listing asked the first deployment's projects from page 1 on, never page 0 again.
    const pages = env.fake.state.requests.filter((r) => r.path === '/api/v1/deployments/acme/projects').map((r) => r.query.page);
    expect(pages).toEqual(['1', '2']);
    expect(rest.at(-1)!.cursor).toBeNull();
  });

  it('discovers projects per deployment with the slug in their metadata, paging from 0 until an empty page', async () => {
    const records = await collect(connector.open(env.seeded.config).discover(testContext()));
    expect(records.find((r) => r.name === 'labs/prototype')?.metadata).toMatchObject({ deploymentSlug: 'acme-labs' });
    const pages = env.fake.state.requests.filter((r) => r.path === '/api/v1/deployments/acme/projects').map((r) => r.query.page);
    expect(pages).toEqual(['0', '1', '2']);
  });

  it('asks for the deduplicated findings of the one repository, after confirming the project exists', async () => {
    await fetchAll();
    expect(env.fake.state.requests.map((r) => [r.path, r.query])).toEqual([
      ['/api/v1/deployments/acme/projects/acme/web', {}],
      ['/api/v1/deployments/acme/findings', { repos: 'acme/web', dedup: 'true', page: '0', page_size: String(PAGE) }],
    ]);
    expect(env.fake.state.requests.every((r) => r.headers.authorization === '[redacted]')).toBe(true);
  });

  it('maps a finding: match_based_id as identity, rule, location, CWE, link, severity', async () => {
    const item = semgrepFinding('acme/web', 'python.flask.xss', 'app/views.py', { line: 42, severity: 'high', cwe: 'CWE-79: Cross-site Scripting' });
    env.fake.state.findings['acme/web'] = [item, { ...item, id: 99, ref: 'refs/heads/feature' }];
    const findings = await fetchAll();
    expect(findings).toHaveLength(1);
    expect(findings[0]).toEqual({
      title: 'python.flask.xss',
      severity: 'High',
      description: 'Rule python.flask.xss matched',
      mitigation: null,
      cwes: [79],
      filePath: 'app/views.py',
      line: 42,
      endpoint: 'https://github.com/acme/web/blob/main/app/views.py#L42',
      uniqueIdFromTool: item.match_based_id,
      vulnIdFromTool: 'python.flask.xss',
      verified: false,
      falseP: false,
      riskAccepted: false,
      outOfScope: false,
      raw: item,
    });
  });

  it('maps severities, legacy ERROR/WARNING/INFO included', async () => {
    const severities = ['critical', 'high', 'medium', 'low', 'ERROR', 'WARNING', 'INFO', 'unknown'];
    env.fake.state.findings['acme/web'] = severities.map((severity, i) => semgrepFinding('acme/web', `rule-${severity}`, `f${i}.js`, { severity }));
    const findings = await fetchAll();
    expect(severities.map((s) => byRule(findings, `rule-${s}`)?.severity)).toEqual(['Critical', 'High', 'Medium', 'Low', 'High', 'Medium', 'Info', 'Info']);
  });

  it('maps triage: ignored as false positive → falseP, ignored otherwise → risk accepted, fixing → verified, fixed and removed left out', async () => {
    const f = (rule: string, fields: Record<string, unknown>) => semgrepFinding('acme/web', rule, `${rule}.js`, fields);
    env.fake.state.findings['acme/web'] = [
      f('open', {}),
      f('fp', { status: 'ignored', triage_state: 'ignored', triage_reason: 'false_positive' }),
      f('accepted', { status: 'ignored', triage_state: 'ignored', triage_reason: 'acceptable_risk' }),
      f('no-time', { status: 'ignored', triage_state: 'ignored', triage_reason: 'no_time' }),
      f('fixing', { status: 'fixing', triage_state: 'fixing' }),
      f('fixed', { status: 'fixed', state: 'fixed' }),
      f('removed', { status: 'removed', state: 'removed' }),
    ];
    const findings = await fetchAll();
    const triage = (rule: string) => {
      const x = byRule(findings, rule);
      return x && { falseP: x.falseP, riskAccepted: x.riskAccepted, verified: x.verified };
    };
    expect(findings.map((x) => x.vulnIdFromTool)).toEqual(['open', 'fp', 'accepted', 'no-time', 'fixing']);
    expect(triage('open')).toEqual({ falseP: false, riskAccepted: false, verified: false });
    expect(triage('fp')).toEqual({ falseP: true, riskAccepted: false, verified: false });
    expect(triage('accepted')).toEqual({ falseP: false, riskAccepted: true, verified: false });
    expect(triage('no-time')).toEqual({ falseP: false, riskAccepted: true, verified: false });
    expect(triage('fixing')).toEqual({ falseP: false, riskAccepted: false, verified: true });
  });

  it('yields one empty, final page for a project without findings', async () => {
    const pages = await collect(connector.open(env.seeded.config).fetchFindings(env.seeded.record, null, testContext()));
    expect(pages).toEqual([{ findings: [], cursor: null }]);
  });

  it('reports a finding without a rule as BAD_TOOL_DATA', async () => {
    env.fake.state.findings['acme/web'] = [{ id: 1, match_based_id: 'x' } as never];
    await expect(fetchAll()).rejects.toMatchObject({ type: 'BAD_TOOL_DATA', message: expect.stringContaining('rule_name') });
  });
});
