import { z } from 'zod';
import { ConnectorError } from '../../errors.js';
import { cweNumbers, declarativeConnector, valueAt, type DeclarativeDefinition, type TemplateScope } from '../declarative/index.js';
import { exchangedTokenAuth, tokenAuth, type Authenticator, type HttpClient, type HttpTuning } from '../http/index.js';

/** The parts of a project version (`GET /api/projects/{id}/versions`) this connector reads. */
const blackDuckVersion = z.looseObject({ versionName: z.string(), phase: z.string().nullish(), _meta: z.looseObject({ href: z.string().min(1) }) });

/** The parts of a vulnerable BOM component (bill-of-materials-6 media type) this connector reads. */
const blackDuckFinding = z.looseObject({
  componentName: z.string(),
  componentVersion: z.string().min(1),
  componentVersionName: z.string().nullish(),
  componentVersionOriginId: z.string().nullish(),
  ignored: z.boolean().nullish(),
  vulnerabilityWithRemediation: z.looseObject({
    vulnerabilityName: z.string().min(1),
    description: z.string().nullish(),
    severity: z.string().nullish(),
    baseScore: z.number().nullish(),
    remediationStatus: z.string(),
    cweId: z.string().nullish(),
    relatedVulnerability: z.string().nullish(),
  }),
});

export const blackDuckSettings = z.object({});

/** The trailing path segments of a HAL `_meta.href` (`…/projects/<id>` → the id), or of a component version link. */
const segments = (href: string, count: number) => new URL(href, 'http://x').pathname.split('/').slice(-count).join('/');
/** The project (parent listing) a version belongs to: its id from its `_meta.href`, and its name. */
function project(scope: TemplateScope): { id: string; name: string } {
  const [href, name] = [valueAt(scope.parent, '_meta.href'), valueAt(scope.parent, 'name')];
  if (typeof href !== 'string' || typeof name !== 'string') throw new ConnectorError('BAD_TOOL_DATA', 'Black Duck sent a project without a name or _meta.href');
  return { id: segments(href, 1), name };
}

/** Exchanges the API token for a bearer token (`POST /api/tokens/authenticate`), renewed as it expires. */
function blackDuckAuth(apiToken: string, _settings: unknown, connect: (authenticate: Authenticator) => HttpClient): Authenticator {
  const exchanger = connect(tokenAuth(apiToken));
  return exchangedTokenAuth(
    async (ctx) => {
      const request = { method: 'POST' as const, path: '/api/tokens/authenticate', headers: { Accept: 'application/vnd.blackducksoftware.user-4+json' } };
      const { body } = await exchanger.request(request, ctx);
      const issued = z.looseObject({ bearerToken: z.string().min(1), expiresInMilliseconds: z.number().nullish() }).safeParse(body);
      if (!issued.success) throw new ConnectorError('BAD_TOOL_DATA', 'Black Duck answered the token exchange without a bearerToken');
      return { headers: { Authorization: `Bearer ${issued.data.bearerToken}` }, expiresInMs: issued.data.expiresInMilliseconds ?? null };
    },
    { secret: apiToken },
  );
}

const PAGING = { type: 'offset', offsetParam: 'offset', limitParam: 'limit', limit: 100, totalPath: 'totalCount' } as const;

/**
 * Black Duck SCA. Records are project versions (`GET /api/projects`, then each project's `/versions`); findings
 * are the version's vulnerable BOM components, one per component version and vulnerability, `offset`/`limit` +
 * `totalCount`. The API token is exchanged for a short-lived bearer token. Remediation status PATCHED,
 * REMEDIATION_COMPLETE, MITIGATED or DUPLICATE is left out; NOT_AFFECTED is a false positive, IGNORED (or an
 * ignored component) an accepted risk; REMEDIATION_REQUIRED and AFFECTED (a person's analysis) verify it.
 */
