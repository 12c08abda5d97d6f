import { startFakeServer, type FakeRequest, type FakeResponse, type FakeServer, type FakeState } from './fake-server.js';

/**
 * A fake Edgescan API (v1) for what the Edgescan connector uses: `X-API-TOKEN` (401 for an unknown token,
 * 403 for a user without access to vulnerabilities), `GET /api/v1/assets.json` (`{ assets }`),
 * `GET /api/v1/assets/{id}.json` (404 for an asset that is gone), and the unpaginated
 * `GET /api/v1/vulnerabilities/export.json` filtered by `c[asset_id_in]` and `c[status]`.
 */

export interface EdgescanAssetJson {
  id: number;
  name: string;
  hostname: string;
  type: string;
  tags: string[];
  [field: string]: unknown;
}

export interface EdgescanVulnerabilityJson {
  id: number;
  asset_id: number;
  name: string;
  status: 'open' | 'closed';
  severity: number;
  location: string;
  pci_exception: string;
  [field: string]: unknown;
}

export interface EdgescanFakeState extends FakeState {
  tokens: Record<string, { vulnerabilities: boolean }>;
  assets: EdgescanAssetJson[];
  vulnerabilities: EdgescanVulnerabilityJson[];
}

export type EdgescanFake = FakeServer<EdgescanFakeState>;

export const DEFAULT_EDGESCAN_TOKEN = 'es_fakeEdgescanToken0000000000000000';

export async function startEdgescanFake(): Promise<EdgescanFake> {
  const state: EdgescanFakeState = { requests: [], faults: [], tokens: { [DEFAULT_EDGESCAN_TOKEN]: { vulnerabilities: true } }, assets: [], vulnerabilities: [] };
  return startFakeServer(state, handleEdgescan);
}

function handleEdgescan(request: FakeRequest, state: EdgescanFakeState): FakeResponse {
  const path = request.url.pathname;
  const query = request.url.searchParams;
  const token = request.headers['x-api-token'];
  const grant = typeof token === 'string' ? state.tokens[token] : undefined;
  if (!grant) return { status: 401, body: { message: 'Unauthorized' } };
  if (path === '/api/v1/assets.json') return { status: 200, body: { assets: state.assets } };
  const asset = /^\/api\/v1\/assets\/(\d+)\.json$/.exec(path);
  if (asset) {
    const found = state.assets.find((a) => a.id === Number(asset[1]));
    return found ? { status: 200, body: { asset: found } } : { status: 404, body: { message: 'Asset not found' } };
  }
  if (path === '/api/v1/vulnerabilities/export.json') {
    if (!grant.vulnerabilities) return { status: 403, body: { message: 'Forbidden' } };
    const assetIds = (query.get('c[asset_id_in]') ?? '').split(',').filter(Boolean).map(Number);
    const status = query.get('c[status]');
    const listed = state.vulnerabilities.filter((v) => (assetIds.length === 0 || assetIds.includes(v.asset_id)) && (!status || v.status === status));
    return { status: 200, body: listed };
  }
  return { status: 404, body: { message: 'Not found' } };
}

let nextId = 5000;

export function edgescanAsset(name: string, fields: Partial<EdgescanAssetJson> = {}): EdgescanAssetJson {
  return { id: nextId++, name, hostname: `${name}.example.com`, type: 'app', tags: [], priority: 3, ...fields };
}

export function edgescanVulnerability(asset: EdgescanAssetJson, name: string, fields: Partial<EdgescanVulnerabilityJson> = {}): EdgescanVulnerabilityJson {
  return {
    id: nextId++,
    asset_id: asset.id,
    asset_name: asset.name,
    name,
    location: `https://${asset.hostname}/login`,
    status: 'open',
    severity: 3,
    risk: 3,
    threat: 3,
    layer: 'application',
    description: `${name} was found.`,
    remediation: `Fix ${name}.`,
    cwes: ['CWE-79'],
    cves: [],
    cvss_score: 5.4,
    cvss_vector: 'CVSS:3.0/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N',
    cvss_version: 3,
    pci_exception: 'none',
    pci_exception_description: null,
    date_opened: '2026-10-01 10:00:00 UTC',
    date_closed: null,
    definition_id: 101,
    ...fields,
  };
}
