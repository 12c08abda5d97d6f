import { type ToolRequest, type ToolResponse, type ToolServerState } from '../tool-server.js';

/**
 * A stand-in SonarQube Web API for what the SonarQube connector uses: a user token as `Authorization: Bearer`
 * or as the basic-auth user (401 when unknown), `GET /api/components/search?qualifiers=TRK`,
 * `GET /api/issues/search` (filters `componentKeys`, `types`, `statuses`, `severities`, `createdAfter`
 * inclusive, `createdBefore` exclusive) and `GET /api/hotspots/search` (`project`, `status`), paged by
 * `p`/`ps` (ps ≤ 500) with `paging.total`, and SonarQube's cap: a page beyond the 10,000th result is a 400.
 * An unknown project is a 404; a project the user may not browse a 403.
 */

/** What issues and hotspots have in common. */
interface SonarItemJson {
  key: string;
  component: string;
  project: string;
  status: string;
  resolution?: string;
  message: string;
  creationDate: string;
  [field: string]: unknown;
}

export interface SonarIssueJson extends SonarItemJson {
  rule: string;
  severity: string;
  type: string;
}

export type SonarHotspotJson = SonarItemJson;

export interface SonarqubeState extends ToolServerState {
  tokens: string[];
  projects: { key: string; name: string; qualifier: 'TRK' }[];
  issues: SonarIssueJson[];
  hotspots: SonarHotspotJson[];
  /** Projects the token's user may not browse (403). */
  denied: string[];
}

export const DEFAULT_SONARQUBE_TOKEN = 'squ_fake0000000000000000000000000000000000';
export const SONAR_CAP = 10_000;

/** The tool's state before anything is seeded. */
export function newSonarqubeState(): SonarqubeState {
  return { requests: [], tokens: [DEFAULT_SONARQUBE_TOKEN], projects: [], issues: [], hotspots: [], denied: [] };
}

const errors = (status: number, msg: string): ToolResponse => ({ status, body: { errors: [{ msg }] } });
/** SonarQube's `2024-05-01T12:00:00+0000` (and plain dates) as milliseconds. */
const timeOf = (text: string) => Date.parse(/T/.test(text) ? text.replace(/([+-]\d\d)(\d\d)$/, '$1:$2') : `${text}T00:00:00Z`);

function tokenOf(header: string | undefined): string | undefined {
  const bearer = /^Bearer (.+)$/.exec(header ?? '')?.[1];
  if (bearer) return bearer;
  const basic = /^Basic (.+)$/.exec(header ?? '')?.[1];
  return basic ? Buffer.from(basic, 'base64').toString('utf8').replace(/:$/, '') : undefined;
}

export function handleSonarqube(request: ToolRequest, state: SonarqubeState): ToolResponse {
  const { pathname: path, searchParams: query } = request.url;
  const token = tokenOf(request.headers.authorization);
  if (!token || !state.tokens.includes(token)) return { status: 401, body: { errors: [{ msg: 'Authentication required' }] } };

  const paged = (key: string, items: unknown[]): ToolResponse => {
    const p = Number(query.get('p') ?? '1');
    const ps = Number(query.get('ps') ?? '100');
    if (ps > 500) return errors(400, `'ps' value (${ps}) must be less than 500`);
    if (p * ps > SONAR_CAP) return errors(400, `Can return only the first ${SONAR_CAP} results. ${p * ps}th result asked.`);
    return { status: 200, body: { components: [], paging: { pageIndex: p, pageSize: ps, total: items.length }, [key]: items.slice((p - 1) * ps, p * ps) } };
  };
  const listOf = (param: string) => query.get(param)?.split(',') ?? null;
  const project = (key: string | null, notFound: string): ToolResponse | null => {
    if (!key || !state.projects.some((p) => p.key === key)) return errors(404, notFound);
    return state.denied.includes(key) ? errors(403, 'Insufficient privileges') : null;
  };

  if (path === '/api/components/search') {
    if (query.get('qualifiers') !== 'TRK') return errors(400, "The 'qualifiers' parameter is missing");
    return paged('components', state.projects);
  }
  if (path === '/api/issues/search') {
    const key = query.get('componentKeys');
    const refused = project(key, `Component key '${key}' not found`);
    if (refused) return refused;
    const [types, statuses, severities] = [listOf('types'), listOf('statuses'), listOf('severities')];
    const after = query.get('createdAfter');
    const before = query.get('createdBefore');
    const issues = state.issues.filter(
      (i) =>
        i.project === key &&
        (!types || types.includes(i.type)) &&
        (!statuses || statuses.includes(i.status)) &&
        (!severities || severities.includes(i.severity)) &&
        (!after || timeOf(i.creationDate) >= timeOf(after)) &&
        (!before || timeOf(i.creationDate) < timeOf(before)),
    );
    return paged('issues', issues.sort((a, b) => timeOf(a.creationDate) - timeOf(b.creationDate) || a.key.localeCompare(b.key)));
  }
  if (path === '/api/hotspots/search') {
    const key = query.get('project');
    const refused = project(key, `Project '${key}' not found`);
    if (refused) return refused;
    const status = query.get('status');
    return paged('hotspots', state.hotspots.filter((h) => h.project === key && (!status || h.status === status)));
  }
  return errors(404, 'Unknown url');
}

let nextId = 1;
const id = () => `AY${(nextId++).toString(36).padStart(14, '0')}`;
/** Creation dates a minute apart from 2025-01-01, unless a test sets its own. */
const created = () => new Date(Date.UTC(2025, 0, 1) + nextId * 60_000).toISOString().replace(/\.\d{3}Z$/, '+0000');

export function sonarProject(key: string, name = key): SonarqubeState['projects'][number] {
  return { key, name, qualifier: 'TRK' };
}

