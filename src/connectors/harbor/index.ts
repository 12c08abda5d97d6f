import { z } from 'zod';
import { ConnectorError } from '../../errors.js';
import { cweNumbers, declarativeConnector, valueAt, type CustomPages, type DeclarativeDefinition } from '../declarative/index.js';
import { basicAuth, type Authenticator, type HttpTuning } from '../http/index.js';

/** The parts of a Harbor repository (`GET /api/v2.0/projects/{project}/repositories`) this connector reads. */
const harborRepository = z.looseObject({ id: z.number().nullish(), name: z.string().min(1), artifact_count: z.number().nullish(), update_time: z.string().nullish() });

/** One vulnerability of a scan report, with the artifact and allowlist facts the connector adds to it. */
const harborVulnerability = z.looseObject({
  id: z.string().min(1),
  package: z.string().min(1),
  version: z.string().nullish(),
  fix_version: z.string().nullish(),
  severity: z.string().nullish(),
  description: z.string().nullish(),
  links: z.array(z.string()).nullish(),
  cwe_ids: z.array(z.string()).nullish(),
  preferred_cvss: z.looseObject({ score_v3: z.number().nullish(), vector_v3: z.string().nullish() }).nullish(),
  artifact: z.object({ digest: z.string(), tags: z.array(z.string()) }),
  allowlisted: z.boolean(),
});

export const harborSettings = z.object({});
const PAGE_SIZE = 100;
const paging = { type: 'pageNumber', pageParam: 'page', sizeParam: 'page_size', pageSize: PAGE_SIZE, totalHeader: 'X-Total-Count' } as const;

/** A robot account's name (`robot$project+scanner`) and secret, as `<name>:<secret>`. */
function harborAuth(secret: string): Authenticator {
  const at = secret.indexOf(':');
  const [name, password] = at < 0 ? ['', ''] : [secret.slice(0, at).trim(), secret.slice(at + 1).trim()];
  if (!name || !password) throw new ConnectorError('CONFIG_INVALID', 'The Harbor secret must be "<robot account name>:<robot secret>"');
  return basicAuth(name, password);
}

/**
 * Harbor's special part: the findings are those of the repository's most recently pushed artifact (its
 * vulnerability addition, one unpaged report per scanner MIME type), marked when the project's CVE allowlist
 * holds them. No artifact or no scan yet: no findings.
 */
const latestArtifactReport: CustomPages = async function* (client, first, ctx, { itemsOf }) {
  const listed = await client.request({ ...first, query: { ...first.query, page: 1, page_size: 1, sort: '-push_time' } }, ctx);
  const artifact = itemsOf(listed.body, listed)[0];
  const digest = valueAt(artifact, 'digest');
  if (typeof digest !== 'string') {
    yield { items: [], next: null, response: listed };
    return;
  }
  const tags = ((valueAt(artifact, 'tags') as { name?: unknown }[] | null) ?? []).map((t) => String(t.name));
  const project = await client.request({ path: first.path.replace(/\/repositories\/.*$/, ''), notFound: first.notFound }, ctx);
  const allowlist = ((valueAt(project.body, 'cve_allowlist.items') as { cve_id?: unknown }[] | null) ?? []).map((i) => i.cve_id);
  // An artifact deleted since the listing: the next attempt reads the new latest one.
  const gone = { type: 'TOOL_UNAVAILABLE' as const, message: `Harbor deleted artifact ${digest} while it was being read` };
  const report = await client.request({ path: `${first.path}/${encodeURIComponent(digest)}/additions/vulnerabilities`, notFound: gone }, ctx);
  const reports = report.body && typeof report.body === 'object' && !Array.isArray(report.body) ? Object.values(report.body) : [null];
  if (!reports.every((r) => Array.isArray(valueAt(r, 'vulnerabilities')))) {
    throw new ConnectorError('BAD_TOOL_DATA', `The answer to GET ${report.url.pathname} is not a vulnerability report`);
  }
  const items = reports.flatMap((r) => (valueAt(r, 'vulnerabilities') as unknown[]).map((v) => ({
    ...(v as object),
    artifact: { digest, tags },
    allowlisted: allowlist.includes(valueAt(v, 'id')),
  })));
  yield { items, next: null, response: report };
};

