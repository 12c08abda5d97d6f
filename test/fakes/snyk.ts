import { startFakeServer, type FakeRequest, type FakeResponse, type FakeServer, type FakeState } from './fake-server.js';
import { jsonApiError, jsonApiPage } from './json-api.js';

/**
 * A fake Snyk REST API for what the Snyk connector uses: `Authorization: token <API token>` (401 when
 * unknown; 403 for an organization the token cannot see, or issues it may not read), a required
 * `version` date (400 without), `GET /rest/orgs/{org}/projects`, `GET /rest/orgs/{org}/projects/{id}`
 * (404 for a project that is gone) and `GET /rest/orgs/{org}/issues?scan_item.id=…&scan_item.type=project`
 * (an empty list for an unknown project, as Snyk does), paged by `limit` (10–100, steps of 10, default 10)
 * and an opaque `starting_after` cursor in JSON:API `links.next` (without `/rest` for projects, as Snyk
 * writes them, with it for issues); and API v1's
 * `GET /v1/org/{org}/project/{id}/ignores` (`{ <issue key>: [{ "*": { reasonType, reason } }] }`).
 */

export interface SnykProjectJson {
  id: string;
  type: 'project';
  attributes: { name: string; type: string; target_reference: string | null; [field: string]: unknown };
}

export interface SnykIssueJson {
  id: string;
  type: 'issue';
  attributes: { title: string; key: string; status: 'open' | 'resolved'; ignored: boolean; effective_severity_level: string; [field: string]: unknown };
  relationships: { scan_item: { data: { id: string; type: 'project' } } };
}

export interface SnykFakeState extends FakeState {
  /** Tokens, each with the organizations it sees and whether it may read their issues. */
  tokens: Record<string, { orgs: string[]; issues: boolean }>;
  orgs: string[];
  projects: Record<string, SnykProjectJson[]>;
  issues: Record<string, SnykIssueJson[]>;
  /** API v1 ignores by project id, then issue key. */
  ignores: Record<string, Record<string, { [path: string]: { reasonType: SnykIgnoreReason; reason: string } }[]>>;
}

export type SnykIgnoreReason = 'not-vulnerable' | 'wont-fix' | 'temporary-ignore';

export type SnykFake = FakeServer<SnykFakeState>;

export const DEFAULT_SNYK_TOKEN = 'snykFakeToken-0000-1111-2222-333333333333';
export const DEFAULT_SNYK_ORG = '3de2b524-0000-4f3f-ba5f-00000000c2a1';

export async function startSnykFake(): Promise<SnykFake> {
  const state: SnykFakeState = {
    requests: [],
    faults: [],
    tokens: { [DEFAULT_SNYK_TOKEN]: { orgs: [DEFAULT_SNYK_ORG], issues: true } },
    orgs: [DEFAULT_SNYK_ORG],
    projects: { [DEFAULT_SNYK_ORG]: [] },
    issues: { [DEFAULT_SNYK_ORG]: [] },
    ignores: {},
  };
  return startFakeServer(state, handleSnyk);
}

