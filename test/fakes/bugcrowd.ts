import { startFakeServer, type FakeRequest, type FakeResponse, type FakeServer, type FakeState } from './fake-server.js';
import { jsonApiError, jsonApiPage } from './json-api.js';

/**
 * A fake Bugcrowd API for what the Bugcrowd connector uses: `Authorization: Token <username>:<password>`
 * (401 when unknown; 403 on submissions for a role without them), a Bugcrowd `Accept` header (406
 * otherwise), `GET /programs`, `GET /programs/{id}` (404 for a program that is gone) and
 * `GET /submissions?filter[program]=…` (an empty list for an unknown program), paged by `page[limit]`
 * (default 25, at most 100) and `page[offset]` through JSON:API `links.next`.
 */

export interface BugcrowdProgramJson {
  id: string;
  type: 'program';
  attributes: { name: string; code: string; [field: string]: unknown };
}

export interface BugcrowdSubmissionJson {
  id: string;
  type: 'submission';
  attributes: { title: string; state: string; severity: number | null; duplicate: boolean; [field: string]: unknown };
  relationships: { program: { data: { id: string; type: 'program' } }; [name: string]: unknown };
  links: { self: string };
}

export interface BugcrowdFakeState extends FakeState {
  /** API tokens, each with whether its user's role may view submissions. */
  tokens: Record<string, { submissions: boolean }>;
  programs: BugcrowdProgramJson[];
  submissions: BugcrowdSubmissionJson[];
}

export type BugcrowdFake = FakeServer<BugcrowdFakeState>;

export const DEFAULT_BUGCROWD_TOKEN = 'vulnsyncfk:bcFakePassword_0000000000000000';
const ACCEPTED = ['application/vnd.bugcrowd+json', 'application/vnd.bugcrowd.v4+json', 'application/json'];

export async function startBugcrowdFake(): Promise<BugcrowdFake> {
  const state: BugcrowdFakeState = { requests: [], faults: [], tokens: { [DEFAULT_BUGCROWD_TOKEN]: { submissions: true } }, programs: [], submissions: [] };
  return startFakeServer(state, handleBugcrowd);
}

function handleBugcrowd(request: FakeRequest, state: BugcrowdFakeState): FakeResponse {
  const { pathname } = request.url;
  const query = request.url.searchParams;
  if (pathname !== '/programs' && pathname !== '/submissions' && !pathname.startsWith('/programs/')) return jsonApiError(404, 'Not Found');
  const token = /^Token (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  const grant = token ? state.tokens[token] : undefined;
  if (!grant) return jsonApiError(401, 'Unauthorized: your credentials are invalid');
  if (!ACCEPTED.includes(String(request.headers.accept))) return jsonApiError(406, 'Not Acceptable: use Accept: application/vnd.bugcrowd+json');

  const limit = Number(query.get('page[limit]') ?? '25');
  const offset = Number(query.get('page[offset]') ?? '0');
  if (!Number.isInteger(limit) || limit < 1 || limit > 100 || !Number.isInteger(offset) || offset < 0) return jsonApiError(400, 'page[limit] must be 1 to 100');
  const page = <T>(items: readonly T[]) =>
    jsonApiPage(request.url, items, offset, limit, (q, at) => q.set('page[offset]', String(at)), { meta: { count: Math.max(0, Math.min(limit, items.length - offset)), total_hits: items.length } });

  if (pathname === '/programs') return page(state.programs);
  if (pathname === '/submissions') {
    if (!grant.submissions) return jsonApiError(403, 'Forbidden: you are not permitted to view submissions');
    const program = query.get('filter[program]');
    return page(state.submissions.filter((s) => !program || s.relationships.program.data.id === program));
  }
  const program = state.programs.find((p) => p.id === decodeURIComponent(pathname.slice('/programs/'.length)));
  return program ? { status: 200, body: { data: program, links: { self: pathname } } } : jsonApiError(404, 'Not Found');
}

let nextId = 1;
const uuid = () => `b0000000-0000-4000-8000-${(nextId++).toString(16).padStart(12, '0')}`;

export function bugcrowdProgram(name: string): BugcrowdProgramJson {
  return { id: uuid(), type: 'program', attributes: { name, code: name.toLowerCase().replace(/\W+/g, '-'), demo: false } };
}

/** An unresolved P2 submission of `program` (override attributes for other states and priorities). */
export function bugcrowdSubmission(program: BugcrowdProgramJson, title: string, fields: Partial<BugcrowdSubmissionJson['attributes']> = {}): BugcrowdSubmissionJson {
  const id = uuid();
  return {
    id,
    type: 'submission',
    attributes: {
      title,
      description: `${title}: steps to reproduce.`,
      remediation_advice: 'Validate the input.',
      bug_url: `https://${program.attributes.code}.example.com/login`,
      vrt_id: 'server_side_injection.sql_injection',
      vrt_version: '1.15',
      vulnerability_references: 'https://owasp.example/sqli',
      severity: 2,
      state: 'unresolved',
      duplicate: false,
      source: 'platform',
      submitted_at: '2026-10-01T10:00:00.000Z',
      ...fields,
    },
    relationships: { program: { data: { id: program.id, type: 'program' } }, duplicate_of: { data: null } },
    links: { self: `/submissions/${id}` },
  };
}
