import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createGitHubConnector, github, type GitHubSettings } from '../../src/connectors/github/index.js';
import type { ConnectorConfig, FindingPage, NormalizedFinding, RecordRef } from '../../src/connectors/types.js';
import { MALFORMED_JSON } from '../fakes/fake-server.js';
import {
  DEFAULT_GITHUB_TOKEN,
  codeScanningAlert,
  dependabotAlert,
  ghRepo,
  secretScanningAlert,
  startGitHubFake,
  type GhRepoJson,
  type GitHubFake,
} from '../fakes/github.js';
import { FAST_RETRIES, collect, connectorErrorOf, testContext, unreachableUrl } from './connector-context.js';

const connector = createGitHubConnector({ ...FAST_RETRIES, perPage: 2 });

const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const SLACK_TOKEN = 'xoxb-2734865-9876543210-FakeSlackBotTokenValue';
const REVOKED = 'ghp_revokedTokenValue00000000000000000000';

let fake: GitHubFake;
let config: ConnectorConfig<GitHubSettings>;
let api: GhRepoJson;

beforeAll(async () => {
  fake = await startGitHubFake();
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.state.requests = [];
  fake.state.faults = [];
  fake.state.honourHideSecret = true;
  fake.state.renamed = {};
  fake.state.features = {};
  fake.state.tokens = {
    [DEFAULT_GITHUB_TOKEN]: { login: 'octo-admin', scopes: ['repo', 'read:org'] },
    ghp_onlyReadOrg000000000000000000000000000: { login: 'octo-reader', scopes: ['read:org'] },
    github_pat_fineGrained00000000000000000000: { login: 'octo-admin', scopes: null },
  };
  fake.state.orgs = ['acme'];
  fake.state.users = ['octo-admin', 'jane'];
  api = ghRepo('acme', 'api', { id: 101 });
  fake.state.repos = [
    api,
    ghRepo('acme', 'web', { id: 102, visibility: 'internal' }),
    ghRepo('acme', 'infra', { id: 103, archived: true }),
    ghRepo('acme', 'docs', { id: 104, private: false, visibility: 'public' }),
    ghRepo('acme', 'mobile', { id: 105 }),
    ghRepo('jane', 'dotfiles', { id: 201, owner: { login: 'jane', type: 'User' } }),
    ghRepo('jane', 'blog', { id: 202, owner: { login: 'jane', type: 'User' } }),
  ];
  fake.state.alerts = {
    101: {
      codeScanning: [
        codeScanningAlert(api, 1, { securitySeverity: 'critical', cwes: [89], path: 'src/db/users.ts', line: 42 }),
        codeScanningAlert(api, 2, { ruleId: 'js/xss', description: 'Client-side cross-site scripting', securitySeverity: 'medium', cwes: [79, 116] }),
        codeScanningAlert(api, 3, { state: 'dismissed', dismissedReason: 'false positive' }),
        codeScanningAlert(api, 4, { state: 'dismissed', dismissedReason: "won't fix" }),
        codeScanningAlert(api, 5, { state: 'dismissed', dismissedReason: 'used in tests' }),
        codeScanningAlert(api, 6, { state: 'fixed' }),
        codeScanningAlert(api, 7, { ruleId: 'js/unused-local-variable', securitySeverity: null, severity: 'note' }),
      ],
      dependabot: [
        dependabotAlert(api, 1, { severity: 'critical', packageName: 'minimist', ghsaId: 'GHSA-xvch-5gv4-984h', cveId: 'CVE-2021-44906', summary: 'Prototype Pollution in minimist', patched: '1.2.6' }),
        dependabotAlert(api, 2),
        dependabotAlert(api, 3, { state: 'dismissed', dismissedReason: 'inaccurate' }),
        dependabotAlert(api, 4, { state: 'dismissed', dismissedReason: 'tolerable_risk' }),
        dependabotAlert(api, 5, { state: 'dismissed', dismissedReason: 'no_bandwidth' }),
        dependabotAlert(api, 6, { state: 'dismissed', dismissedReason: 'not_used' }),
        dependabotAlert(api, 7, { state: 'dismissed', dismissedReason: 'fix_started' }),
        dependabotAlert(api, 8, { state: 'fixed' }),
        dependabotAlert(api, 9, { state: 'auto_dismissed' }),
      ],
      secretScanning: [
        secretScanningAlert(api, 1, { secret: AWS_KEY }),
        secretScanningAlert(api, 2, { secret: SLACK_TOKEN, secretType: 'slack_api_token', secretTypeDisplayName: 'Slack API Token', state: 'resolved', resolution: 'false_positive' }),
        secretScanningAlert(api, 3, { secret: 'test-only-password-123', state: 'resolved', resolution: 'used_in_tests', validity: 'unknown' }),
        secretScanningAlert(api, 4, { secret: 'wont-fix-value-4567', state: 'resolved', resolution: 'wont_fix', validity: 'inactive' }),
        secretScanningAlert(api, 5, { secret: REVOKED, state: 'resolved', resolution: 'revoked' }),
      ],
    },
  };
  config = { location: fake.url, secret: DEFAULT_GITHUB_TOKEN, settings: { owner: 'acme', ownerType: 'org', alertKinds: ['code_scanning', 'dependabot', 'secret_scanning'] } };
});

