import { pageOf, type ToolRequest, type ToolResponse, type ToolServerState } from '../tool-server.js';

/**
 * A stand-in GitHub REST API (version 2022-11-28) for the endpoints the GitHub Advanced Security connector
 * uses, faithful where the connector depends on it: bearer tokens (401 "Bad credentials"; 403 "Resource
 * not accessible by personal access token" for a classic token without the security_events/repo scope,
 * with `X-OAuth-Scopes`), `per_page` ≤ 100 with `Link` headers, Dependabot's cursor paging (`after`; a
 * `page` parameter is a 400), `state`/`resolution` filters, `hide_secret`, feature-off answers (404 "no
 * analysis found", 403 "Dependabot alerts are disabled…", 404 "Secret scanning is disabled…"), renamed
 * repositories (301 to `/repositories/{id}`), and `x-ratelimit-*` headers.
 */

export interface GhRepoJson {
  id: number;
  name: string;
  full_name: string;
  owner: { login: string; type: 'Organization' | 'User' };
  private: boolean;
  visibility: 'public' | 'private' | 'internal';
  archived: boolean;
  fork: boolean;
  default_branch: string;
  html_url: string;
  [field: string]: unknown;
}

export interface RepoFeatures {
  codeScanning: 'enabled' | 'no-analysis' | 'not-enabled';
  dependabot: 'enabled' | 'disabled';
  secretScanning: 'enabled' | 'disabled';
}

export interface RepoAlerts {
  codeScanning: Record<string, unknown>[];
  dependabot: Record<string, unknown>[];
  secretScanning: Record<string, unknown>[];
}

export interface GitHubState extends ToolServerState {
  /** Valid tokens; `scopes` null is a fine-grained token (no X-OAuth-Scopes header). */
  tokens: Record<string, { login: string; scopes: string[] | null }>;
  orgs: string[];
  users: string[];
  repos: GhRepoJson[];
  /** By repository id. */
  alerts: Record<number, RepoAlerts>;
  /** By repository id; enabled when absent. */
  features: Record<number, Partial<RepoFeatures>>;
  /** Old full names of renamed repositories → repository id. */
  renamed: Record<string, number>;
  /** GitHub.com honours `hide_secret=true`; older GHES versions ignore it. */
  honourHideSecret: boolean;
}

export const DEFAULT_GITHUB_TOKEN = 'ghp_fakeGitHubToken000000000000000000000';

/** The tool's state before anything is seeded. */
export function newGitHubState(): GitHubState {
  return {
    requests: [],
    tokens: { [DEFAULT_GITHUB_TOKEN]: { login: 'octo-admin', scopes: ['repo', 'read:org'] } },
    orgs: [],
    users: ['octo-admin'],
    repos: [],
    alerts: {},
    features: {},
    renamed: {},
    honourHideSecret: true,
  };
}

const DOCS = 'https://docs.github.com/rest';

function error(status: number, message: string, headers: Record<string, string> = {}): ToolResponse {
  return { status, headers, body: { message, documentation_url: DOCS, status: String(status) } };
}

