import { z } from 'zod';
import { cweNumbers, declarativeConnector, findingsStream, type DeclarativeDefinition, type FindingsStream } from '../declarative/index.js';
import { basicAuth, bearerAuth, type HttpTuning } from '../http/index.js';
import { cappedSearch } from './capped.js';

/** The parts of a SonarQube project (`GET /api/components/search?qualifiers=TRK`) this connector reads. */
const sonarProject = z.looseObject({ key: z.string().min(1), name: z.string().nullish(), qualifier: z.string().nullish() });

/** The parts of an issue (`GET /api/issues/search`) this connector reads; 10.x adds `issueStatus` and `impacts`. */
const sonarIssue = z.looseObject({
  key: z.string().min(1),
  rule: z.string().min(1),
  component: z.string(),
  project: z.string().nullish(),
  severity: z.string().nullish(),
  impacts: z.array(z.looseObject({ severity: z.string() })).nullish(),
  status: z.string(),
  resolution: z.string().nullish(),
  issueStatus: z.string().nullish(),
  message: z.string().nullish(),
  line: z.number().nullish(),
  tags: z.array(z.string()).nullish(),
});

/** The parts of a security hotspot (`GET /api/hotspots/search`) this connector reads. */
const sonarHotspot = z.looseObject({
  key: z.string().min(1),
  component: z.string(),
  project: z.string().nullish(),
  securityCategory: z.string().nullish(),
  vulnerabilityProbability: z.string().nullish(),
  status: z.string(),
  resolution: z.string().nullish(),
  message: z.string().nullish(),
  line: z.number().nullish(),
  ruleKey: z.string().nullish(),
});

export const sonarqubeSettings = z.object({
  /** Bearer is SonarQube 10's way; older servers take the token as the basic-auth user with no password. */
  tokenAs: z.enum(['bearer', 'basic']).default('bearer'),
});
type Settings = z.infer<typeof sonarqubeSettings>;

/** SonarQube's largest page. */
const PAGE_SIZE = 500;
/** The file of a component key `<project>:<path>`. */
const fileOf = (item: { component: string; project?: string | null }) =>
  item.project && item.component.startsWith(`${item.project}:`) ? item.component.slice(item.project.length + 1) : null;

const issues: FindingsStream<z.infer<typeof sonarIssue>> = {
  path: '/api/issues/search',
  // Closed issues (fixed and gone from the code) are left out by the query; resolved ones still say how.
  query: { componentKeys: '{record.externalId}', types: 'VULNERABILITY', statuses: 'OPEN,CONFIRMED,REOPENED,RESOLVED', s: 'CREATION_DATE', asc: true },
  paginator: {
    type: 'custom',
    pages: cappedSearch(PAGE_SIZE, [
      { param: 'severities', values: ['BLOCKER', 'CRITICAL', 'MAJOR', 'MINOR', 'INFO'] },
      { afterParam: 'createdAfter', beforeParam: 'createdBefore' },
    ]),
  },
  selector: 'issues',
  schema: sonarIssue,
  fields: {
    title: (i) => i.message || i.rule,
    description: 'message',
    cwes: (i) => cweNumbers(i.tags?.filter((tag) => /^cwe-\d+$/i.test(tag))),
    // Dependency-check's rules name the CVE in the message.
    vulnerabilityIds: (i) => [...new Set(i.message?.match(/CVE-\d{4}-\d{4,}/g) ?? [])],
    filePath: fileOf,
    line: 'line',
    uniqueIdFromTool: 'key',
    vulnIdFromTool: 'rule',
  },
  // Standard mode's severity; 10.x's multi-quality mode gives only the impacts' severities.
  severity: {
    from: (i) => i.severity ?? i.impacts?.[0]?.severity,
    map: { blocker: 'Critical', critical: 'High', high: 'High', major: 'Medium', medium: 'Medium', minor: 'Low', low: 'Low', info: 'Info' },
    otherwise: 'Medium',
  },
  triage: [
    { when: { status: ['CLOSED'] }, then: 'notCurrent' },
    { when: { resolution: ['FIXED', 'REMOVED'] }, then: 'notCurrent' },
    { when: { issueStatus: ['FIXED'] }, then: 'notCurrent' },
    { when: { resolution: ['FALSE-POSITIVE'] }, then: 'falseP' },
    { when: { issueStatus: ['FALSE_POSITIVE'] }, then: 'falseP' },
    // WONTFIX before 10.4, shown as "Accepted" since.
    { when: { resolution: ['WONTFIX'] }, then: 'riskAccepted' },
    { when: { issueStatus: ['ACCEPTED'] }, then: 'riskAccepted' },
  ],
  verifiedWhen: { status: ['CONFIRMED'] },
};