function handleSnyk(request: FakeRequest, state: SnykFakeState): FakeResponse {
  const query = request.url.searchParams;
  const v1 = /^\/v1\/org\/([^/]+)\/project\/([^/]+)\/ignores$/.exec(request.url.pathname);
  const route = /^\/rest\/orgs\/([^/]+)\/(projects|issues)(?:\/([^/]+))?$/.exec(request.url.pathname);
  if (!route && !v1) return jsonApiError(404, 'Not Found');
  const token = /^token (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  const grant = token ? state.tokens[token] : undefined;
  if (!grant) return jsonApiError(401, 'Unauthorized: the authentication credentials are missing or invalid');
  if (v1) {
    const [, org, projectId] = v1;
    if (!grant.orgs.includes(org!)) return { status: 403, body: { code: 403, error: 'Forbidden', message: 'You do not have access to this organization' } };
    if (!state.projects[org!]?.some((p) => p.id === projectId)) return { status: 404, body: { code: 404, error: 'Not Found', message: 'Project not found' } };
    return { status: 200, body: state.ignores[projectId!] ?? {} };
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(query.get('version') ?? '')) return jsonApiError(400, 'Bad Request: the version parameter is required');
  const [, org, kind, id] = route!;
  if (!state.orgs.includes(org!)) return jsonApiError(404, 'Org not found');
  if (!grant.orgs.includes(org!)) return jsonApiError(403, 'Forbidden: the token does not have access to this organization');

  const limit = Number(query.get('limit') ?? '10');
  if (!Number.isInteger(limit) || limit < 10 || limit > 100 || limit % 10 !== 0) return jsonApiError(400, 'limit must be 10 to 100 in steps of 10');
  const after = query.get('starting_after');
  const offset = after ? Number(Buffer.from(after, 'base64url').toString()) : 0;
  // Snyk's projects links leave out the `/rest` its issues links keep.
  const linkPath = kind === 'projects' ? request.url.pathname.replace(/^\/rest/, '') : request.url.pathname;
  const page = <T>(items: readonly T[]) =>
    jsonApiPage(request.url, items, offset, limit, (q, at) => q.set('starting_after', Buffer.from(String(at)).toString('base64url')), {}, linkPath);

  if (kind === 'projects') {
    const projects = state.projects[org!] ?? [];
    if (!id) return page(projects);
    const project = projects.find((p) => p.id === decodeURIComponent(id));
    return project ? { status: 200, body: { jsonapi: { version: '1.0' }, data: project } } : jsonApiError(404, 'Project not found');
  }
  if (id) return jsonApiError(404, 'Not Found');
  if (!grant.issues) return jsonApiError(403, 'Forbidden: the token may not view issues');
  const scanItem = query.get('scan_item.id');
  return page((state.issues[org!] ?? []).filter((i) => !scanItem || (i.relationships.scan_item.data.id === scanItem && query.get('scan_item.type') === 'project')));
}

let nextId = 1;
const uuid = () => `00000000-0000-4000-8000-${(nextId++).toString(16).padStart(12, '0')}`;

export function snykProject(name: string, fields: Partial<SnykProjectJson['attributes']> = {}): SnykProjectJson {
  return { id: uuid(), type: 'project', attributes: { name, type: 'npm', target_reference: 'main', origin: 'github', status: 'active', ...fields } };
}

/** An open npm package vulnerability of `project` (override attributes for code issues, ignores, severities). */
export function snykIssue(project: SnykProjectJson, title: string, fields: Partial<SnykIssueJson['attributes']> = {}): SnykIssueJson {
  const n = nextId;
  return {
    id: uuid(),
    type: 'issue',
    attributes: {
      title,
      key: `SNYK-JS-FAKEPKG-${1000 + n}`,
      type: 'package_vulnerability',
      status: 'open',
      ignored: false,
      effective_severity_level: 'high',
      classes: [{ id: 'CWE-79', source: 'CWE', type: 'weakness' }],
      problems: [
        { id: `SNYK-JS-FAKEPKG-${1000 + n}`, source: 'SNYK', type: 'vulnerability' },
        { id: `CVE-2026-${10000 + n}`, source: 'NVD', type: 'vulnerability', url: `https://nvd.example/CVE-2026-${10000 + n}` },
      ],
      coordinates: [{ is_upgradeable: true, representations: [{ dependency: { package_name: `pkg-${n}`, package_version: '1.2.3' } }] }],
      severities: [
        { source: 'NVD', level: 'high', score: 7.5, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', version: '3.1' },
        { source: 'Snyk', level: 'high', score: 8.1, vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', version: '3.1' },
      ],
      created_at: '2026-10-01T10:00:00.000Z',
      ...fields,
    },
    relationships: { scan_item: { data: { id: project.id, type: 'project' } } },
  };
}

/** Ignores the issue in its project, as a person does in Snyk's UI, with a reason type. */
export function ignoreSnykIssue(state: SnykFakeState, issue: SnykIssueJson, reasonType: SnykIgnoreReason): SnykIssueJson {
  issue.attributes.ignored = true;
  const project = (state.ignores[issue.relationships.scan_item.data.id] ??= {});
  project[issue.attributes.key] = [{ '*': { reasonType, reason: `${reasonType} after review` } }];
  return issue;
}
