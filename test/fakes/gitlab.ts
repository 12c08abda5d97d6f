import { startFakeServer, type FakeRequest, type FakeResponse, type FakeServer, type FakeState } from './fake-server.js';

/**
 * A fake GitLab for what the GitLab connector uses: `PRIVATE-TOKEN` or `Authorization: Bearer` (401 for an
 * unknown token, 403 `insufficient_scope` for one without read_api); `GET /api/v4/projects?membership=true`
 * with keyset paging (`pagination=keyset&order_by=id`, the next page in the `Link` header as `id_after`);
 * `GET /api/v4/projects/:id` (404 when gone); and `POST /api/graphql`, answering the query's
 * `project(fullPath: $fullPath) { vulnerabilities(first: N, after: $after, state: [...]) }` from the variables
 * and the `first` and `state` arguments written in the query, with Relay cursors (`project: null` for an
 * unknown path, `vulnerabilities: null` for a Reporter, as GitLab does).
 */

export interface GitLabProjectJson {
  id: number;
  path_with_namespace: string;
  web_url: string;
  [field: string]: unknown;
}

export interface GitLabVulnerabilityJson {
  id: string;
  title: string;
  severity: string;
  state: string;
  dismissalReason: string | null;
  [field: string]: unknown;
}

export interface GitLabFakeState extends FakeState {
  /** Tokens and whether they carry the read_api scope. */
  tokens: Record<string, { readApi: boolean }>;
  projects: GitLabProjectJson[];
  /** Vulnerabilities by project full path. */
  vulnerabilities: Record<string, GitLabVulnerabilityJson[]>;
  /** Full paths where the user is only a Reporter: GraphQL resolves their `vulnerabilities` to null. */
  reporterOf?: string[];
}

export type GitLabFake = FakeServer<GitLabFakeState>;

export const DEFAULT_GITLAB_TOKEN = 'glpat-fakeToken000000000000';

export async function startGitLabFake(): Promise<GitLabFake> {
  return startFakeServer<GitLabFakeState>({ requests: [], faults: [], tokens: { [DEFAULT_GITLAB_TOKEN]: { readApi: true } }, projects: [], vulnerabilities: {} }, handleGitLab);
}

function handleGitLab(request: FakeRequest, state: GitLabFakeState): FakeResponse {
  const path = request.url.pathname;
  const query = request.url.searchParams;
  const token = request.headers['private-token'] ?? /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  const known = typeof token === 'string' ? state.tokens[token] : undefined;
  if (!path.startsWith('/api/')) return { status: 404, rawBody: '<html>Page not found</html>', headers: { 'Content-Type': 'text/html' } };
  if (!known) return { status: 401, body: { message: '401 Unauthorized' } };
  if (!known.readApi) return { status: 403, body: { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token.', scope: 'api read_api' } };

  if (path === '/api/v4/projects' && request.method === 'GET') {
    if (query.get('membership') !== 'true') return { status: 400, body: { message: 'this fake only lists membership projects' } };
    const perPage = Number(query.get('per_page') ?? '20');
    const after = Number(query.get('id_after') ?? '0');
    const sorted = [...state.projects].sort((a, b) => a.id - b.id).filter((p) => p.id > after);
    const items = sorted.slice(0, perPage);
    const keyset = query.get('pagination') === 'keyset';
    if (!keyset) return { status: 200, body: items };
    const next = new URLSearchParams({ id_after: String(items.at(-1)?.id ?? 0), membership: 'true', order_by: 'id', pagination: 'keyset', per_page: String(perPage), sort: 'asc' });
    const link = sorted.length > perPage ? { Link: `<${request.url.origin}/api/v4/projects?${next}>; rel="next"` } : undefined;
    return { status: 200, headers: link, body: items };
  }
  const one = /^\/api\/v4\/projects\/([^/]+)$/.exec(path);
  if (one && request.method === 'GET') {
    const id = decodeURIComponent(one[1]!);
    const project = state.projects.find((p) => String(p.id) === id || p.path_with_namespace === id);
    return project ? { status: 200, body: project } : { status: 404, body: { message: '404 Project Not Found' } };
  }
  if (path === '/api/graphql' && request.method === 'POST') return graphql(request.json, state);
  return { status: 404, body: { message: '404 Not Found' } };
}

function graphql(body: unknown, state: GitLabFakeState): FakeResponse {
  const { query, variables } = (body ?? {}) as { query?: string; variables?: { fullPath?: string; after?: string | null } };
  if (typeof query !== 'string' || !/project\(fullPath: \$fullPath\)/.test(query)) {
    return { status: 200, body: { errors: [{ message: 'this fake answers only project(fullPath: $fullPath) { vulnerabilities }' }] } };
  }
  const project = state.projects.find((p) => p.path_with_namespace === variables?.fullPath);
  if (!project) return { status: 200, body: { data: { project: null } } };
  if (state.reporterOf?.includes(project.path_with_namespace)) return { status: 200, body: { data: { project: { vulnerabilities: null } } } };
  const first = Math.min(Number(/vulnerabilities\([^)]*first: (\d+)/.exec(query)?.[1] ?? '100'), 100);
  const states = /state: \[([A-Z_, ]+)\]/.exec(query)?.[1]?.split(/,\s*/);
  const all = (state.vulnerabilities[project.path_with_namespace] ?? []).filter((v) => !states || states.includes(v.state));
  const offset = variables?.after ? Number(Buffer.from(variables.after, 'base64').toString().replace('offset:', '')) : 0;
  const nodes = all.slice(offset, offset + first);
  const endCursor = nodes.length > 0 ? Buffer.from(`offset:${offset + nodes.length}`).toString('base64') : null;
  return { status: 200, body: { data: { project: { vulnerabilities: { nodes, pageInfo: { endCursor, hasNextPage: offset + nodes.length < all.length } } } } } };
}

let nextId = 1000;

export function gitlabProject(pathWithNamespace: string): GitLabProjectJson {
  const id = nextId++;
  return { id, path_with_namespace: pathWithNamespace, name: pathWithNamespace.split('/').at(-1), web_url: `https://gitlab.example/${pathWithNamespace}`, default_branch: 'main' };
}

export function gitlabVulnerability(project: GitLabProjectJson, title: string, fields: Partial<GitLabVulnerabilityJson> = {}): GitLabVulnerabilityJson {
  const id = nextId++;
  return {
    id: `gid://gitlab/Vulnerability/${id}`,
    title,
    description: `${title} found by SAST.`,
    severity: 'HIGH',
    state: 'DETECTED',
    dismissalReason: null,
    reportType: 'SAST',
    solution: 'Validate the input.',
    webUrl: `${project.web_url}/-/security/vulnerabilities/${id}`,
    detectedAt: '2026-10-01T10:00:00Z',
    primaryIdentifier: { externalType: 'semgrep_id', externalId: 'gosec.G101-1', name: 'gosec.G101-1' },
    identifiers: [
      { externalType: 'semgrep_id', externalId: 'gosec.G101-1', name: 'gosec.G101-1' },
      { externalType: 'cwe', externalId: '798', name: 'CWE-798' },
    ],
    location: { file: `src/${title.replace(/\W+/g, '_')}.go`, startLine: 42 },
    ...fields,
  };
}