const hotspots: FindingsStream<z.infer<typeof sonarHotspot>> = {
  path: '/api/hotspots/search',
  query: { project: '{record.externalId}' },
  paginator: { type: 'custom', pages: cappedSearch(PAGE_SIZE, [{ param: 'status', values: ['TO_REVIEW', 'REVIEWED'] }]) },
  selector: 'hotspots',
  schema: sonarHotspot,
  fields: {
    title: (h) => h.message || h.ruleKey || h.securityCategory,
    description: 'message',
    filePath: fileOf,
    line: 'line',
    uniqueIdFromTool: 'key',
    vulnIdFromTool: (h) => h.ruleKey ?? h.securityCategory,
  },
  severity: { from: 'vulnerabilityProbability', map: { high: 'High', medium: 'Medium', low: 'Low' }, otherwise: 'Low' },
  triage: [
    { when: { status: ['REVIEWED'], resolution: ['FIXED'] }, then: 'notCurrent' },
    // "Safe": a reviewer found the code is not vulnerable, no risk was accepted.
    { when: { status: ['REVIEWED'], resolution: ['SAFE'] }, then: 'falseP' },
  ],
  verifiedWhen: { status: ['REVIEWED'], resolution: ['ACKNOWLEDGED'] },
};

/**
 * SonarQube (Server 9.9+ / 10.x). Records are projects, keyed by project key; findings are the project's
 * vulnerability issues and then its security hotspots, each query split past SonarQube's 10,000-result cap
 * (capped.ts). Identity is the issue / hotspot `key`, which SonarQube keeps across analyses.
 */
export const sonarqubeDefinition: DeclarativeDefinition<Settings, z.infer<typeof sonarProject>, unknown> = {
  tool: 'sonarqube',
  displayName: 'SonarQube',
  spec: {
    settings: sonarqubeSettings,
    secretDescription: 'A SonarQube user token (My Account → Security) of a user with Browse permission on the projects',
    locationDescription: 'The SonarQube server URL, e.g. https://sonarqube.example.com',
  },
  matching: 'unique_id_from_tool',
  hashFields: ['title', 'filePath', 'line', 'vulnIdFromTool'],
  // SonarQube tokens are 40 characters and more (`squ_` and 40 hex digits).
  minSecretLength: 20,
  requester: {
    credentialName: 'user token',
    permissionHint: "the token's user needs Browse permission on the project (issues and security hotspots)",
    auth: (secret, settings) => (settings.tokenAs === 'basic' ? basicAuth(secret, '') : bearerAuth(secret)),
  },
  check: { path: '/api/components/search', query: { qualifiers: 'TRK', ps: 1 } },
  records: {
    path: '/api/components/search',
    query: { qualifiers: 'TRK' },
    paginator: { type: 'pageNumber', pageParam: 'p', sizeParam: 'ps', pageSize: PAGE_SIZE, totalPath: 'paging.total' },
    selector: 'components',
    schema: sonarProject,
    externalId: 'key',
    name: (p) => p.name || p.key,
  },
  findings: [findingsStream(issues), findingsStream(hotspots)],
};

export function createSonarqubeConnector(tuning: HttpTuning = {}) {
  return declarativeConnector(sonarqubeDefinition, tuning);
}

/** The connector as vulnsync ships it. */
export const sonarqube = createSonarqubeConnector();
