import { createHash } from 'node:crypto';
import { startFakeServer, type FakeRequest, type FakeResponse, type FakeServer, type FakeState } from './fake-server.js';

/**
 * A fake Semgrep AppSec Platform API (v1) for what the Semgrep connector uses: bearer tokens (401 for an
 * unknown token, 403 for a token without the Web API scope), `GET /api/v1/deployments`,
 * `GET /api/v1/deployments/{slug}/projects` and `…/projects/{name}` (404 for a project that is gone),
 * `GET /api/v1/deployments/{slug}/findings` with `repos`, `dedup` and 0-based `page`/`page_size`, which
 * answers an empty list past the last page (Semgrep reports no total).
 */

export interface SemgrepProjectJson {
  id: number;
  name: string;
  url: string;
  tags: string[];
  created_at: string;
  latest_scan_at: string;
}

export interface SemgrepFindingJson {
  id: number;
  match_based_id: string;
  ref: string;
  repository: { name: string; url: string };
  rule_name: string;
  rule_message: string;
  severity: string;
  status: string;
  state: string;
  triage_state: string;
  triage_reason: string | null;
  [field: string]: unknown;
}

export interface SemgrepFakeState extends FakeState {
  tokens: Record<string, { webApi: boolean }>;
  deployments: { id: number; slug: string; name: string }[];
  /** By deployment slug. */
  projects: Record<string, SemgrepProjectJson[]>;
  /** By project name; a finding on several branches appears once per ref, collapsed by `dedup=true`. */
  findings: Record<string, SemgrepFindingJson[]>;
}

export type SemgrepFake = FakeServer<SemgrepFakeState>;

export const DEFAULT_SEMGREP_TOKEN = 'sgp_fakeSemgrepToken00000000000000000000';

export async function startSemgrepFake(): Promise<SemgrepFake> {
  const state: SemgrepFakeState = { requests: [], faults: [], tokens: { [DEFAULT_SEMGREP_TOKEN]: { webApi: true } }, deployments: [], projects: {}, findings: {} };
  return startFakeServer(state, handleSemgrep);
}

function handleSemgrep(request: FakeRequest, state: SemgrepFakeState): FakeResponse {
  const path = request.url.pathname;
  const query = request.url.searchParams;
  const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  const grant = token ? state.tokens[token] : undefined;
  if (!grant) return { status: 401, body: { error: 'Invalid API token' } };
  if (!grant.webApi) return { status: 403, body: { error: 'This token does not have the Web API scope' } };

  if (path === '/api/v1/deployments') return { status: 200, body: { deployments: state.deployments.map((d) => ({ ...d, findings: { url: `https://semgrep.dev/orgs/${d.slug}/findings` } })) } };
  const match = /^\/api\/v1\/deployments\/([^/]+)\/(projects|findings)(?:\/(.+))?$/.exec(path);
  const slug = match ? decodeURIComponent(match[1]!) : '';
  if (!match || !state.deployments.some((d) => d.slug === slug)) return { status: 404, body: { error: 'Not found' } };
  const projects = state.projects[slug] ?? [];
  const page = Number(query.get('page') ?? '0');
  const size = Math.min(Number(query.get('page_size') ?? '100'), 3000);
  const slice = <T>(items: T[]) => items.slice(page * size, (page + 1) * size);

  if (match[2] === 'projects' && match[3]) {
    const project = projects.find((p) => p.name === decodeURIComponent(match[3]!));
    return project ? { status: 200, body: { project } } : { status: 404, body: { error: 'Project not found' } };
  }
  if (match[2] === 'projects') return { status: 200, body: { projects: slice(projects) } };
  const repos = (query.get('repos') ?? '').split(',').filter(Boolean);
  let findings = projects.filter((p) => repos.length === 0 || repos.includes(p.name)).flatMap((p) => state.findings[p.name] ?? []);
  if (query.get('dedup') === 'true') findings = findings.filter((f, i) => findings.findIndex((g) => g.match_based_id === f.match_based_id) === i);
  return { status: 200, body: { findings: slice(findings) } };
}

let nextId = 1000;

export function semgrepProject(name: string, fields: Partial<SemgrepProjectJson> = {}): SemgrepProjectJson {
  return { id: nextId++, name, url: `https://github.com/${name}`, tags: [], created_at: '2026-01-01T00:00:00Z', latest_scan_at: '2026-11-30T08:00:00Z', ...fields };
}

/** A finding as the findings endpoint returns it; `match_based_id` depends on rule, path and index only. */
export function semgrepFinding(
  project: string,
  rule: string,
  file: string,
  fields: Partial<SemgrepFindingJson> & { line?: number; index?: number; cwe?: string } = {},
): SemgrepFindingJson {
  const { line = 10, index = 0, cwe = 'CWE-79: Improper Neutralization of Input During Web Page Generation', ...rest } = fields;
  const key = createHash('sha512').update(`${rule}:${file}:${index}`).digest('hex');
  return {
    id: nextId++,
    match_based_id: `${key}_${index}`,
    ref: 'refs/heads/main',
    repository: { name: project, url: `https://github.com/${project}` },
    line_of_code_url: `https://github.com/${project}/blob/main/${file}#L${line}`,
    rule_name: rule,
    rule_message: `Rule ${rule} matched`,
    severity: 'medium',
    confidence: 'medium',
    categories: ['security'],
    status: 'open',
    state: 'unresolved',
    triage_state: 'untriaged',
    triage_reason: null,
    created_at: '2026-11-01T10:00:00Z',
    location: { file_path: file, line, column: 4, end_line: line, end_column: 20 },
    rule: { name: rule, message: `Rule ${rule} matched`, confidence: 'medium', category: 'security', cwe_names: [cwe], owasp_names: [] },
    ...rest,
  };
}