export function handleGitHub(request: ToolRequest, state: GitHubState): ToolResponse {
  const origin = `http://${request.headers.host}`;
  const rateHeaders = {
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '4990',
    'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
    'x-ratelimit-resource': 'core',
  };
  const version = request.headers['x-github-api-version'];
  if (version !== undefined && version !== '2022-11-28') {
    return error(400, `Unsupported 'X-GitHub-Api-Version' header '${String(version)}'`, rateHeaders);
  }
  const authorization = request.headers.authorization;
  const token = typeof authorization === 'string' ? /^(?:Bearer|token) (.+)$/.exec(authorization)?.[1] : undefined;
  if (!token) return error(401, 'Requires authentication', rateHeaders);
  const grant = state.tokens[token];
  if (!grant) return error(401, 'Bad credentials', rateHeaders);
  const headers: Record<string, string> = { ...rateHeaders, ...(grant.scopes ? { 'x-oauth-scopes': grant.scopes.join(', ') } : {}) };
  const respond = (response: ToolResponse): ToolResponse => ({ ...response, headers: { ...headers, ...response.headers } });

  const path = request.url.pathname;
  const query = request.url.searchParams;
  const perPage = Math.min(Number(query.get('per_page') ?? '30') || 30, 100);
  const page = Number(query.get('page') ?? '1') || 1;

  const pagedByNumber = (items: readonly unknown[]): ToolResponse => {
    const slice = pageOf(items, page, perPage);
    const link = (p: number) => {
      const url = new URL(path + request.url.search, origin);
      url.searchParams.set('page', String(p));
      url.searchParams.set('per_page', String(perPage));
      return url.href;
    };
    const links = [
      ...(slice.hasNext ? [`<${link(page + 1)}>; rel="next"`, `<${link(slice.lastPage)}>; rel="last"`] : []),
      ...(page > 1 ? [`<${link(1)}>; rel="first"`, `<${link(page - 1)}>; rel="prev"`] : []),
    ];
    return respond({ status: 200, headers: links.length ? { link: links.join(', ') } : {}, body: slice.items });
  };

  let match: RegExpExecArray | null;
  if ((match = /^\/orgs\/([^/]+)\/repos$/.exec(path))) {
    const org = decodeURIComponent(match[1]!).toLowerCase();
    if (!state.orgs.some((o) => o.toLowerCase() === org)) return respond(error(404, 'Not Found'));
    return pagedByNumber(state.repos.filter((r) => r.owner.login.toLowerCase() === org));
  }
  if (path === '/user/repos') return pagedByNumber(state.repos);
  if ((match = /^\/users\/([^/]+)$/.exec(path))) {
    const login = decodeURIComponent(match[1]!);
    if (!state.users.some((u) => u.toLowerCase() === login.toLowerCase())) return respond(error(404, 'Not Found'));
    return respond({ status: 200, body: { login, id: 1000 + login.length, type: 'User', html_url: `https://github.com/${login}` } });
  }
  if ((match = /^\/repositories\/(\d+)$/.exec(path))) {
    const repo = state.repos.find((r) => r.id === Number(match![1]));
    return respond(repo ? { status: 200, body: repo } : error(404, 'Not Found'));
  }

  match = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
  if (!match) return respond(error(404, 'Not Found'));
  const fullName = `${decodeURIComponent(match[1]!)}/${decodeURIComponent(match[2]!)}`.toLowerCase();
  const rest = match[3] ?? '';
  const repo = state.repos.find((r) => r.full_name.toLowerCase() === fullName);
  if (!repo) {
    const renamedId = Object.entries(state.renamed).find(([old]) => old.toLowerCase() === fullName)?.[1];
    if (renamedId !== undefined && rest === '') {
      return respond({ status: 301, headers: { location: `${origin}/repositories/${renamedId}` }, body: { message: 'Moved Permanently', url: `${origin}/repositories/${renamedId}`, documentation_url: DOCS } });
    }
    return respond(error(404, 'Not Found'));
  }
  if (rest === '') return respond({ status: 200, body: repo });

  const alertScope = grant.scopes === null || grant.scopes.includes('repo') || grant.scopes.includes('security_events');
  const features: RepoFeatures = { codeScanning: 'enabled', dependabot: 'enabled', secretScanning: 'enabled', ...state.features[repo.id] };
  const alerts = state.alerts[repo.id] ?? { codeScanning: [], dependabot: [], secretScanning: [] };
  const notAccessible = () =>
    respond(error(403, 'Resource not accessible by personal access token', { 'x-accepted-oauth-scopes': 'repo, security_events' }));

  if (rest === '/code-scanning/alerts') {
    if (!alertScope) return notAccessible();
    if (features.codeScanning === 'not-enabled') return respond(error(403, 'Advanced Security must be enabled for this repository to use code scanning.'));
    if (features.codeScanning === 'no-analysis') return respond(error(404, 'no analysis found'));
    const state_ = query.get('state');
    return pagedByNumber(alerts.codeScanning.filter((a) => !state_ || a.state === state_ || (state_ === 'closed' && a.state !== 'open')));
  }
  if (rest === '/dependabot/alerts') {
    if (!alertScope) return notAccessible();
    if (query.has('page')) return respond(error(400, 'Pagination using the `page` parameter is not supported.'));
    if (features.dependabot === 'disabled') return respond(error(403, 'Dependabot alerts are disabled for this repository.'));
    if (repo.archived) return respond(error(403, 'Dependabot alerts are not available for archived repositories.'));
    const states = query.get('state')?.split(',') ?? null;
    const listed = alerts.dependabot.filter((a) => !states || states.includes(String(a.state)));
    const after = query.get('after');
    const start = after ? Number(Buffer.from(after, 'base64url').toString('utf8').replace(/^cursor:v2:/, '')) : 0;
    if (!Number.isInteger(start) || start < 0) return respond(error(400, 'Invalid cursor'));
    const items = listed.slice(start, start + perPage);
    const headersOut: Record<string, string> = {};
    if (start + perPage < listed.length) {
      const next = new URL(path, origin);
      for (const [k, v] of query) if (k !== 'after') next.searchParams.set(k, v);
      next.searchParams.set('after', Buffer.from(`cursor:v2:${start + perPage}`).toString('base64url'));
      headersOut.link = `<${next.href}>; rel="next"`;
    }
    return respond({ status: 200, headers: headersOut, body: items });
  }
  if (rest === '/secret-scanning/alerts') {
    if (!alertScope) return notAccessible();
    if (features.secretScanning === 'disabled') return respond(error(404, 'Secret scanning is disabled on this repository.'));
    const wantedState = query.get('state');
    const resolutions = query.get('resolution')?.split(',') ?? null;
    const hide = state.honourHideSecret && query.get('hide_secret') === 'true';
    const listed = alerts.secretScanning
      .filter((a) => (!wantedState || a.state === wantedState) && (!resolutions || resolutions.includes(String(a.resolution))))
      .map((a) => (hide ? withoutField(a, 'secret') : a));
    return pagedByNumber(listed);
  }
  return respond(error(404, 'Not Found'));
}

