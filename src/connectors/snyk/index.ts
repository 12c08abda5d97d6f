import { z } from 'zod';
import { declarativeConnector, cweNumbers, valueAt, type DeclarativeDefinition, type TemplateScope } from '../declarative/index.js';
import { tokenAuth, type HttpTuning } from '../http/index.js';

/** The parts of a Snyk project (`GET /rest/orgs/{org}/projects`, JSON:API) this connector reads. */
const snykProject = z.looseObject({
  id: z.string().min(1),
  attributes: z.looseObject({ name: z.string(), type: z.string().nullish(), target_reference: z.string().nullish() }),
});

const representation = z.looseObject({
  dependency: z.looseObject({ package_name: z.string().nullish(), package_version: z.string().nullish() }).nullish(),
  sourceLocation: z.looseObject({ file: z.string().nullish(), region: z.looseObject({ start: z.looseObject({ line: z.number().nullish() }).nullish() }).nullish() }).nullish(),
});

/** The parts of a Snyk issue (`GET /rest/orgs/{org}/issues?scan_item.id=…`) this connector reads. */
const snykIssue = z.looseObject({
  id: z.string().min(1),
  attributes: z.looseObject({
    title: z.string().min(1),
    description: z.string().nullish(),
    key: z.string().nullish(),
    type: z.string().nullish(),
    status: z.string(),
    ignored: z.boolean().nullish(),
    effective_severity_level: z.string().nullish(),
    classes: z.array(z.looseObject({ id: z.string(), source: z.string().nullish() })).nullish(),
    problems: z.array(z.looseObject({ id: z.string(), url: z.string().nullish() })).nullish(),
    coordinates: z.array(z.looseObject({ representations: z.array(representation).nullish() })).nullish(),
    severities: z.array(z.looseObject({ source: z.string().nullish(), score: z.number().nullish(), vector: z.string().nullish() })).nullish(),
  }),
});
type SnykIssue = z.infer<typeof snykIssue>;

/** A REST API version Snyk accepts: a date, optionally `~beta` or `~experimental`. */
export const SNYK_DEFAULT_VERSION = '2024-10-15';
export const snykSettings = z.object({
  orgId: z.string().trim().min(1, 'the Snyk organization id (Settings → General → Organization ID)'),
  version: z.string().regex(/^\d{4}-\d{2}-\d{2}(~(beta|experimental))?$/, 'a date such as 2024-10-15').default(SNYK_DEFAULT_VERSION),
});

/** The first representation of the issue's first coordinate that has `key` (a dependency or a code location). */
function located<K extends 'dependency' | 'sourceLocation'>(issue: SnykIssue, key: K) {
  const all = (issue.attributes.coordinates ?? []).flatMap((c) => c.representations ?? []);
  return all.find((r) => r[key])?.[key] ?? null;
}

/** Snyk's own CVSS rating first, else the first one given (NVD, a distribution). */
const cvss = (issue: SnykIssue) => {
  const all = issue.attributes.severities ?? [];
  return all.find((s) => s.source === 'Snyk') ?? all[0];
};

/** Whether the project's ignores (`{ <issue key>: [{ <path>: { reasonType } }] }`) ignore the issue with this reason type. */
function ignoredAs(issue: SnykIssue, scope: TemplateScope, reasonType: string): boolean {
  const ignores = valueAt(scope.lookups, 'ignores');
  const entries = issue.attributes.key && ignores && typeof ignores === 'object' ? (ignores as Record<string, unknown>)[issue.attributes.key] : null;
  if (!Array.isArray(entries)) return false;
  return entries.some((byPath) => Object.values((byPath ?? {}) as Record<string, unknown>).some((ignore) => valueAt(ignore, 'reasonType') === reasonType));
}

const paging = { type: 'nextUrlInBody', path: 'links.next', rootPath: '/rest' } as const;
const listed = { version: '{settings.version}', limit: 100 };