const apiRecord = (): RecordRef => ({ externalId: '101', name: 'acme/api', metadata: { fullName: 'acme/api' } });
const allFindings = (pages: FindingPage[]): NormalizedFinding[] => pages.flatMap((p) => p.findings);
const byId = (findings: NormalizedFinding[], id: string) => {
  const found = findings.find((f) => f.uniqueIdFromTool === id);
  if (!found) throw new Error(`no finding ${id} among ${findings.map((f) => f.uniqueIdFromTool).join(', ')}`);
  return found;
};
const triageOf = (f: NormalizedFinding) => ({ falseP: f.falseP, riskAccepted: f.riskAccepted });

describe('GitHub connector: identity', () => {
  it('is the shipped connector, matching on the per-kind alert number', () => {
    expect(github.tool).toBe('github');
    expect(github.displayName).toBe('GitHub Advanced Security');
    expect(github.spec.defaultLocation).toBe('https://api.github.com');
    expect(github.matching).toBe('unique_id_from_tool');
    expect(github.spec.settings.parse({ owner: 'acme' })).toEqual({
      owner: 'acme',
      ownerType: 'org',
      alertKinds: ['code_scanning', 'dependabot', 'secret_scanning'],
    });
  });
});

describe('check', () => {
  it('succeeds with one authenticated call carrying the API version headers', async () => {
    await connector.open(config).check(testContext());
    expect(fake.state.requests).toHaveLength(1);
    const [request] = fake.state.requests;
    expect(request).toMatchObject({ path: '/orgs/acme/repos', query: { per_page: '1' } });
    expect(request!.headers).toMatchObject({
      authorization: '[redacted]',
      'x-github-api-version': '2022-11-28',
      accept: 'application/vnd.github+json',
      'user-agent': 'vulnsync',
    });
  });

  it('reports a bad token as AUTH_REJECTED without revealing it', async () => {
    const bad = 'ghp_thisTokenDoesNotExist000000000000000';
    const error = await connectorErrorOf(() => connector.open({ ...config, secret: bad }).check(testContext()));
    expect(error.type).toBe('AUTH_REJECTED');
    expect(error.message).toContain('GitHub rejected the token (401) at GET /orgs/acme/repos: Bad credentials');
    expect(error.message).not.toContain(bad);
  });

  it('reports a token without a security scope as AUTH_REJECTED', async () => {
    const error = await connectorErrorOf(() => connector.open({ ...config, secret: 'ghp_onlyReadOrg000000000000000000000000000' }).check(testContext()));
    expect(error.type).toBe('AUTH_REJECTED');
    expect(error.message).toContain('security_events');
  });

  it('accepts a fine-grained token (no scopes header)', async () => {
    await connector.open({ ...config, secret: 'github_pat_fineGrained00000000000000000000' }).check(testContext());
  });

  it('reports an unknown organization as CONFIG_INVALID', async () => {
    const error = await connectorErrorOf(() => connector.open({ ...config, settings: { ...config.settings, owner: 'nope' } }).check(testContext()));
    expect(error.type).toBe('CONFIG_INVALID');
    expect(error.message).toContain('no organization "nope"');
  });

  it('checks a user owner through /users/{owner}', async () => {
    await connector.open({ ...config, settings: { ...config.settings, owner: 'jane', ownerType: 'user' } }).check(testContext());
    expect(fake.state.requests[0]!.path).toBe('/users/jane');
  });

  it('reports an unreachable location as TOOL_UNAVAILABLE', async () => {
    const error = await connectorErrorOf(async () => connector.open({ ...config, location: await unreachableUrl() }).check(testContext()));
    expect(error.type).toBe('TOOL_UNAVAILABLE');
  });

  it('reports a location that is not the API as CONFIG_INVALID', async () => {
    const error = await connectorErrorOf(() => connector.open({ ...config, location: `${fake.url}/not-the-api` }).check(testContext()));
    expect(error.type).toBe('CONFIG_INVALID');
  });
});

