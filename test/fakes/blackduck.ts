import { randomUUID } from 'node:crypto';
import { startFakeServer, type FakeRequest, type FakeResponse, type FakeServer, type FakeState } from './fake-server.js';

/**
 * A fake Black Duck SCA API for what the Black Duck connector uses: `POST /api/tokens/authenticate` with
 * `Authorization: token <API token>` (401 when unknown) issuing a bearer token and its `expiresInMilliseconds`;
 * every other call with `Authorization: Bearer <token>` (401 for a token it did not issue, or one used up:
 * `usesPerToken` makes tokens die early, as a revoked or expired one does); `GET /api/projects`,
 * `/api/projects/{id}/versions` and `…/versions/{id}/vulnerable-bom-components` (404 for a project or version
 * that is gone, 403 when the user has no role that shows the BOM, 406 without the bill-of-materials-6 media
 * type), each `{ totalCount, items }` paged by `offset`/`limit` (default 10), items linked by `_meta.href`.
 */

export interface BlackDuckVersionJson {
  id: string;
  versionName: string;
  phase: string;
}

export interface BlackDuckProjectJson {
  id: string;
  name: string;
  versions: BlackDuckVersionJson[];
}

export interface BlackDuckBomItem {
  componentName: string;
  componentVersionName: string;
  /** Component and version ids; the fake writes them into `componentVersion`'s URL. */
  componentId: string;
  versionId: string;
  ignored: boolean;
  vulnerabilityWithRemediation: { vulnerabilityName: string; severity: string; remediationStatus: string; [field: string]: unknown };
  [field: string]: unknown;
}

export interface BlackDuckFakeState extends FakeState {
  apiTokens: string[];
  /** Lifetime the fake announces for each bearer token it issues. */
  tokenLifetimeMs: number;
  /** Requests a bearer token serves before the fake answers 401 for it; unlimited when absent. */
  usesPerToken?: number;
  issued: Map<string, number>;
  bomAccess: boolean;
  projects: BlackDuckProjectJson[];
  /** Vulnerable BOM components by version id. */
  bom: Record<string, BlackDuckBomItem[]>;
}

export type BlackDuckFake = FakeServer<BlackDuckFakeState>;

export const DEFAULT_BLACKDUCK_API_TOKEN = 'bdFakeApiToken000000000000000000';
const BOM_MEDIA_TYPE = 'application/vnd.blackducksoftware.bill-of-materials-6+json';

export async function startBlackDuckFake(): Promise<BlackDuckFake> {
  const state: BlackDuckFakeState = {
    requests: [],
    faults: [],
    apiTokens: [DEFAULT_BLACKDUCK_API_TOKEN],
    tokenLifetimeMs: 7_200_000,
    issued: new Map(),
    bomAccess: true,
    projects: [],
    bom: {},
  };
  return startFakeServer(state, handleBlackDuck);
}

const unauthorized: FakeResponse = { status: 401, body: { errorMessage: 'Unauthorized', errorCode: '{core.rest.unauthorized}' } };
const notFound: FakeResponse = { status: 404, body: { errorMessage: 'The requested resource was not found', errorCode: '{core.rest.not_found}' } };