/**
 * Harbor (API v2.0). Records are repositories (`<project>/<name>`), listed per project; findings are the
 * vulnerabilities of the latest artifact's scan. Identity: (image digest, CVE id, package, version) →
 * hash_code. A CVE on the project's allowlist is an accepted risk; a fixed one is gone from the report.
 */
export const harborDefinition: DeclarativeDefinition<z.infer<typeof harborSettings>, z.infer<typeof harborRepository>, z.infer<typeof harborVulnerability>> = {
  tool: 'harbor',
  displayName: 'Harbor',
  spec: {
    settings: harborSettings,
    secretDescription: 'A Harbor robot account, as "<robot account name>:<robot secret>" (e.g. robot$library+vulnsync:…)',
    locationDescription: 'The Harbor URL, e.g. https://harbor.example.com',
  },
  matching: 'hash_code',
  hashFields: ['endpoint', 'vulnIdFromTool', 'componentName', 'componentVersion'],
  minSecretLength: 20,
  requester: {
    credentialName: 'robot account',
    permissionHint: 'the robot account needs project read, repository list/read and artifact list/read (the scan report is read with the artifact)',
    auth: harborAuth,
    // The report formats this connector reads; Harbor answers with those its scanner produced.
    // Project paths take a name (not an id), said with X-Is-Resource-Name.
    headers: { 'X-Is-Resource-Name': 'true', 'X-Accept-Vulnerabilities': 'application/vnd.security.vulnerability.report; version=1.1, application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0' },
  },
  check: { path: '/api/v2.0/projects', query: { page: 1, page_size: 1 } },
  records: {
    parents: { path: '/api/v2.0/projects', paginator: paging, selector: '' },
    path: '/api/v2.0/projects/{parent.name}/repositories',
    paginator: paging,
    selector: '',
    schema: harborRepository,
    externalId: 'name',
    name: 'name',
    metadata: {
      project: (_r, { parent }) => valueAt(parent, 'name'),
      // The name inside the project, which the API's paths take (double-encoded: `a/b` → `a%252Fb`).
      repository: (r, { parent }) => r.name.slice(String(valueAt(parent, 'name')).length + 1),
    },
  },
  findings: {
    // The artifacts of a deleted repository are an empty list, which would close all its findings.
    probe: { path: '/api/v2.0/projects/{record.metadata.project}/repositories/{%record.metadata.repository}' },
    path: '/api/v2.0/projects/{record.metadata.project}/repositories/{%record.metadata.repository}/artifacts',
    paginator: { type: 'custom', pages: latestArtifactReport },
    selector: '',
    schema: harborVulnerability,
    fields: {
      title: (v) => `${v.id} in ${v.package}${v.version ? ` ${v.version}` : ''}`,
      description: 'description',
      mitigation: (v) => (v.fix_version ? `Upgrade ${v.package} to ${v.fix_version}` : null),
      references: (v) => v.links?.join('\n'),
      cwes: (v) => cweNumbers(v.cwe_ids),
      vulnerabilityIds: (v) => [v.id],
      cvssScore: 'preferred_cvss.score_v3',
      cvssVector: 'preferred_cvss.vector_v3',
      componentName: 'package',
      componentVersion: 'version',
      endpoint: (v, { record }) => `${record?.externalId}@${v.artifact.digest}`,
      vulnIdFromTool: 'id',
    },
    severity: { from: 'severity', map: { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low', negligible: 'Info', none: 'Info' }, otherwise: 'Info' },
    triage: [{ when: { allowlisted: [true] }, then: 'riskAccepted' }],
  },
};

export function createHarborConnector(tuning: HttpTuning = {}) {
  return declarativeConnector(harborDefinition, tuning);
}

/** The connector as vulnsync ships it. */
export const harbor = createHarborConnector();
