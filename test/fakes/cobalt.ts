import { startFakeServer, type FakeRequest, type FakeResponse, type FakeServer, type FakeState } from './fake-server.js';

/**
 * A fake Cobalt API (v2) for what the Cobalt connector uses: a personal token as `Authorization: Bearer`
 * (401 when unknown) and `X-Org-Token` (403 for an org the user is not in, or a role without findings),
 * `GET /assets`, `GET /assets/{id}` (404 for an asset that is gone) and `GET /findings?asset=…`, each item
 * `{ resource, links }`, paged by `limit` (default 10) and an opaque cursor given as
 * `pagination.next_page: "/findings?cursor=…"` (null on the last page).
 */

export interface CobaltAssetJson {
  resource: { id: string; title: string; description: string; asset_type: string; [field: string]: unknown };
  links: { ui: { url: string } };
}

export interface CobaltFindingJson {
  resource: { id: string; title: string; state: string; severity: string | null; asset_id: string; [field: string]: unknown };
  links: { ui: { url: string } };
}

export interface CobaltFakeState extends FakeState {
  apiTokens: string[];
  /** Org tokens, each with whether the user may read findings there. */
  orgs: Record<string, { findings: boolean }>;
  assets: CobaltAssetJson[];
  findings: CobaltFindingJson[];
}

export type CobaltFake = FakeServer<CobaltFakeState>;

export const DEFAULT_COBALT_API_TOKEN = 'cobaltFakeApiToken0000000000';
export const DEFAULT_COBALT_ORG_TOKEN = 'cobaltFakeOrgToken0000000000';
export const DEFAULT_COBALT_SECRET = `${DEFAULT_COBALT_API_TOKEN}:${DEFAULT_COBALT_ORG_TOKEN}`;

export async function startCobaltFake(): Promise<CobaltFake> {
  const state: CobaltFakeState = { requests: [], faults: [], apiTokens: [DEFAULT_COBALT_API_TOKEN], orgs: { [DEFAULT_COBALT_ORG_TOKEN]: { findings: true } }, assets: [], findings: [] };
  return startFakeServer(state, handleCobalt);
}

function handleCobalt(request: FakeRequest, state: CobaltFakeState): FakeResponse {
  const path = request.url.pathname;
  const query = request.url.searchParams;
  const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (!token || !state.apiTokens.includes(token)) return { status: 401, body: { message: 'Your API token is wrong' } };
  const org = state.orgs[String(request.headers['x-org-token'] ?? '')];
  if (!org) return { status: 403, body: { message: 'You do not have access to this organization' } };

  const page = <T>(items: T[], base: string): FakeResponse => {
    const offset = query.get('cursor') ? Number(Buffer.from(query.get('cursor')!, 'base64url').toString()) : 0;
    const limit = Number(query.get('limit') ?? '10');
    const next = offset + limit < items.length ? `${base}?cursor=${Buffer.from(String(offset + limit)).toString('base64url')}` : null;
    const prev = offset > 0 ? `${base}?cursor=${Buffer.from(String(Math.max(0, offset - limit))).toString('base64url')}` : null;
    return { status: 200, body: { data: items.slice(offset, offset + limit), pagination: { next_page: next, prev_page: prev } } };
  };
  if (path === '/assets') return page(state.assets, '/assets');
  const asset = /^\/assets\/([^/]+)$/.exec(path);
  if (asset) {
    const found = state.assets.find((a) => a.resource.id === decodeURIComponent(asset[1]!));
    return found ? { status: 200, body: found } : { status: 404, body: { message: 'Not Found -- The specified request could not be found' } };
  }
  if (path === '/findings') {
    if (!org.findings) return { status: 403, body: { message: "Forbidden -- You don't have access to this" } };
    const assetId = query.get('asset');
    return page(state.findings.filter((f) => !assetId || f.resource.asset_id === assetId), '/findings');
  }
  return { status: 404, body: { message: 'Not Found -- The specified request could not be found' } };
}

let nextId = 1;
const id = (prefix: string) => `${prefix}_${(nextId++).toString(36).padStart(8, 'x')}`;

export function cobaltAsset(title: string): CobaltAssetJson {
  const assetId = id('as');
  return {
    resource: { id: assetId, title, description: `${title} under test`, asset_type: 'web', attachments: [] },
    links: { ui: { url: `https://api.cobalt.io/links/${assetId}` } },
  };
}

export function cobaltFinding(asset: CobaltAssetJson, title: string, fields: Partial<CobaltFindingJson['resource']> = {}): CobaltFindingJson {
  const findingId = id('vl');
  return {
    resource: {
      id: findingId,
      tag: `#PT1000_${nextId}`,
      title,
      description: `${title} in the login form.`,
      type_category: 'Cross-Site Scripting (XSS)',
      labels: [],
      impact: 4,
      likelihood: 4,
      severity: 'high',
      affected_targets: [`https://${asset.resource.title}.example.com/login`],
      proof_of_concept: 'Send the payload.',
      suggested_fix: 'Encode the output.',
      pentest_id: 'pt_1',
      asset_id: asset.resource.id,
      log: [{ action: 'created', timestamp: '2026-10-01T10:00:00.000Z' }],
      state: 'need_fix',
      ...fields,
    },
    links: { ui: { url: `https://api.cobalt.io/links/${findingId}` } },
  };
}
