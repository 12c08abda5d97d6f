import { z } from 'zod';
import { ConnectorError } from '../../errors.js';
import { declarativeConnector, type DeclarativeDefinition } from '../declarative/index.js';
import { allOfAuth, apiKeyHeaderAuth, bearerAuth, type Authenticator, type HttpTuning } from '../http/index.js';

/** The parts of a Cobalt asset (`GET /assets`, each item `{ resource, links }`) this connector reads. */
const cobaltAsset = z.looseObject({
  resource: z.looseObject({ id: z.string().min(1), title: z.string(), asset_type: z.string().nullish() }),
  links: z.looseObject({ ui: z.looseObject({ url: z.string() }).nullish() }).nullish(),
});

/** The parts of a Cobalt finding (`GET /findings?asset=<id>`) this connector reads. */
const cobaltFinding = z.looseObject({
  resource: z.looseObject({
    id: z.string().min(1),
    title: z.string().min(1),
    description: z.string().nullish(),
    type_category: z.string().nullish(),
    severity: z.string().nullish(),
    state: z.string(),
    affected_targets: z.array(z.string()).nullish(),
    suggested_fix: z.string().nullish(),
    proof_of_concept: z.string().nullish(),
  }),
  links: z.looseObject({ ui: z.looseObject({ url: z.string() }).nullish() }).nullish(),
});

export const cobaltSettings = z.object({});

const PAGE_SIZE = 100;
const paging = { type: 'cursorInBody', path: 'pagination.next_page', fromUrlParam: 'cursor', cursorParam: 'cursor', sizeParam: 'limit', pageSize: PAGE_SIZE } as const;

/**
 * Cobalt asks for two credentials: a personal API token (`Authorization: Bearer`) and the organization's
 * token (`X-Org-Token`). Both are credentials, so both live in the one encrypted secret, as
 * `<API token>:<org token>`; settings are shown in API answers and could not hold one.
 */
function cobaltAuth(secret: string): Authenticator {
  const at = secret.lastIndexOf(':');
  const [apiToken, orgToken] = at < 0 ? ['', ''] : [secret.slice(0, at).trim(), secret.slice(at + 1).trim()];
  if (!apiToken || !orgToken) {
    throw new ConnectorError('CONFIG_INVALID', 'The Cobalt secret must be "<API token>:<org token>": the personal API token, a colon, and the organization token');
  }
  return allOfAuth(bearerAuth(apiToken), apiKeyHeaderAuth('X-Org-Token', orgToken));
}

/**
 * Cobalt (API v2). Records are the organization's assets, keyed by asset id; findings are
 * `GET /findings?asset=<id>`, `limit` + the cursor of `pagination.next_page`. Identity is the finding `id`.
 * A finding marked `valid_fix` is fixed and left out; `invalid` is a false positive, `wont_fix` an
 * accepted risk; a pentester's validation (`need_fix`, `check_fix`, `carried_over`, `wont_fix`) verifies it.
 */
export const cobaltDefinition: DeclarativeDefinition<z.infer<typeof cobaltSettings>, z.infer<typeof cobaltAsset>, z.infer<typeof cobaltFinding>> = {
  tool: 'cobalt',
  displayName: 'Cobalt',
  spec: {
    settings: cobaltSettings,
    secretDescription: 'Your Cobalt API token and the organization token, as "<API token>:<org token>" (the org token is listed by GET /orgs)',
    locationDescription: 'The Cobalt API URL: https://api.cobalt.io (https://api.eu.cobalt.io for the EU data center)',
    defaultLocation: 'https://api.cobalt.io',
  },
  matching: 'unique_id_from_tool',
  hashFields: ['title', 'endpoint', 'vulnIdFromTool'],
  minSecretLength: 20,
  requester: {
    credentialName: 'API token or org token',
    permissionHint: "the token's user needs access to the organization's assets and findings",
    auth: cobaltAuth,
    headers: { Accept: 'application/vnd.cobalt.v2+json' },
  },
  // Findings, not assets: a role that sees assets but not findings fails here rather than at the first sync.
  check: { path: '/findings', query: { limit: 1 } },
  records: {
    path: '/assets',
    paginator: paging,
    selector: 'data',
    schema: cobaltAsset,
    externalId: 'resource.id',
    name: 'resource.title',
    metadata: { assetType: 'resource.asset_type', url: 'links.ui.url' },
  },
  findings: {
    // The findings listing answers an unknown asset with an empty list, which would close all its findings.
    probe: { path: '/assets/{record.externalId}' },
    path: '/findings',
    query: { asset: '{record.externalId}' },
    paginator: paging,
    selector: 'data',
    schema: cobaltFinding,
    fields: {
      title: 'resource.title',
      description: (f) => [f.resource.description, f.resource.proof_of_concept].filter(Boolean).join('\n\n') || null,
      mitigation: 'resource.suggested_fix',
      endpoint: (f) => f.resource.affected_targets?.[0],
      references: 'links.ui.url',
      uniqueIdFromTool: 'resource.id',
      vulnIdFromTool: 'resource.type_category',
    },
    // No severity until the pentester rates impact and likelihood.
    severity: { from: 'resource.severity', map: { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low', informational: 'Info' }, otherwise: 'Info' },
    triage: [
      { when: { 'resource.state': ['valid_fix'] }, then: 'notCurrent' },
      { when: { 'resource.state': ['invalid'] }, then: 'falseP' },
      { when: { 'resource.state': ['wont_fix'] }, then: 'riskAccepted' },
    ],
    verifiedWhen: { 'resource.state': ['need_fix', 'check_fix', 'carried_over', 'wont_fix'] },
  },
};

export function createCobaltConnector(tuning: HttpTuning = {}) {
  return declarativeConnector(cobaltDefinition, tuning);
}

/** The connector as vulnsync ships it. */
export const cobalt = createCobaltConnector();