export const blackDuckDefinition: DeclarativeDefinition<z.infer<typeof blackDuckSettings>, z.infer<typeof blackDuckVersion>, z.infer<typeof blackDuckFinding>> = {
  tool: 'blackduck',
  displayName: 'Black Duck',
  spec: {
    settings: blackDuckSettings,
    secretDescription: 'A Black Duck API token (My Access Tokens), exchanged for a short-lived bearer token at each use',
    locationDescription: 'The Black Duck server URL, e.g. https://blackduck.example.com',
  },
  matching: 'unique_id_from_tool',
  hashFields: ['componentName', 'componentVersion', 'vulnIdFromTool'],
  minSecretLength: 20,
  requester: {
    credentialName: 'API token',
    permissionHint: "the token's user needs a role on each project that shows its BOM (Project Viewer or more)",
    auth: blackDuckAuth,
  },
  check: { path: '/api/projects', query: { limit: 1 } },
  records: {
    parents: { path: '/api/projects', paginator: PAGING, selector: 'items' },
    path: (scope) => `/api/projects/${encodeURIComponent(project(scope).id)}/versions`,
    paginator: PAGING,
    selector: 'items',
    schema: blackDuckVersion,
    externalId: (v) => segments(v._meta.href, 1),
    name: (v, scope) => `${project(scope).name} ${v.versionName}`,
    metadata: { projectId: (_v, scope) => project(scope).id, projectName: (_v, scope) => project(scope).name, versionName: 'versionName', phase: 'phase' },
  },
  findings: {
    path: '/api/projects/{record.metadata.projectId}/versions/{record.externalId}/vulnerable-bom-components',
    // The media type whose items carry `vulnerabilityWithRemediation` (later ones renamed it).
    headers: { Accept: 'application/vnd.blackducksoftware.bill-of-materials-6+json' },
    paginator: PAGING,
    selector: 'items',
    schema: blackDuckFinding,
    fields: {
      title: (f) => `${f.vulnerabilityWithRemediation.vulnerabilityName} in ${f.componentName} ${f.componentVersionName ?? ''}`.trim(),
      description: 'vulnerabilityWithRemediation.description',
      cwes: (f) => cweNumbers([f.vulnerabilityWithRemediation.cweId]),
      vulnerabilityIds: (f) => [f.vulnerabilityWithRemediation.vulnerabilityName, ...(f.vulnerabilityWithRemediation.relatedVulnerability ? [segments(f.vulnerabilityWithRemediation.relatedVulnerability, 1)] : [])],
      cvssScore: 'vulnerabilityWithRemediation.baseScore',
      componentName: 'componentName',
      componentVersion: 'componentVersionName',
      endpoint: 'componentVersionOriginId',
      // Component and version ids (not the host-bound URL) with the vulnerability: one finding per pair, whatever the origins.
      uniqueIdFromTool: (f) => `${segments(f.componentVersion, 4)}:${f.vulnerabilityWithRemediation.vulnerabilityName}`,
      vulnIdFromTool: 'vulnerabilityWithRemediation.vulnerabilityName',
    },
    severity: { from: 'vulnerabilityWithRemediation.severity', map: { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low' }, otherwise: 'Info' },
    triage: [
      { when: { 'vulnerabilityWithRemediation.remediationStatus': ['PATCHED', 'REMEDIATION_COMPLETE', 'MITIGATED', 'DUPLICATE'] }, then: 'notCurrent' },
      { when: { 'vulnerabilityWithRemediation.remediationStatus': ['NOT_AFFECTED'] }, then: 'falseP' },
      { when: { 'vulnerabilityWithRemediation.remediationStatus': ['IGNORED'] }, then: 'riskAccepted' },
      { when: { ignored: [true] }, then: 'riskAccepted' },
    ],
    verifiedWhen: { 'vulnerabilityWithRemediation.remediationStatus': ['REMEDIATION_REQUIRED', 'AFFECTED'] },
  },
};

export function createBlackDuckConnector(tuning: HttpTuning = {}) {
  return declarativeConnector(blackDuckDefinition, tuning);
}

/** The connector as vulnsync ships it. */
export const blackDuck = createBlackDuckConnector();
