import { z } from 'zod';
import { declarativeConnector, cweNumbers, type DeclarativeDefinition } from '../declarative/index.js';
import { apiKeyHeaderAuth, type HttpTuning } from '../http/index.js';

/** The parts of an Edgescan asset (`GET /api/v1/assets.json`) this connector reads. */
const edgescanAsset = z.looseObject({
  id: z.number(),
  name: z.string(),
  hostname: z.string().nullish(),
  type: z.string().nullish(),
  tags: z.array(z.string()).nullish(),
});

/** The parts of an Edgescan vulnerability (`GET /api/v1/vulnerabilities/export.json`) this connector reads. */
const edgescanVulnerability = z.looseObject({
  id: z.number(),
  name: z.string().min(1),
  status: z.string(),
  severity: z.number().nullish(),
  location: z.string().nullish(),
  description: z.string().nullish(),
  remediation: z.string().nullish(),
  cwes: z.array(z.string()).nullish(),
  cves: z.array(z.string()).nullish(),
  cvss_score: z.number().nullish(),
  cvss_vector: z.string().nullish(),
  pci_exception: z.string().nullish(),
  definition_id: z.number().nullish(),
});

export const edgescanSettings = z.object({});

/**
 * Edgescan. Records are assets, keyed by asset id; findings are the open vulnerabilities of one asset from
 * the export (`c[asset_id_in]=<id>&c[status]=open`), an unpaginated answer. Identity is the vulnerability
 * `id`, which Edgescan keeps for one vulnerability at one location for its whole life (closed and reopened
 * included). Closed vulnerabilities are never exported, so the reimport closes them. A PCI exception is
 * Edgescan's triage: `false_positive` → false positive, any other exception → accepted risk.
 */
export const edgescanDefinition: DeclarativeDefinition<
  z.infer<typeof edgescanSettings>,
  z.infer<typeof edgescanAsset>,
  z.infer<typeof edgescanVulnerability>
> = {
  tool: 'edgescan',
  displayName: 'Edgescan',
  spec: {
    settings: edgescanSettings,
    secretDescription: 'An Edgescan API token (Account → API) of a user who can view the assets and their vulnerabilities',
    locationDescription: 'The Edgescan portal URL: https://live.edgescan.com (or your dedicated instance)',
    defaultLocation: 'https://live.edgescan.com',
  },
  matching: 'unique_id_from_tool',
  hashFields: ['title', 'endpoint', 'vulnerabilityIds'],
  minSecretLength: 20,
  requester: {
    credentialName: 'API token',
    permissionHint: "the token's user needs view access to the assets and their vulnerabilities",
    auth: (secret) => apiKeyHeaderAuth('X-API-TOKEN', secret),
  },
  check: { path: '/api/v1/assets.json' },
  records: {
    path: '/api/v1/assets.json',
    paginator: { type: 'none' },
    selector: 'assets',
    schema: edgescanAsset,
    externalId: 'id',
    name: 'name',
    metadata: { hostname: 'hostname', type: 'type', tags: 'tags' },
  },
  findings: {
    // The export answers an unknown asset with an empty list, which would close all its findings.
    probe: { path: '/api/v1/assets/{record.externalId}.json' },
    path: '/api/v1/vulnerabilities/export.json',
    query: { 'c[asset_id_in]': '{record.externalId}', 'c[status]': 'open' },
    paginator: { type: 'none' },
    selector: '',
    schema: edgescanVulnerability,
    fields: {
      title: 'name',
      description: 'description',
      mitigation: 'remediation',
      cwes: (v) => cweNumbers(v.cwes),
      vulnerabilityIds: 'cves',
      cvssScore: 'cvss_score',
      cvssVector: 'cvss_vector',
      endpoint: 'location',
      uniqueIdFromTool: 'id',
      vulnIdFromTool: 'definition_id',
    },
    severity: { from: 'severity', map: { '1': 'Info', '2': 'Low', '3': 'Medium', '4': 'High', '5': 'Critical' }, otherwise: 'Info' },
    triage: [
      { when: { status: ['closed'] }, then: 'notCurrent' },
      { when: { pci_exception: ['none', null] }, then: 'open' },
      { when: { pci_exception: ['false_positive'] }, then: 'falseP' },
      { when: {}, then: 'riskAccepted' },
    ],
  },
};

export function createEdgescanConnector(tuning: HttpTuning = {}) {
  return declarativeConnector(edgescanDefinition, tuning);
}

/** The connector as vulnsync ships it. */
export const edgescan = createEdgescanConnector();
