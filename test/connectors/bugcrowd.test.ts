import { describe, expect, it } from '@jest/globals';
import { bugcrowd, createBugcrowdConnector } from '../../src/connectors/bugcrowd/index.js';
import type { ConnectorConfig, RecordRef } from '../../src/connectors/types.js';
import { DEFAULT_BUGCROWD_TOKEN, bugcrowdProgram, bugcrowdSubmission, startBugcrowdFake, type BugcrowdFake, type BugcrowdSubmissionJson } from '../fakes/bugcrowd.js';
import { FAST_RETRIES, collect, connectorErrorOf, testContext } from './connector-context.js';
import { describeConnectorContract, seededFake } from './http-contract.js';

const connector = createBugcrowdConnector(FAST_RETRIES);

/** 130 programs (two pages of 100); the web program has 130 submissions, 10 of them resolved. */
function seed(fake: BugcrowdFake) {
  fake.state.tokens = { [DEFAULT_BUGCROWD_TOKEN]: { submissions: true } };
  const web = bugcrowdProgram('Acme Web');
  fake.state.programs = [web, ...Array.from({ length: 129 }, (_, i) => bugcrowdProgram(`Program ${i}`))];
  fake.state.submissions = [
    ...Array.from({ length: 120 }, (_, i) => bugcrowdSubmission(web, `Submission ${i}`)),
    ...Array.from({ length: 10 }, (_, i) => bugcrowdSubmission(web, `Resolved ${i}`, { state: 'resolved' })),
    bugcrowdSubmission(fake.state.programs[1]!, 'Elsewhere'),
  ];
  const config: ConnectorConfig<Record<string, never>> = { location: fake.url, secret: DEFAULT_BUGCROWD_TOKEN, settings: {} };
  const record: RecordRef = { externalId: web.id, name: 'Acme Web', metadata: null };
  return { config, record, findings: 120, records: 130, web };
}

describeConnectorContract('Bugcrowd', {
  connector,
  start: startBugcrowdFake,
  seed,
  findingsPath: '/submissions',
  secondPage: { 'page[offset]': '100', 'page[limit]': '100' },
  checkSeesPermission: true,
  denyPermission: (fake) => (fake.state.tokens[DEFAULT_BUGCROWD_TOKEN] = { submissions: false }),
  removeRecord: (fake) => (fake.state.programs = fake.state.programs.filter((p) => p.attributes.name !== 'Acme Web')),
  rateLimitHeaders: { 'Retry-After': '1' },
});