function withoutField(item: Record<string, unknown>, field: string): Record<string, unknown> {
  const copy = { ...item };
  delete copy[field];
  return copy;
}

let nextRepoId = 700_000_001;

export function ghRepo(owner: string, name: string, fields: Partial<GhRepoJson> = {}): GhRepoJson {
  const id = fields.id ?? nextRepoId++;
  return {
    id,
    node_id: Buffer.from(`010:Repository${id}`).toString('base64'),
    name,
    full_name: `${owner}/${name}`,
    owner: { login: owner, type: 'Organization' },
    private: true,
    visibility: 'private',
    archived: false,
    fork: false,
    default_branch: 'main',
    html_url: `https://github.com/${owner}/${name}`,
    url: `https://api.github.com/repos/${owner}/${name}`,
    ...fields,
  };
}

export function codeScanningAlert(
  repo: Pick<GhRepoJson, 'full_name'>,
  number: number,
  fields: {
    state?: 'open' | 'dismissed' | 'fixed';
    dismissedReason?: 'false positive' | "won't fix" | 'used in tests';
    ruleId?: string;
    description?: string;
    securitySeverity?: 'critical' | 'high' | 'medium' | 'low' | null;
    severity?: 'error' | 'warning' | 'note';
    cwes?: number[];
    path?: string;
    line?: number;
  } = {},
): Record<string, unknown> {
  const state = fields.state ?? 'open';
  return {
    number,
    created_at: '2026-08-01T10:00:00Z',
    updated_at: '2026-08-02T10:00:00Z',
    url: `https://api.github.com/repos/${repo.full_name}/code-scanning/alerts/${number}`,
    html_url: `https://github.com/${repo.full_name}/security/code-scanning/${number}`,
    state,
    fixed_at: state === 'fixed' ? '2026-08-03T10:00:00Z' : null,
    dismissed_by: state === 'dismissed' ? { login: 'octo-admin', id: 1 } : null,
    dismissed_at: state === 'dismissed' ? '2026-08-03T10:00:00Z' : null,
    dismissed_reason: state === 'dismissed' ? (fields.dismissedReason ?? "won't fix") : null,
    dismissed_comment: state === 'dismissed' ? 'Triaged in the weekly review' : null,
    rule: {
      id: fields.ruleId ?? 'js/sql-injection',
      severity: fields.severity ?? 'error',
      description: fields.description ?? 'Database query built from user-controlled sources',
      name: fields.ruleId ?? 'js/sql-injection',
      tags: ['security', ...(fields.cwes ?? [89]).map((c) => `external/cwe/cwe-${String(c).padStart(3, '0')}`)],
      security_severity_level: fields.securitySeverity === undefined ? 'high' : fields.securitySeverity,
    },
    tool: { name: 'CodeQL', guid: null, version: '2.23.0' },
    most_recent_instance: {
      ref: 'refs/heads/main',
      analysis_key: '.github/workflows/codeql.yml:analyze',
      environment: '{"language":"javascript-typescript"}',
      category: '/language:javascript-typescript',
      state,
      commit_sha: '5b6e7f1c2d3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c',
      message: { text: 'This query string depends on a user-provided value.' },
      location: { path: fields.path ?? 'src/db/users.ts', start_line: fields.line ?? 42, end_line: fields.line ?? 42, start_column: 7, end_column: 31 },
      classifications: [],
    },
    instances_url: `https://api.github.com/repos/${repo.full_name}/code-scanning/alerts/${number}/instances`,
  };
}

