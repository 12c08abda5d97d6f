import { z } from 'zod';
import { ConnectorError } from '../../errors.js';
import { cweNumbers, declarativeConnector, type DeclarativeDefinition } from '../declarative/index.js';
import { apiKeyHeaderAuth, bearerAuth, type Authenticator, type HttpTuning } from '../http/index.js';

/** The parts of a project (`GET /api/v4/projects`) this connector reads. */
const gitlabProject = z.looseObject({ id: z.number(), path_with_namespace: z.string().min(1), web_url: z.string().nullish() });

const identifier = z.looseObject({ externalType: z.string().nullish(), externalId: z.string().nullish(), name: z.string().nullish() });
const dependency = z.looseObject({ package: z.looseObject({ name: z.string().nullish() }).nullish(), version: z.string().nullish() });

/** The parts of a vulnerability (GraphQL `Vulnerability`) this connector reads. */
const gitlabVulnerability = z.looseObject({
  id: z.string().min(1),
  title: z.string().nullish(),
  description: z.string().nullish(),
  severity: z.string().nullish(),
  state: z.string(),
  dismissalReason: z.string().nullish(),
  solution: z.string().nullish(),
  webUrl: z.string().nullish(),
  primaryIdentifier: identifier.nullish(),
  identifiers: z.array(identifier).nullish(),
  location: z
    .looseObject({ file: z.string().nullish(), startLine: z.number().nullish(), image: z.string().nullish(), hostname: z.string().nullish(), path: z.string().nullish(), dependency: dependency.nullish() })
    .nullish(),
});
type Vulnerability = z.infer<typeof gitlabVulnerability>;

export const gitlabSettings = z.object({});

/** Current vulnerabilities only: resolved and dismissed ones are not asked for, so the reimport closes them. */
export const VULNERABILITIES_QUERY = `query($fullPath: ID!, $after: String) {
  project(fullPath: $fullPath) {
    vulnerabilities(first: 100, after: $after, state: [DETECTED, CONFIRMED]) {
      nodes {
        id title description severity state dismissalReason solution webUrl
        primaryIdentifier { externalType externalId name }
        identifiers { externalType externalId name }
        location {
          ... on VulnerabilityLocationSast { file startLine }
          ... on VulnerabilityLocationSecretDetection { file startLine }
          ... on VulnerabilityLocationDependencyScanning { file dependency { package { name } version } }
          ... on VulnerabilityLocationContainerScanning { image dependency { package { name } version } }
          ... on VulnerabilityLocationDast { hostname path }
        }
      }
      pageInfo { endCursor hasNextPage }
    }
  }
}`;

/** A personal, group or project access token as `PRIVATE-TOKEN`; an OAuth token given as "Bearer <token>" goes as one. */
function gitlabAuth(secret: string): Authenticator {
  const oauth = /^Bearer\s+(\S+)$/i.exec(secret.trim());
  if (oauth) return bearerAuth(oauth[1]!);
  if (/\s/.test(secret.trim())) throw new ConnectorError('CONFIG_INVALID', 'The GitLab secret must be an access token, or "Bearer <OAuth token>"');
  return apiKeyHeaderAuth('PRIVATE-TOKEN', secret.trim());
}

const ids = (v: Vulnerability, types: string[]) => (v.identifiers ?? []).filter((i) => types.includes((i.externalType ?? '').toLowerCase()));

/**
 * GitLab (Ultimate's vulnerability report). Records are the projects the token's user is a member of
 * (`GET /api/v4/projects?membership=true`, keyset paging by the `Link` header); findings come from GraphQL
 * (`project(fullPath:) { vulnerabilities(state: [DETECTED, CONFIRMED]) }`, paged by `pageInfo.endCursor`),
 * as GitLab is retiring the REST vulnerability endpoints. Identity is the vulnerability's global id. CONFIRMED
 * verifies it; resolved and dismissed ones are not current.
 */
export const gitlabDefinition: DeclarativeDefinition<z.infer<typeof gitlabSettings>, z.infer<typeof gitlabProject>, Vulnerability> = {
  tool: 'gitlab',
  displayName: 'GitLab',
  spec: {
    settings: gitlabSettings,
    secretDescription: 'A GitLab access token with the read_api scope (personal, group or project), or "Bearer <OAuth token>"',
    locationDescription: 'The GitLab URL: https://gitlab.com (the default), or your GitLab Self-Managed URL',
    defaultLocation: 'https://gitlab.com',
  },
  matching: 'unique_id_from_tool',
  hashFields: ['title', 'filePath', 'componentName', 'vulnIdFromTool'],
  minSecretLength: 20,
  requester: {
    credentialName: 'access token',
    permissionHint: 'the token needs the read_api scope, and its user the Developer role (or more) on each project',
    auth: gitlabAuth,
  },
  check: { path: '/api/v4/projects', query: { membership: true, per_page: 1 } },
  records: {
    path: '/api/v4/projects',
    query: { membership: true, pagination: 'keyset', order_by: 'id', sort: 'asc', per_page: 100 },
    paginator: { type: 'linkHeader' },
    selector: '',
    schema: gitlabProject,
    externalId: 'id',
    name: 'path_with_namespace',
    metadata: { fullPath: 'path_with_namespace', webUrl: 'web_url' },
  },
  findings: {
    // GraphQL answers a project that is gone (or hidden from the user) with `project: null`, not a 404.
    probe: { path: '/api/v4/projects/{record.externalId}' },
    path: '/api/graphql',
    graphql: { query: VULNERABILITIES_QUERY, variables: { fullPath: '{record.metadata.fullPath}' } },
    paginator: { type: 'graphqlCursor', pageInfoPath: 'data.project.vulnerabilities.pageInfo', cursorVariable: 'after' },
    selector: 'data.project.vulnerabilities.nodes',
    schema: gitlabVulnerability,
    fields: {
      title: 'title',
      description: 'description',
      mitigation: 'solution',
      references: 'webUrl',
      filePath: 'location.file',
      line: 'location.startLine',
      componentName: 'location.dependency.package.name',
      componentVersion: 'location.dependency.version',
      endpoint: (v) => (v.location?.hostname ? `${v.location.hostname}${v.location.path ?? ''}` : v.location?.image),
      cwes: (v) => cweNumbers(ids(v, ['cwe']).map((i) => i.externalId ?? i.name)),
      vulnerabilityIds: (v) => ids(v, ['cve', 'ghsa']).map((i) => i.name ?? i.externalId ?? '').filter(Boolean),
      uniqueIdFromTool: 'id',
      vulnIdFromTool: 'primaryIdentifier.name',
    },
    severity: { from: 'severity', map: { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low', info: 'Info' }, otherwise: 'Info' },
    triage: [
      { when: { dismissalReason: ['FALSE_POSITIVE'] }, then: 'falseP' },
      { when: { dismissalReason: ['ACCEPTABLE_RISK', 'MITIGATING_CONTROL'] }, then: 'riskAccepted' },
      { when: { dismissalReason: ['USED_IN_TESTS', 'NOT_APPLICABLE'] }, then: 'outOfScope' },
      { when: { state: ['RESOLVED', 'DISMISSED'] }, then: 'notCurrent' },
    ],
    verifiedWhen: { state: ['CONFIRMED'] },
  },
};

export function createGitLabConnector(tuning: HttpTuning = {}) {
  return declarativeConnector(gitlabDefinition, tuning);
}

/** The connector as vulnsync ships it. */
export const gitlab = createGitLabConnector();