export function sonarIssue(project: string, message: string, fields: Partial<SonarIssueJson> = {}): SonarIssueJson {
  return {
    key: id(),
    rule: 'javasecurity:S3649',
    severity: 'MAJOR',
    component: `${project}:src/main/java/${message.replace(/\W+/g, '_')}.java`,
    project,
    line: 42,
    status: 'OPEN',
    message,
    tags: ['cwe', 'cwe-89', 'owasp-a1'],
    creationDate: created(),
    updateDate: created(),
    type: 'VULNERABILITY',
    scope: 'MAIN',
    ...fields,
  };
}

export function sonarHotspot(project: string, message: string, fields: Partial<SonarHotspotJson> = {}): SonarHotspotJson {
  return {
    key: id(),
    component: `${project}:src/main/resources/${message.replace(/\W+/g, '_')}.xml`,
    project,
    securityCategory: 'weak-cryptography',
    vulnerabilityProbability: 'MEDIUM',
    status: 'TO_REVIEW',
    line: 7,
    message,
    ruleKey: 'java:S4790',
    creationDate: created(),
    updateDate: created(),
    ...fields,
  };
}

/**
 * Replaces the tool's data with two realistic projects for demos: vulnerabilities of the Java and
 * JavaScript security rules at every severity — open, confirmed, one marked false positive, one won't fix,
 * one fixed (not current) — and security hotspots to review. Answers what a sync should import.
 */
export function seedSonarqubeDemo(state: SonarqubeState): { records: number; findings: number } {
  const billing = sonarProject('acme:billing-service', 'Billing Service');
  const portal = sonarProject('acme:customer-portal', 'Customer Portal');
  state.projects = [billing, portal];
  state.denied = [];
  const java = (file: string) => `${billing.key}:src/main/java/com/acme/billing/${file}`;
  const js = (file: string) => `${portal.key}:src/${file}`;
  state.issues = [
    sonarIssue(billing.key, 'Change this code to not construct SQL queries directly from user-controlled data.', { rule: 'javasecurity:S3649', severity: 'BLOCKER', component: java('InvoiceRepository.java'), line: 64, tags: ['cwe', 'cwe-89'] }),
    sonarIssue(billing.key, 'Change this code to not construct the OS command from user-controlled data.', { rule: 'javasecurity:S2076', severity: 'CRITICAL', component: java('PdfExporter.java'), line: 118, tags: ['cwe', 'cwe-78'], status: 'CONFIRMED' }),
    sonarIssue(billing.key, 'Change this code to not deserialize user-controlled data.', { rule: 'javasecurity:S5135', severity: 'CRITICAL', component: java('WebhookController.java'), line: 40, tags: ['cwe', 'cwe-502'] }),
    sonarIssue(billing.key, 'Use a secure cipher mode and padding scheme.', { rule: 'java:S5542', severity: 'MAJOR', component: java('CardVault.java'), line: 27, tags: ['cwe', 'cwe-327'], status: 'RESOLVED', resolution: 'WONTFIX' }),
    sonarIssue(billing.key, 'Make sure this weak hash algorithm is not used in a sensitive context here.', { rule: 'java:S4790', severity: 'MINOR', component: java('Checksums.java'), line: 12, tags: ['cwe', 'cwe-328'], status: 'RESOLVED', resolution: 'FALSE-POSITIVE' }),
    sonarIssue(portal.key, 'Change this code to not reflect user-controlled data.', { rule: 'jssecurity:S5131', severity: 'CRITICAL', component: js('pages/search.js'), line: 22, tags: ['cwe', 'cwe-79'] }),
    sonarIssue(portal.key, 'Change this code to not perform redirects based on user-controlled data.', { rule: 'jssecurity:S5146', severity: 'MAJOR', component: js('routes/login.js'), line: 51, tags: ['cwe', 'cwe-601'] }),
    sonarIssue(portal.key, 'Change this code to not construct the path from user-controlled data.', { rule: 'jssecurity:S2083', severity: 'MAJOR', component: js('routes/files.js'), line: 9, tags: ['cwe', 'cwe-22'], status: 'RESOLVED', resolution: 'FIXED' }),
  ];
  state.hotspots = [
    sonarHotspot(billing.key, 'Make sure that hashing data is safe here.', { component: java('LegacyTokens.java'), line: 33, vulnerabilityProbability: 'LOW', securityCategory: 'weak-cryptography' }),
    sonarHotspot(portal.key, 'Make sure disabling CSRF protection is safe here.', { component: js('app.js'), line: 14, vulnerabilityProbability: 'HIGH', securityCategory: 'csrf', ruleKey: 'javascript:S4502' }),
    sonarHotspot(portal.key, 'Make sure that this cookie is written without the "secure" flag safely.', { component: js('session.js'), line: 8, vulnerabilityProbability: 'LOW', securityCategory: 'insecure-conf', ruleKey: 'javascript:S2092', status: 'REVIEWED', resolution: 'ACKNOWLEDGED' }),
  ];
  // Keys and dates fixed by position, not by the builders' counter: seeded again, the same items are the same.
  for (const [index, item] of [...state.issues, ...state.hotspots].entries()) {
    const at = new Date(Date.UTC(2026, 5, 1) + index * 3_600_000).toISOString().replace(/\.\d{3}Z$/, '+0000');
    Object.assign(item, { key: `AZdemo${String(index + 1).padStart(14, '0')}`, creationDate: at, updateDate: at });
  }
  const fixed = (i: { resolution?: string }) => i.resolution === 'FIXED';
  return { records: state.projects.length, findings: state.issues.filter((i) => !fixed(i)).length + state.hotspots.length };
}