export function dependabotAlert(
  repo: Pick<GhRepoJson, 'full_name'>,
  number: number,
  fields: {
    state?: 'open' | 'dismissed' | 'fixed' | 'auto_dismissed';
    dismissedReason?: 'fix_started' | 'inaccurate' | 'no_bandwidth' | 'not_used' | 'tolerable_risk';
    packageName?: string;
    ecosystem?: string;
    ghsaId?: string;
    cveId?: string | null;
    severity?: 'critical' | 'high' | 'medium' | 'low';
    summary?: string;
    patched?: string | null;
  } = {},
): Record<string, unknown> {
  const state = fields.state ?? 'open';
  const pkg = { ecosystem: fields.ecosystem ?? 'npm', name: fields.packageName ?? 'lodash' };
  const ghsa = fields.ghsaId ?? 'GHSA-35jh-r3h4-6jhm';
  const cve = fields.cveId === undefined ? 'CVE-2021-23337' : fields.cveId;
  const severity = fields.severity ?? 'high';
  const patched = fields.patched === undefined ? '4.17.21' : fields.patched;
  return {
    number,
    state,
    dependency: { package: pkg, manifest_path: 'package-lock.json', scope: 'runtime', relationship: 'direct' },
    security_advisory: {
      ghsa_id: ghsa,
      cve_id: cve,
      summary: fields.summary ?? 'Command Injection in lodash',
      description: '`lodash` versions prior to 4.17.21 are vulnerable to Command Injection via the template function.',
      vulnerabilities: [],
      severity,
      cvss: { vector_string: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H', score: 7.2 },
      cvss_severities: { cvss_v3: { vector_string: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H', score: 7.2 }, cvss_v4: { vector_string: null, score: 0 } },
      epss: { percentage: 0.0123, percentile: 0.81 },
      cwes: [{ cwe_id: 'CWE-77', name: "Improper Neutralization of Special Elements used in a Command ('Command Injection')" }],
      identifiers: [{ value: ghsa, type: 'GHSA' }, ...(cve ? [{ value: cve, type: 'CVE' }] : [])],
      references: [{ url: `https://github.com/advisories/${ghsa}` }],
      published_at: '2021-05-06T16:05:51Z',
      updated_at: '2026-01-10T00:00:00Z',
      withdrawn_at: null,
    },
    security_vulnerability: {
      package: pkg,
      severity,
      vulnerable_version_range: '< 4.17.21',
      first_patched_version: patched ? { identifier: patched } : null,
    },
    url: `https://api.github.com/repos/${repo.full_name}/dependabot/alerts/${number}`,
    html_url: `https://github.com/${repo.full_name}/security/dependabot/${number}`,
    created_at: '2026-08-01T10:00:00Z',
    updated_at: '2026-08-02T10:00:00Z',
    dismissed_at: state === 'dismissed' ? '2026-08-03T10:00:00Z' : null,
    dismissed_by: state === 'dismissed' ? { login: 'octo-admin', id: 1 } : null,
    dismissed_reason: state === 'dismissed' ? (fields.dismissedReason ?? 'tolerable_risk') : null,
    dismissed_comment: null,
    fixed_at: state === 'fixed' ? '2026-08-03T10:00:00Z' : null,
    auto_dismissed_at: state === 'auto_dismissed' ? '2026-08-03T10:00:00Z' : null,
  };
}

export function secretScanningAlert(
  repo: Pick<GhRepoJson, 'full_name'>,
  number: number,
  fields: {
    state?: 'open' | 'resolved';
    resolution?: 'false_positive' | 'wont_fix' | 'revoked' | 'used_in_tests';
    secret: string;
    secretType?: string;
    secretTypeDisplayName?: string;
    path?: string;
    line?: number;
    /** GitHub's validity check of the secret at its provider. */
    validity?: 'active' | 'inactive' | 'unknown';
  },
): Record<string, unknown> {
  const state = fields.state ?? 'open';
  return {
    number,
    created_at: '2026-08-01T10:00:00Z',
    updated_at: '2026-08-02T10:00:00Z',
    url: `https://api.github.com/repos/${repo.full_name}/secret-scanning/alerts/${number}`,
    html_url: `https://github.com/${repo.full_name}/security/secret-scanning/${number}`,
    locations_url: `https://api.github.com/repos/${repo.full_name}/secret-scanning/alerts/${number}/locations`,
    state,
    resolution: state === 'resolved' ? (fields.resolution ?? 'revoked') : null,
    resolved_at: state === 'resolved' ? '2026-08-03T10:00:00Z' : null,
    resolved_by: state === 'resolved' ? { login: 'octo-admin', id: 1 } : null,
    resolution_comment: null,
    secret_type: fields.secretType ?? 'aws_access_key_id',
    secret_type_display_name: fields.secretTypeDisplayName ?? 'Amazon AWS Access Key ID',
    secret: fields.secret,
    validity: fields.validity ?? 'active',
    publicly_leaked: false,
    multi_repo: false,
    is_base64_encoded: false,
    push_protection_bypassed: false,
    first_location_detected: {
      path: fields.path ?? 'config/deploy.env',
      start_line: fields.line ?? 3,
      end_line: fields.line ?? 3,
      start_column: 19,
      end_column: 39,
      blob_sha: 'af5626b4a114abcb82d63db7c8082c3c4756e51b',
      commit_sha: 'f14d7debf9775f957cf4f1e8176da0786431f72b',
    },
    has_more_locations: false,
  };
}

/**
 * Replaces the tool's data with a realistic organization for demos: `acme-corp` with three repositories
 * (a TypeScript service, a Go API, a Python worker) and their code scanning, Dependabot and secret scanning
 * alerts — open ones, ones a person dismissed (false positive, won't fix, used in tests) and fixed ones,
 * which are not current findings. The secrets are the vendors' documented example values, never real
 * ones. Answers what a sync should import.
 */
export function seedGitHubDemo(state: GitHubState, org = 'acme-corp'): { records: number; findings: number } {
  const checkout = ghRepo(org, 'checkout-service', { id: 810_000_001, language: 'TypeScript' });
  const mobile = ghRepo(org, 'mobile-api', { id: 810_000_002, language: 'Go' });
  const reports = ghRepo(org, 'report-worker', { id: 810_000_003, language: 'Python' });
  state.orgs = [org];
  state.repos = [checkout, mobile, reports];
  state.features = {};
  state.alerts = {
    [checkout.id]: {
      codeScanning: [
        codeScanningAlert(checkout, 1, { ruleId: 'js/sql-injection', description: 'Database query built from user-controlled sources', cwes: [89], path: 'src/orders/repository.ts', line: 88 }),
        codeScanningAlert(checkout, 2, { ruleId: 'js/reflected-xss', description: 'Reflected cross-site scripting', securitySeverity: 'medium', cwes: [79], path: 'src/http/errors.ts', line: 17 }),
        codeScanningAlert(checkout, 3, { ruleId: 'js/path-injection', description: 'Uncontrolled data used in path expression', cwes: [22], path: 'src/invoices/download.ts', line: 31, state: 'dismissed', dismissedReason: 'false positive' }),
        codeScanningAlert(checkout, 4, { ruleId: 'js/insecure-randomness', description: 'Insecure randomness', securitySeverity: 'low', cwes: [338], path: 'src/util/ids.ts', line: 5, state: 'fixed' }),
      ],
      dependabot: [
        dependabotAlert(checkout, 1),
        dependabotAlert(checkout, 2, { packageName: 'axios', ghsaId: 'GHSA-8hc4-vh64-cxmj', cveId: 'CVE-2024-39338', severity: 'high', summary: 'Server-Side Request Forgery in axios', patched: '1.7.4' }),
        dependabotAlert(checkout, 3, { packageName: 'jsonwebtoken', ghsaId: 'GHSA-27h2-hvpr-p74q', cveId: 'CVE-2022-23529', severity: 'medium', summary: 'jsonwebtoken unrestricted key type could lead to legacy keys usage', patched: '9.0.0', state: 'dismissed', dismissedReason: 'tolerable_risk' }),
      ],
      secretScanning: [
        secretScanningAlert(checkout, 1, { secret: 'AKIAIOSFODNN7EXAMPLE', path: 'deploy/staging.env', line: 4 }),
        secretScanningAlert(checkout, 2, { secret: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc', secretType: 'stripe_test_secret_key', secretTypeDisplayName: 'Stripe Test API Secret Key', path: 'test/fixtures/stripe.ts', line: 2, state: 'resolved', resolution: 'used_in_tests' }),
      ],
    },
    [mobile.id]: {
      codeScanning: [
        codeScanningAlert(mobile, 1, { ruleId: 'go/sql-injection', description: 'Database query built from user-controlled sources', securitySeverity: 'critical', cwes: [89], path: 'internal/store/accounts.go', line: 142 }),
        codeScanningAlert(mobile, 2, { ruleId: 'go/request-forgery', description: 'Uncontrolled data used in network request', cwes: [918], path: 'internal/avatars/fetch.go', line: 23 }),
      ],
      dependabot: [
        dependabotAlert(mobile, 1, { ecosystem: 'go', packageName: 'golang.org/x/net', ghsaId: 'GHSA-qppj-fm5r-hxr3', cveId: 'CVE-2023-44487', severity: 'high', summary: 'HTTP/2 rapid reset can cause excessive work in net/http', patched: '0.17.0' }),
        dependabotAlert(mobile, 2, { ecosystem: 'go', packageName: 'github.com/golang-jwt/jwt/v4', ghsaId: 'GHSA-mh63-6h87-95cp', cveId: 'CVE-2025-30204', severity: 'high', summary: 'Excessive memory allocation during header parsing', patched: '4.5.2', state: 'fixed' }),
      ],
      secretScanning: [],
    },
    [reports.id]: {
      codeScanning: [
        codeScanningAlert(reports, 1, { ruleId: 'py/command-line-injection', description: 'Uncontrolled command line', securitySeverity: 'critical', cwes: [78], path: 'worker/render.py', line: 57 }),
        codeScanningAlert(reports, 2, { ruleId: 'py/weak-sensitive-data-hashing', description: 'Use of a broken or weak cryptographic hashing algorithm on sensitive data', securitySeverity: 'medium', cwes: [327], path: 'worker/tokens.py', line: 12, state: 'dismissed', dismissedReason: "won't fix" }),
      ],
      dependabot: [
        dependabotAlert(reports, 1, { ecosystem: 'pip', packageName: 'jinja2', ghsaId: 'GHSA-h75v-3vvj-5mfj', cveId: 'CVE-2024-56326', severity: 'medium', summary: 'Jinja has a sandbox breakout through indirect reference to format method', patched: '3.1.5' }),
        dependabotAlert(reports, 2, { ecosystem: 'pip', packageName: 'requests', ghsaId: 'GHSA-9wx4-h78v-vm56', cveId: 'CVE-2024-35195', severity: 'medium', summary: 'Requests `Session` object does not verify requests after making first request with verify=False', patched: '2.32.0' }),
      ],
      secretScanning: [],
    },
  };
  // Fixed alerts and revoked secrets are not current findings; everything else is (dismissed ones arrive triaged).
  const current = Object.values(state.alerts).flatMap((a) => [...a.codeScanning, ...a.dependabot, ...a.secretScanning]).filter((a) => a.state !== 'fixed');
  return { records: state.repos.length, findings: current.length };
}
