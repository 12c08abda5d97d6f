import { startFakeServer, type FakeRequest, type FakeResponse, type FakeServer, type FakeState } from './fake-server.js';

/**
 * A fake Harbor API v2.0 for what the Harbor connector uses: robot accounts by basic auth (401 when unknown;
 * 403 on artifacts for a robot without artifact read), `GET /projects`, `GET /projects/{name}` (with
 * `X-Is-Resource-Name: true`), `GET /projects/{p}/repositories`, `GET …/repositories/{r}` and
 * `…/{r}/artifacts` (404 for an unknown repository), `…/artifacts/{digest}/additions/vulnerabilities`.
 * Lists page by `page`/`page_size` (≤ 100) with `X-Total-Count`. Like Harbor's router, the path is decoded
 * once before it is split, so a repository name with `/` must arrive double-encoded (`a%252Fb`).
 */

export interface HarborVulnerabilityJson {
  id: string;
  package: string;
  version: string;
  fix_version?: string;
  severity: string;
  [field: string]: unknown;
}

export interface HarborArtifactJson {
  digest: string;
  tags: { name: string }[];
  push_time: string;
  /** The scan report, absent when the artifact has not been scanned (not part of Harbor's answer). */
  vulnerabilities?: HarborVulnerabilityJson[];
}

export interface HarborFakeState extends FakeState {
  robots: Record<string, { secret: string; readArtifacts: boolean }>;
  projects: { project_id: number; name: string; cve_allowlist: { items: { cve_id: string }[] } }[];
  /** Full repository name (`library/web/shop`) → its artifacts. */
  repositories: Record<string, HarborArtifactJson[]>;
}

export type HarborFake = FakeServer<HarborFakeState>;

export const DEFAULT_HARBOR_ROBOT = 'robot$library+vulnsync';
export const DEFAULT_HARBOR_ROBOT_SECRET = 'harborFakeRobotSecret000000';
export const DEFAULT_HARBOR_SECRET = `${DEFAULT_HARBOR_ROBOT}:${DEFAULT_HARBOR_ROBOT_SECRET}`;
export const HARBOR_REPORT_TYPE = 'application/vnd.security.vulnerability.report; version=1.1';

export async function startHarborFake(): Promise<HarborFake> {
  const state: HarborFakeState = {
    requests: [],
    faults: [],
    robots: { [DEFAULT_HARBOR_ROBOT]: { secret: DEFAULT_HARBOR_ROBOT_SECRET, readArtifacts: true } },
    projects: [],
    repositories: {},
  };
  return startFakeServer(state, handleHarbor);
}

const errors = (status: number, code: string, message: string): FakeResponse => ({ status, body: { errors: [{ code, message }] } });

function handleHarbor(request: FakeRequest, state: HarborFakeState): FakeResponse {
  const [name, secret] = Buffer.from(/^Basic (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '', 'base64').toString('utf8').split(/:(.*)/s);
  const robot = state.robots[name ?? ''];
  if (!robot || robot.secret !== secret) return errors(401, 'UNAUTHORIZED', 'unauthorized');
  const query = request.url.searchParams;
  const listed = (items: unknown[]): FakeResponse => {
    const page = Number(query.get('page') ?? '1');
    const size = Number(query.get('page_size') ?? '10');
    if (size > 100) return errors(400, 'BAD_REQUEST', 'page_size must be <= 100');
    return { status: 200, headers: { 'X-Total-Count': String(items.length) }, body: items.slice((page - 1) * size, page * size) };
  };
  // Decoded once, then split: a single-encoded `a%2Fb` becomes two segments and matches nothing.
  const segments = decodeURIComponent(request.url.pathname).split('/').slice(1);
  if (segments[0] !== 'api' || segments[1] !== 'v2.0' || segments[2] !== 'projects') return errors(404, 'NOT_FOUND', 'not found');
  if (segments.length === 3) return listed(state.projects);
  const project = request.headers['x-is-resource-name'] === 'true' ? state.projects.find((p) => p.name === segments[3]) : undefined;
  if (!project) return errors(404, 'NOT_FOUND', `project ${segments[3]} not found`);
  if (segments.length === 4) return { status: 200, body: project };
  if (segments[4] !== 'repositories') return errors(404, 'NOT_FOUND', 'not found');
  const repos = Object.keys(state.repositories).filter((r) => r.startsWith(`${project.name}/`));
  if (segments.length === 5) return listed(repos.map((r, i) => ({ id: i + 1, name: r, project_id: project.project_id, artifact_count: state.repositories[r]!.length })));
  const repository = `${project.name}/${decodeURIComponent(segments[5]!)}`;
  const artifacts = state.repositories[repository];
  if (!artifacts) return errors(404, 'NOT_FOUND', `repository ${repository} not found`);
  if (segments.length === 6) return { status: 200, body: { name: repository, artifact_count: artifacts.length } };
  if (segments[6] !== 'artifacts') return errors(404, 'NOT_FOUND', 'not found');
  if (!robot.readArtifacts) return errors(403, 'FORBIDDEN', 'forbidden');
  const newestFirst = query.get('sort') === '-push_time' ? [...artifacts].sort((a, b) => b.push_time.localeCompare(a.push_time)) : artifacts;
  if (segments.length === 7) return listed(newestFirst.map(({ vulnerabilities: _report, ...artifact }) => artifact));
  const artifact = artifacts.find((a) => a.digest === segments[7]);
  if (!artifact || segments.slice(8).join('/') !== 'additions/vulnerabilities') return errors(404, 'NOT_FOUND', 'artifact not found');
  if (!artifact.vulnerabilities) return { status: 200, body: {} };
  const report = { generated_at: artifact.push_time, scanner: { name: 'Trivy', vendor: 'Aqua Security', version: 'v0.50.1' }, severity: 'High', vulnerabilities: artifact.vulnerabilities };
  return { status: 200, body: { [HARBOR_REPORT_TYPE]: report } };
}

let nextDigest = 1;

export function harborArtifact(tag: string, pushTime: string, vulnerabilities?: HarborVulnerabilityJson[]): HarborArtifactJson {
  return { digest: `sha256:${(nextDigest++).toString(16).padStart(64, '0')}`, tags: [{ name: tag }], push_time: pushTime, vulnerabilities };
}

export function harborVulnerability(id: string, pkg: string, version: string, fields: Partial<HarborVulnerabilityJson> = {}): HarborVulnerabilityJson {
  return {
    id,
    package: pkg,
    version,
    fix_version: `${version}-fixed`,
    severity: 'High',
    description: `${id} lets an attacker in through ${pkg}.`,
    links: [`https://avd.aquasec.com/nvd/${id.toLowerCase()}`],
    preferred_cvss: { score_v3: 7.5, vector_v3: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' },
    cwe_ids: ['CWE-787'],
    vendor_attributes: {},
    ...fields,
  };
}
