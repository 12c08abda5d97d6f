import { z } from 'zod';
import { declarativeConnector, cweNumbers, valueAt, type DeclarativeDefinition } from '../declarative/index.js';
import { bearerAuth, type HttpTuning } from '../http/index.js';

/** The parts of a Semgrep project (`GET /api/v1/deployments/{slug}/projects`) this connector reads. */
const semgrepProject = z.looseObject({
  id: z.union([z.number(), z.string()]),
  name: z.string().min(1),
  url: z.string().nullish(),
  tags: z.array(z.string()).nullish(),
  latest_scan_at: z.string().nullish(),
});

/** The parts of a Semgrep Code finding (`GET /api/v1/deployments/{slug}/findings`) this connector reads. */
const semgrepFinding = z.looseObject({
  id: z.union([z.number(), z.string()]),
  match_based_id: z.string().nullish(),
  rule_name: z.string().min(1),
  rule_message: z.string().nullish(),
  severity: z.string().nullish(),
  status: z.string().nullish(),
  state: z.string().nullish(),
  triage_state: z.string().nullish(),
  triage_reason: z.string().nullish(),
  line_of_code_url: z.string().nullish(),
  location: z.looseObject({ file_path: z.string().nullish(), line: z.number().nullish() }).nullish(),
  rule: z.looseObject({ cwe_names: z.array(z.string()).nullish() }).nullish(),
  assistant: z.looseObject({ guidance: z.looseObject({ summary: z.string().nullish() }).nullish() }).nullish(),
});
type SemgrepFinding = z.infer<typeof semgrepFinding>;

export const semgrepSettings = z.object({});

/** Deployments and projects are few; a findings page of 500 stays far below the 3000 Semgrep allows. */
const PAGE_SIZE = 500;

/**
 * Semgrep AppSec Platform (Semgrep Code). Records are the projects of every deployment the token sees,
 * keyed by project id; findings are `GET /api/v1/deployments/{slug}/findings?repos=<project>&dedup=true`,
 * paged from 0 until the first empty page. Identity is `match_based_id`: Semgrep's own key of a finding
 * across scans and branches (rule, path, code, index), which `dedup=true` makes one finding per key.
 * Fixed and removed findings are not current; ignored ones arrive triaged.
 */
export const semgrepDefinition: DeclarativeDefinition<z.infer<typeof semgrepSettings>, z.infer<typeof semgrepProject>, SemgrepFinding> = {
  tool: 'semgrep',
  displayName: 'Semgrep',
  spec: {
    settings: semgrepSettings,
    secretDescription: 'A Semgrep API token (Settings → Tokens) with the Web API scope',
    locationDescription: 'The Semgrep URL: https://semgrep.dev (or your tenant’s)',
    defaultLocation: 'https://semgrep.dev',
  },
  matching: 'unique_id_from_tool',
  hashFields: ['title', 'filePath', 'line', 'vulnIdFromTool'],
  // Semgrep API tokens are 40 characters and more (`sgp_` and a random part).
  minSecretLength: 20,
  requester: {
    credentialName: 'API token',
    permissionHint: 'the token needs the Web API scope (Settings → Tokens) on a Team or Enterprise deployment',
    auth: (secret) => bearerAuth(secret),
  },
  check: { path: '/api/v1/deployments' },
  records: {
    parents: { path: '/api/v1/deployments', paginator: { type: 'none' }, selector: 'deployments' },
    path: '/api/v1/deployments/{parent.slug}/projects',
    paginator: { type: 'untilEmptyPage', pageParam: 'page', firstPage: 0, sizeParam: 'page_size', pageSize: PAGE_SIZE },
    selector: 'projects',
    schema: semgrepProject,
    externalId: 'id',
    name: 'name',
    metadata: {
      deploymentSlug: (_project, { parent }) => valueAt(parent, 'slug'),
      url: 'url',
      tags: 'tags',
      latestScanAt: 'latest_scan_at',
    },
  },
  findings: {
    probe: { path: '/api/v1/deployments/{record.metadata.deploymentSlug}/projects/{+record.name}' },
    path: '/api/v1/deployments/{record.metadata.deploymentSlug}/findings',
    query: { repos: '{record.name}', dedup: true },
    paginator: { type: 'untilEmptyPage', pageParam: 'page', firstPage: 0, sizeParam: 'page_size', pageSize: PAGE_SIZE },
    selector: 'findings',
    schema: semgrepFinding,
    fields: {
      title: 'rule_name',
      description: 'rule_message',
      mitigation: 'assistant.guidance.summary',
      cwes: (f) => cweNumbers(f.rule?.cwe_names),
      filePath: 'location.file_path',
      line: 'location.line',
      endpoint: 'line_of_code_url',
      // Without a match_based_id (older scans), Semgrep's own finding id still names it.
      uniqueIdFromTool: (f) => f.match_based_id ?? `id:${f.id}`,
      vulnIdFromTool: 'rule_name',
    },
    severity: {
      from: 'severity',
      map: { critical: 'Critical', high: 'High', error: 'High', medium: 'Medium', warning: 'Medium', low: 'Low', info: 'Info' },
      otherwise: 'Info',
    },
    triage: [
      { when: { status: ['fixed', 'removed'] }, then: 'notCurrent' },
      { when: { state: ['fixed', 'removed'] }, then: 'notCurrent' },
      { when: { status: ['ignored'], triage_reason: ['false_positive'] }, then: 'falseP' },
      // Ignored as acceptable risk, for lack of time, or without a reason: a person chose not to fix it.
      { when: { status: ['ignored'] }, then: 'riskAccepted' },
      { when: { triage_state: ['ignored'], triage_reason: ['false_positive'] }, then: 'falseP' },
      { when: { triage_state: ['ignored'] }, then: 'riskAccepted' },
    ],
    // A person moved it to "fixing": they confirmed it is real.
    verifiedWhen: { status: ['fixing'] },
  },
};

export function createSemgrepConnector(tuning: HttpTuning = {}) {
  return declarativeConnector(semgrepDefinition, tuning);
}

/** The connector as vulnsync ships it. */
export const semgrep = createSemgrepConnector();