/**
 * Snyk (REST API, `version=` a date). Records are the organization's projects, keyed by project id;
 * findings are `GET /rest/orgs/{org}/issues?scan_item.id=<project>&scan_item.type=project`, paged by
 * JSON:API `links.next`. Identity is the issue `id`: one issue of one project, kept by Snyk across scans,
 * where `attributes.key` (the advisory, e.g. SNYK-JS-…) is shared by every project it affects.
 * Resolved issues are left out; ignored ones are false positives when ignored as not vulnerable, else
 * accepted risks.
 */
export const snykDefinition: DeclarativeDefinition<z.infer<typeof snykSettings>, z.infer<typeof snykProject>, SnykIssue> = {
  tool: 'snyk',
  displayName: 'Snyk',
  spec: {
    settings: snykSettings,
    secretDescription: 'A Snyk API token (a service account token, or a personal token) that can view the organization’s projects and issues',
    locationDescription: 'The Snyk API URL: https://api.snyk.io (https://api.eu.snyk.io or https://api.au.snyk.io for those regions)',
    defaultLocation: 'https://api.snyk.io',
  },
  matching: 'unique_id_from_tool',
  hashFields: ['title', 'componentName', 'componentVersion', 'filePath', 'vulnIdFromTool'],
  // Snyk's REST API allows about 1,620 requests a minute per token.
  requestsPerMinute: 1620,
  minSecretLength: 20,
  requester: {
    credentialName: 'API token',
    permissionHint: 'the token needs View Organization, View Project and View Project Ignores on the organization',
    auth: (secret) => tokenAuth(secret),
    headers: { Accept: 'application/vnd.api+json' },
  },
  // Issues, not projects: a token that sees projects but not their issues fails here rather than at the first sync.
  check: { path: '/rest/orgs/{settings.orgId}/issues', query: { version: '{settings.version}', limit: 10 } },
  records: {
    path: '/rest/orgs/{settings.orgId}/projects',
    query: listed,
    paginator: paging,
    selector: 'data',
    schema: snykProject,
    externalId: 'id',
    name: 'attributes.name',
    metadata: { type: 'attributes.type', targetReference: 'attributes.target_reference' },
  },
  findings: {
    // The issues listing tells no ignore reason; the project's ignores (API v1) do, by issue key. Being
    // the project's, they also answer 404 for a project that is gone, where the listing answers an empty list.
    lookups: { ignores: { path: '/v1/org/{settings.orgId}/project/{record.externalId}/ignores' } },
    path: '/rest/orgs/{settings.orgId}/issues',
    query: { ...listed, 'scan_item.id': '{record.externalId}', 'scan_item.type': 'project' },
    paginator: paging,
    selector: 'data',
    schema: snykIssue,
    fields: {
      title: 'attributes.title',
      description: 'attributes.description',
      cwes: (i) => cweNumbers(i.attributes.classes?.filter((c) => c.source === 'CWE').map((c) => c.id)),
      vulnerabilityIds: (i) => i.attributes.problems?.map((p) => p.id),
      references: (i) => i.attributes.problems?.flatMap((p) => (p.url ? [p.url] : [])).join('\n'),
      cvssScore: (i) => cvss(i)?.score,
      cvssVector: (i) => cvss(i)?.vector,
      componentName: (i) => located(i, 'dependency')?.package_name,
      componentVersion: (i) => located(i, 'dependency')?.package_version,
      filePath: (i) => located(i, 'sourceLocation')?.file,
      line: (i) => located(i, 'sourceLocation')?.region?.start?.line,
      uniqueIdFromTool: 'id',
      vulnIdFromTool: 'attributes.key',
    },
    severity: { from: 'attributes.effective_severity_level', map: { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low', info: 'Info' }, otherwise: 'Info' },
    triage: [
      { when: { 'attributes.status': ['resolved'] }, then: 'notCurrent' },
      { when: (i, scope) => i.attributes.ignored === true && ignoredAs(i, scope, 'not-vulnerable'), then: 'falseP' },
      // Won't fix, ignored for a while, or a Snyk Code ignore the v1 ignores do not list: a person chose not to fix it.
      { when: { 'attributes.ignored': [true] }, then: 'riskAccepted' },
    ],
  },
};

export function createSnykConnector(tuning: HttpTuning = {}) {
  return declarativeConnector(snykDefinition, tuning);
}

/** The connector as vulnsync ships it. */
export const snyk = createSnykConnector();