describe('discover', () => {
  it("follows Link headers across the organization's repositories", async () => {
    const records = await collect(connector.open(config).discover(testContext()));
    expect(records.map((r) => r.name)).toEqual(['acme/api', 'acme/web', 'acme/infra', 'acme/docs', 'acme/mobile']);
    expect(records[0]).toEqual({
      externalId: '101',
      name: 'acme/api',
      metadata: { fullName: 'acme/api', defaultBranch: 'main', archived: false, visibility: 'private', fork: false, htmlUrl: 'https://github.com/acme/api' },
    });
    expect(records.find((r) => r.name === 'acme/infra')!.metadata).toMatchObject({ archived: true });
    const listing = fake.state.requests.filter((r) => r.path === '/orgs/acme/repos');
    expect(listing.map((r) => r.query.page ?? '1')).toEqual(['1', '2', '3']);
    expect(listing.every((r) => r.query.per_page === '2')).toBe(true);
  });

  it("lists a user's repositories from /user/repos, keeping only that owner's", async () => {
    const records = await collect(connector.open({ ...config, settings: { ...config.settings, owner: 'Jane', ownerType: 'user' } }).discover(testContext()));
    expect(records.map((r) => r.name)).toEqual(['jane/dotfiles', 'jane/blog']);
    expect(fake.state.requests.every((r) => r.path === '/user/repos')).toBe(true);
  });
});

