import { z } from 'zod';
import { ConnectorError } from '../../errors.js';
import { declarativeConnector, type DeclarativeDefinition } from '../declarative/index.js';
import { tokenAuth, type Authenticator, type HttpTuning } from '../http/index.js';

/** The parts of a Bugcrowd program (`GET /programs`, JSON:API) this connector reads. */
const bugcrowdProgram = z.looseObject({
  id: z.string().min(1),
  attributes: z.looseObject({ name: z.string(), code: z.string().nullish() }),
});

/** The parts of a Bugcrowd submission (`GET /submissions?filter[program]=…`) this connector reads. */
const bugcrowdSubmission = z.looseObject({
  id: z.string().min(1),
  attributes: z.looseObject({
    title: z.string().nullish(),
    description: z.string().nullish(),
    remediation_advice: z.string().nullish(),
    bug_url: z.string().nullish(),
    vrt_id: z.string().nullish(),
    vulnerability_references: z.string().nullish(),
    severity: z.number().nullish(),
    state: z.string(),
    duplicate: z.boolean().nullish(),
  }),
  links: z.looseObject({ self: z.string().nullish() }).nullish(),
});

export const bugcrowdSettings = z.object({});

const PAGE_SIZE = 100;
const paging = { type: 'nextUrlInBody', path: 'links.next' } as const;

/**
 * Bugcrowd's token is `<username>:<password>` as one string, sent as `Authorization: Token <token>`; a
 * secret of another shape could never work, so it is CONFIG_INVALID before anything is sent.
 */
function bugcrowdAuth(secret: string): Authenticator {
  const token = secret.trim();
  if (!/^[^\s:]+:\S+$/.test(token)) {
    throw new ConnectorError('CONFIG_INVALID', 'The Bugcrowd secret must be the API token as "<username>:<password>", as Bugcrowd shows it when the credentials are created');
  }
  return tokenAuth(token, 'Token');
}

/**
 * Bugcrowd (API with JSON:API answers). Records are the programs the user sees, keyed by program id;
 * findings are `GET /submissions?filter[program]=<id>`, paged by `page[limit]`/`page[offset]` through
 * `links.next`. Identity is the submission `id`. Resolved submissions and duplicates (the original carries
 * the finding) are left out; not applicable and not reproducible are false positives, out of scope is out
 * of scope, informational (valid, will not be fixed) an accepted risk.
 */
export const bugcrowdDefinition: DeclarativeDefinition<z.infer<typeof bugcrowdSettings>, z.infer<typeof bugcrowdProgram>, z.infer<typeof bugcrowdSubmission>> = {
  tool: 'bugcrowd',
  displayName: 'Bugcrowd',
  spec: {
    settings: bugcrowdSettings,
    secretDescription: 'A Bugcrowd API token, "<username>:<password>" (profile → API Credentials), of a user who can view the programs’ submissions',
    locationDescription: 'The Bugcrowd API URL: https://api.bugcrowd.com',
    defaultLocation: 'https://api.bugcrowd.com',
  },
  matching: 'unique_id_from_tool',
  hashFields: ['title', 'endpoint', 'vulnIdFromTool'],
  minSecretLength: 20,
  requester: {
    credentialName: 'API token',
    permissionHint: "the token's user needs a role that can view the program's submissions (Bugcrowd's API Credentials follow the user's role)",
    auth: bugcrowdAuth,
    headers: { Accept: 'application/vnd.bugcrowd+json' },
  },
  // Submissions, not programs: a user who sees programs but not their submissions fails here.
  check: { path: '/submissions', query: { 'page[limit]': 1 } },
  records: {
    path: '/programs',
    query: { 'page[limit]': PAGE_SIZE },
    paginator: paging,
    selector: 'data',
    schema: bugcrowdProgram,
    externalId: 'id',
    name: 'attributes.name',
    metadata: { code: 'attributes.code' },
  },
  findings: {
    // The submissions filter answers an unknown program with an empty list, which would close all its findings.
    probe: { path: '/programs/{record.externalId}' },
    path: '/submissions',
    query: { 'filter[program]': '{record.externalId}', 'page[limit]': PAGE_SIZE, 'page[offset]': 0 },
    paginator: paging,
    selector: 'data',
    schema: bugcrowdSubmission,
    fields: {
      title: 'attributes.title',
      description: 'attributes.description',
      mitigation: 'attributes.remediation_advice',
      endpoint: 'attributes.bug_url',
      references: 'attributes.vulnerability_references',
      uniqueIdFromTool: 'id',
      vulnIdFromTool: 'attributes.vrt_id',
    },
    // The priority Bugcrowd's triagers assign from its Vulnerability Rating Taxonomy; none yet → Info.
    severity: { from: 'attributes.severity', map: { '1': 'Critical', '2': 'High', '3': 'Medium', '4': 'Low', '5': 'Info' }, otherwise: 'Info' },
    triage: [
      { when: { 'attributes.state': ['resolved', 'duplicate'] }, then: 'notCurrent' },
      { when: { 'attributes.duplicate': [true] }, then: 'notCurrent' },
      { when: { 'attributes.state': ['not_applicable', 'not_reproducible'] }, then: 'falseP' },
      { when: { 'attributes.state': ['out_of_scope'] }, then: 'outOfScope' },
      { when: { 'attributes.state': ['informational'] }, then: 'riskAccepted' },
    ],
    // Triaged by Bugcrowd's engineers, or accepted by the program: confirmed real.
    verifiedWhen: { 'attributes.state': ['triaged', 'unresolved', 'informational'] },
  },
};

export function createBugcrowdConnector(tuning: HttpTuning = {}) {
  return declarativeConnector(bugcrowdDefinition, tuning);
}

/** The connector as vulnsync ships it. */
export const bugcrowd = createBugcrowdConnector();