function handleBlackDuck(request: FakeRequest, state: BlackDuckFakeState): FakeResponse {
  const path = request.url.pathname;
  const auth = request.headers.authorization ?? '';
  if (path === '/api/tokens/authenticate') {
    if (request.method !== 'POST') return { status: 405, body: { errorMessage: 'Method not allowed' } };
    const apiToken = /^token (.+)$/.exec(auth)?.[1];
    if (!apiToken || !state.apiTokens.includes(apiToken)) return unauthorized;
    const bearerToken = `bd-bearer-${randomUUID()}`;
    state.issued.set(bearerToken, state.usesPerToken ?? Infinity);
    return { status: 200, body: { bearerToken, expiresInMilliseconds: state.tokenLifetimeMs } };
  }
  const match = /^\/api\/projects(?:\/([^/]+)\/versions(?:\/([^/]+)\/vulnerable-bom-components)?)?$/.exec(path);
  if (!match) return notFound;
  const bearer = /^Bearer (.+)$/.exec(auth)?.[1];
  const uses = bearer ? state.issued.get(bearer) : undefined;
  if (!bearer || uses === undefined || uses <= 0) return unauthorized;
  state.issued.set(bearer, uses - 1);

  const base = `http://${request.headers.host}`;
  const page = <T>(items: T[]): FakeResponse => {
    const offset = Number(request.url.searchParams.get('offset') ?? '0');
    const limit = Number(request.url.searchParams.get('limit') ?? '10');
    return { status: 200, body: { totalCount: items.length, items: items.slice(offset, offset + limit), appliedFilters: [], _meta: { allow: ['GET'], href: `${base}${path}`, links: [] } } };
  };
  if (!match[1]) {
    return page(state.projects.map((p) => ({ name: p.name, description: null, _meta: { allow: ['GET'], href: `${base}/api/projects/${p.id}`, links: [] } })));
  }
  const project = state.projects.find((p) => p.id === match[1]);
  if (!project) return notFound;
  if (!match[2]) {
    return page(project.versions.map((v) => ({ versionName: v.versionName, phase: v.phase, distribution: 'EXTERNAL', _meta: { allow: ['GET'], href: `${base}/api/projects/${project.id}/versions/${v.id}`, links: [] } })));
  }
  const version = project.versions.find((v) => v.id === match[2]);
  if (!version) return notFound;
  if (!state.bomAccess) return { status: 403, body: { errorMessage: 'The user does not have access to this project version', errorCode: '{core.rest.forbidden}' } };
  if (request.headers.accept !== BOM_MEDIA_TYPE) return { status: 406, body: { errorMessage: 'Not acceptable' } };
  return page(
    (state.bom[version.id] ?? []).map(({ componentId, versionId, ...item }) => ({
      ...item,
      componentVersion: `${base}/api/components/${componentId}/versions/${versionId}`,
      _meta: { allow: ['GET', 'PUT'], href: `${base}/api/projects/${project.id}/versions/${version.id}/components/${componentId}/versions/${versionId}/vulnerabilities/${item.vulnerabilityWithRemediation.vulnerabilityName}/remediation`, links: [] },
    })),
  );
}

export function blackDuckProject(name: string, versionNames: string[]): BlackDuckProjectJson {
  return { id: randomUUID(), name, versions: versionNames.map((versionName) => ({ id: randomUUID(), versionName, phase: 'DEVELOPMENT' })) };
}

export function blackDuckVulnerability(component: string, version: string, vulnerabilityName: string, remediation: Partial<BlackDuckBomItem['vulnerabilityWithRemediation']> = {}, fields: Partial<BlackDuckBomItem> = {}): BlackDuckBomItem {
  return {
    componentName: component,
    componentVersionName: version,
    componentId: randomUUID(),
    versionId: randomUUID(),
    componentVersionOriginName: 'npmjs',
    componentVersionOriginId: `${component}/${version}`,
    ignored: false,
    license: { type: 'CONJUNCTIVE', licenses: [], licenseDisplay: 'Apache License 2.0' },
    vulnerabilityWithRemediation: {
      vulnerabilityName,
      description: `${vulnerabilityName} lets an attacker exhaust memory in ${component}.`,
      vulnerabilityPublishedDate: '2026-03-02T10:00:00.000Z',
      baseScore: 7.5,
      overallScore: 6.9,
      source: vulnerabilityName.startsWith('BDSA') ? 'BDSA' : 'NVD',
      severity: 'HIGH',
      remediationStatus: 'NEW',
      cweId: 'CWE-400',
      relatedVulnerability: vulnerabilityName.startsWith('BDSA') ? 'https://blackduck.example/api/vulnerabilities/CVE-2026-1000' : null,
      ...remediation,
    },
    ...fields,
  };
}