describe('fetchFindings', () => {
  it('yields the current alerts of every kind, and only those', async () => {
    const findings = allFindings(await collect(connector.open(config).fetchFindings(apiRecord(), null, testContext())));
    expect(findings.map((f) => f.uniqueIdFromTool).sort()).toEqual(
      [
        'code_scanning:1', 'code_scanning:2', 'code_scanning:3', 'code_scanning:4', 'code_scanning:5', 'code_scanning:7',
        'dependabot:1', 'dependabot:2', 'dependabot:3', 'dependabot:4', 'dependabot:5', 'dependabot:6', 'dependabot:7',
        'secret_scanning:1', 'secret_scanning:2', 'secret_scanning:3', 'secret_scanning:4',
      ].sort(),
    );
  });

  it('maps code scanning alerts: severity, location, CWEs, dismissal reasons', async () => {
    const findings = allFindings(await collect(connector.open(config).fetchFindings(apiRecord(), null, testContext())));
    expect(byId(findings, 'code_scanning:1')).toMatchObject({
      title: 'Database query built from user-controlled sources',
      severity: 'Critical',
      filePath: 'src/db/users.ts',
      line: 42,
      cwes: [89],
      vulnIdFromTool: 'js/sql-injection',
      references: 'https://github.com/acme/api/security/code-scanning/1',
      endpoint: 'https://github.com/acme/api/security/code-scanning/1',
      falseP: false,
      riskAccepted: false,
    });
    // A scanner's match, not confirmed by anyone.
    expect(findings.filter((f) => f.uniqueIdFromTool?.startsWith('code_scanning:')).some((f) => f.verified)).toBe(false);
    expect(byId(findings, 'code_scanning:2')).toMatchObject({ severity: 'Medium', cwes: [79, 116] });
    expect(byId(findings, 'code_scanning:7').severity).toBe('Low');
    expect(triageOf(byId(findings, 'code_scanning:3'))).toEqual({ falseP: true, riskAccepted: false });
    expect(triageOf(byId(findings, 'code_scanning:4'))).toEqual({ falseP: false, riskAccepted: true });
    expect(triageOf(byId(findings, 'code_scanning:5'))).toEqual({ falseP: false, riskAccepted: true });
    const codeScanningStates = fake.state.requests.filter((r) => r.path.endsWith('/code-scanning/alerts')).map((r) => r.query.state);
    expect(new Set(codeScanningStates)).toEqual(new Set(['open', 'dismissed']));
  });

  it('maps Dependabot alerts: advisory ids, package, fix, dismissal reasons', async () => {
    const findings = allFindings(await collect(connector.open(config).fetchFindings(apiRecord(), null, testContext())));
    expect(byId(findings, 'dependabot:1')).toMatchObject({
      title: 'Prototype Pollution in minimist',
      severity: 'Critical',
      vulnerabilityIds: ['GHSA-xvch-5gv4-984h', 'CVE-2021-44906'],
      vulnIdFromTool: 'GHSA-xvch-5gv4-984h',
      componentName: 'minimist',
      filePath: 'package-lock.json',
      mitigation: 'Upgrade minimist to 1.2.6 or later.',
      cvssScore: 7.2,
      cwes: [77],
      endpoint: 'https://github.com/acme/api/security/dependabot/1',
    });
    expect(findings.filter((f) => f.uniqueIdFromTool?.startsWith('dependabot:')).some((f) => f.verified)).toBe(false);
    expect(triageOf(byId(findings, 'dependabot:3'))).toEqual({ falseP: true, riskAccepted: false });
    for (const id of ['dependabot:4', 'dependabot:5', 'dependabot:6']) expect(triageOf(byId(findings, id))).toEqual({ falseP: false, riskAccepted: true });
    expect(triageOf(byId(findings, 'dependabot:7'))).toEqual({ falseP: false, riskAccepted: false });
  });

  it('pages Dependabot alerts by the `after` cursor, never by `page`', async () => {
    await collect(connector.open(config).fetchFindings(apiRecord(), null, testContext()));
    const dependabot = fake.state.requests.filter((r) => r.path.endsWith('/dependabot/alerts'));
    expect(dependabot).toHaveLength(4);
    expect(dependabot.every((r) => r.query.page === undefined && r.query.state === 'open,dismissed')).toBe(true);
    expect(dependabot[0]!.query.after).toBeUndefined();
    expect(dependabot.slice(1).every((r) => typeof r.query.after === 'string')).toBe(true);
  });

  it('maps secret scanning alerts and never keeps the secret value', async () => {
    fake.state.honourHideSecret = false;
    const findings = allFindings(await collect(connector.open(config).fetchFindings(apiRecord(), null, testContext())));
    expect(byId(findings, 'secret_scanning:1')).toMatchObject({
      title: 'Exposed secret: Amazon AWS Access Key ID',
      severity: 'High',
      filePath: 'config/deploy.env',
      line: 3,
      cwes: [798],
      vulnIdFromTool: 'aws_access_key_id',
      endpoint: 'https://github.com/acme/api/security/secret-scanning/1',
      verified: true,
      falseP: false,
      riskAccepted: false,
    });
    // Verified only while GitHub's validity check finds the secret active.
    expect(byId(findings, 'secret_scanning:3').verified).toBe(false);
    expect(byId(findings, 'secret_scanning:4').verified).toBe(false);
    expect(triageOf(byId(findings, 'secret_scanning:2'))).toEqual({ falseP: true, riskAccepted: false });
    expect(triageOf(byId(findings, 'secret_scanning:3'))).toEqual({ falseP: false, riskAccepted: true });
    expect(triageOf(byId(findings, 'secret_scanning:4'))).toEqual({ falseP: false, riskAccepted: true });
    const everything = JSON.stringify(findings);
    for (const secret of [AWS_KEY, SLACK_TOKEN, 'test-only-password-123', 'wont-fix-value-4567']) expect(everything).not.toContain(secret);
    expect((byId(findings, 'secret_scanning:1').raw as Record<string, unknown>).secret).toBeUndefined();
    const secretRequests = fake.state.requests.filter((r) => r.path.endsWith('/secret-scanning/alerts'));
    expect(secretRequests.every((r) => r.query.hide_secret === 'true')).toBe(true);
    expect(secretRequests.some((r) => r.query.state === 'resolved' && r.query.resolution === 'false_positive,wont_fix,used_in_tests')).toBe(true);
  });

  it('fetches only the configured alert kinds', async () => {
    const findings = allFindings(
      await collect(connector.open({ ...config, settings: { ...config.settings, alertKinds: ['dependabot'] } }).fetchFindings(apiRecord(), null, testContext())),
    );
    expect(findings.every((f) => f.uniqueIdFromTool?.startsWith('dependabot:'))).toBe(true);
    expect(fake.state.requests.some((r) => r.path.includes('code-scanning') || r.path.includes('secret-scanning'))).toBe(false);
  });

  it('treats a feature that is off as zero findings of that kind', async () => {
    fake.state.features[101] = { codeScanning: 'no-analysis', dependabot: 'disabled', secretScanning: 'disabled' };
    const pages = await collect(connector.open(config).fetchFindings(apiRecord(), null, testContext()));
    expect(pages).toEqual([{ findings: [], cursor: null }]);
    fake.state.features[101] = { codeScanning: 'not-enabled' };
    const findings = allFindings(await collect(connector.open(config).fetchFindings(apiRecord(), null, testContext())));
    expect(findings.some((f) => f.uniqueIdFromTool?.startsWith('code_scanning:'))).toBe(false);
    expect(findings.filter((f) => f.uniqueIdFromTool?.startsWith('dependabot:'))).toHaveLength(7);
  });

  it('fails with AUTH_REJECTED (not zero findings) when the token may not read alerts', async () => {
    const error = await connectorErrorOf(
      collect(connector.open({ ...config, secret: 'ghp_onlyReadOrg000000000000000000000000000' }).fetchFindings(apiRecord(), null, testContext())),
    );
    expect(error.type).toBe('AUTH_REJECTED');
    expect(error.message).toContain('Resource not accessible by personal access token');
  });

  it('reports a deleted repository as RECORD_MISSING', async () => {
    fake.state.repos = fake.state.repos.filter((r) => r.id !== 101);
    const error = await connectorErrorOf(() => collect(connector.open(config).fetchFindings(apiRecord(), null, testContext())));
    expect(error.type).toBe('RECORD_MISSING');
    expect(error.message).toContain('acme/api');
  });

  it('reports a repository re-created under the same name as RECORD_MISSING', async () => {
    fake.state.repos = fake.state.repos.map((r) => (r.id === 101 ? { ...r, id: 999 } : r));
    const error = await connectorErrorOf(() => collect(connector.open(config).fetchFindings(apiRecord(), null, testContext())));
    expect(error.type).toBe('RECORD_MISSING');
    expect(error.message).toContain('different repository');
  });

  it('follows a renamed repository to its new name', async () => {
    fake.state.repos = fake.state.repos.map((r) => (r.id === 101 ? { ...r, name: 'core-api', full_name: 'acme/core-api' } : r));
    fake.state.renamed = { 'acme/api': 101 };
    const findings = allFindings(await collect(connector.open(config).fetchFindings(apiRecord(), null, testContext())));
    expect(findings).toHaveLength(17);
    expect(fake.state.requests.some((r) => r.path === '/repos/acme/core-api/dependabot/alerts')).toBe(true);
  });

  it('resumes from any cursor without repeating or skipping findings', async () => {
    const pages = await collect(connector.open(config).fetchFindings(apiRecord(), null, testContext()));
    expect(pages.at(-1)!.cursor).toBeNull();
    expect(pages.slice(0, -1).every((p) => p.cursor !== null)).toBe(true);
    const ids = pages.map((p) => p.findings.map((f) => f.uniqueIdFromTool));
    for (const at of [1, 4, 6]) {
      const resumed = await collect(connector.open(config).fetchFindings(apiRecord(), pages[at - 1]!.cursor, testContext()));
      expect(resumed.flatMap((p) => p.findings.map((f) => f.uniqueIdFromTool))).toEqual(ids.slice(at).flat());
    }
    const cursors = pages.map((p) => p.cursor).filter(Boolean);
    expect(cursors.some((c) => c!.stream === 'dependabot' && typeof c!.next === 'string')).toBe(true);
  });
});