describe('Bugcrowd: requests and mapping', () => {
  const env = seededFake(startBugcrowdFake, seed);
  const fetchAll = async () => (await collect(connector.open(env.seeded.config).fetchFindings(env.seeded.record, null, testContext()))).flatMap((p) => p.findings);
  const only = (...submissions: BugcrowdSubmissionJson[]) => (env.fake.state.submissions = submissions);

  it('is the shipped connector, matching on the submission id', () => {
    expect(bugcrowd).toMatchObject({ tool: 'bugcrowd', displayName: 'Bugcrowd', matching: 'unique_id_from_tool' });
  });

  it('sends "Authorization: Token <username>:<password>" and Bugcrowd’s media type; checks through the submissions', async () => {
    await connector.open(env.seeded.config).check(testContext());
    expect(env.fake.state.requests[0]).toMatchObject({ path: '/submissions', query: { 'page[limit]': '1' } });
    expect(env.fake.state.requests[0]!.headers).toMatchObject({ authorization: '[redacted]', accept: 'application/vnd.bugcrowd+json' });
  });

  it('a secret that is not "<username>:<password>" is CONFIG_INVALID before anything is sent, and not repeated', async () => {
    for (const secret of ['justOnePasswordWithoutUser0', ':passwordWithoutUsername000', 'usernameWithoutPassword000:']) {
      const error = await connectorErrorOf(() => connector.open({ ...env.seeded.config, secret }).check(testContext()));
      expect(error.type).toBe('CONFIG_INVALID');
      expect(error.message).toContain('<username>:<password>');
      expect(error.message).not.toContain(secret);
    }
    expect(env.fake.state.requests).toHaveLength(0);
  });

  it('the password alone, echoed by the tool, is redacted', async () => {
    const password = DEFAULT_BUGCROWD_TOKEN.split(':')[1]!;
    env.fake.inject({ match: '/submissions', respond: { status: 400, body: { errors: [{ detail: `password ${password} is not valid here` }] } } });
    const error = await connectorErrorOf(() => connector.open(env.seeded.config).check(testContext()));
    expect(error.message).not.toContain(password);
  });

  it('probes the program, then follows links.next with the program filter and pages of 100', async () => {
    await fetchAll();
    expect(env.fake.state.requests.map((r) => [r.path, r.query])).toEqual([
      [`/programs/${env.seeded.web.id}`, {}],
      ...['0', '100'].map((offset) => ['/submissions', { 'filter[program]': env.seeded.web.id, 'page[limit]': '100', 'page[offset]': offset }]),
    ]);
  });

  it('discovers programs by id and name, with their code', async () => {
    const records = await collect(connector.open(env.seeded.config).discover(testContext()));
    expect(records[0]).toEqual({ externalId: env.seeded.web.id, name: 'Acme Web', metadata: { code: 'acme-web' } });
    expect(env.fake.state.requests.map((r) => r.query['page[offset]'] ?? '0')).toEqual(['0', '100']);
  });

  it('maps a submission: id as identity, the VRT id, the bug URL as endpoint', async () => {
    const item = bugcrowdSubmission(env.seeded.web, 'SQL injection in login', { severity: 1 });
    only(item);
    expect(await fetchAll()).toEqual([
      {
        title: 'SQL injection in login',
        severity: 'Critical',
        description: 'SQL injection in login: steps to reproduce.',
        mitigation: 'Validate the input.',
        endpoint: 'https://acme-web.example.com/login',
        references: 'https://owasp.example/sqli',
        uniqueIdFromTool: item.id,
        vulnIdFromTool: 'server_side_injection.sql_injection',
        verified: true,
        falseP: false,
        riskAccepted: false,
        outOfScope: false,
        raw: item,
      },
    ]);
  });

  it('maps priorities P1–P5 (none → Info) and states to triage, verification, or left out', async () => {
    const f = (title: string, fields: Partial<BugcrowdSubmissionJson['attributes']>) => bugcrowdSubmission(env.seeded.web, title, fields);
    only(
      ...[1, 2, 3, 4, 5, null].map((severity) => f(`P${severity}`, { severity, state: 'new' })),
      f('triaged', { state: 'triaged' }),
      f('unresolved', { state: 'unresolved' }),
      f('informational', { state: 'informational' }),
      f('not_applicable', { state: 'not_applicable' }),
      f('not_reproducible', { state: 'not_reproducible' }),
      f('out_of_scope', { state: 'out_of_scope' }),
      f('resolved', { state: 'resolved' }),
      f('duplicate-flag', { state: 'not_applicable', duplicate: true }),
      f('duplicate-state', { state: 'duplicate' }),
    );
    const findings = await fetchAll();
    expect(findings.slice(0, 6).map((x) => x.severity)).toEqual(['Critical', 'High', 'Medium', 'Low', 'Info', 'Info']);
    expect(findings.map((x) => [x.title, x.verified, x.falseP, x.riskAccepted, x.outOfScope])).toEqual([
      ...['P1', 'P2', 'P3', 'P4', 'P5', 'Pnull'].map((t) => [t, false, false, false, false]),
      ['triaged', true, false, false, false],
      ['unresolved', true, false, false, false],
      ['informational', true, false, true, false],
      ['not_applicable', false, true, false, false],
      ['not_reproducible', false, true, false, false],
      ['out_of_scope', false, false, false, true],
    ]);
  });
});