describe('rate limits, outages and timeouts', () => {
  it("waits until GitHub's primary rate limit resets (403, x-ratelimit-remaining: 0)", async () => {
    const reset = Math.ceil(Date.now() / 1000) + 1;
    fake.inject({
      match: '/repos/acme/api/dependabot',
      respond: {
        status: 403,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
        body: { message: 'API rate limit exceeded for user ID 1.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api' },
      },
    });
    const ctx = testContext();
    const findings = allFindings(await collect(connector.open(config).fetchFindings(apiRecord(), null, ctx)));
    expect(findings).toHaveLength(17);
    const dependabot = fake.state.requests.filter((r) => r.path.endsWith('/dependabot/alerts'));
    expect(dependabot[1]!.at).toBeGreaterThanOrEqual(reset * 1000 - 20);
    expect(ctx.waits).toHaveLength(1);
    expect(ctx.waits[0]!.reason).toContain('rate limiting');
  });

  it('waits for Retry-After on a secondary rate limit (429)', async () => {
    fake.inject({ match: '/orgs/acme/repos', respond: { status: 429, headers: { 'retry-after': '1' }, body: { message: 'You have exceeded a secondary rate limit.' } } });
    await collect(connector.open(config).discover(testContext()));
    const [limited, retried] = fake.state.requests;
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(950);
  });

  it('does not retry a 403 that is not a rate limit', async () => {
    fake.inject({ match: '/orgs/acme/repos', respond: { status: 403, body: { message: 'Must have admin rights to Repository.' } } });
    const error = await connectorErrorOf(() => collect(connector.open(config).discover(testContext())));
    expect(error.type).toBe('AUTH_REJECTED');
    expect(fake.state.requests).toHaveLength(1);
  });

  it('reports TOOL_UNAVAILABLE after repeated 5xx', async () => {
    fake.inject({ match: '/repos/acme/api/code-scanning', times: 5, respond: { status: 502, body: { message: 'Server Error' } } });
    const error = await connectorErrorOf(() => collect(connector.open(config).fetchFindings(apiRecord(), null, testContext())));
    expect(error.type).toBe('TOOL_UNAVAILABLE');
    expect(error.details.retryAfterMs).toEqual(expect.any(Number));
    expect(fake.state.requests.filter((r) => r.path.endsWith('/code-scanning/alerts'))).toHaveLength(3);
  });

  it('reports a malformed page as BAD_TOOL_DATA', async () => {
    fake.inject({ match: '/repos/acme/api/secret-scanning', respond: MALFORMED_JSON });
    const error = await connectorErrorOf(() => collect(connector.open(config).fetchFindings(apiRecord(), null, testContext())));
    expect(error.type).toBe('BAD_TOOL_DATA');
  });

  it('times out a slow page and reports TOOL_UNAVAILABLE', async () => {
    fake.inject({ match: '/orgs/acme/repos', times: 3, respond: { delayMs: 2_000 } });
    const error = await connectorErrorOf(() => collect(connector.open(config).discover(testContext())));
    expect(error.type).toBe('TOOL_UNAVAILABLE');
    expect(error.message).toContain('did not answer');
  });
});
