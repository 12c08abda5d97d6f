import { z } from 'zod';
import { ConnectorError } from '../../errors.js';
import {
  bearerAuth,
  createHttpClient,
  DEFAULT_RESPONSE_LIMITS,
  nextLinkParam,
  paginateByCursor,
  paginateByLinkHeader,
  vendorMessage,
  type HttpClient,
  type HttpRequest,
  type HttpResponse,
  type HttpTuning,
  type ItemsOf,
  type ResponseLimits,
} from '../http/index.js';
import { parseToolItem } from '../settings.js';
import { defineConnector, type ConnectorConfig, type ConnectorContext, type FindingPage, type NormalizedFinding, type RecordRef, type ToolConnector } from '../types.js';
import { ghCodeScanningAlert, ghDependabotAlert, ghRepository, ghSecretScanningAlert } from './api.js';
import {
  findingFromCodeScanningAlert,
  findingFromDependabotAlert,
  findingFromSecretScanningAlert,
  repositoryToRecord,
  withoutSecretValue,
} from './mapping.js';

const TOOL_NAME = 'GitHub';
const PER_PAGE = 100;

export const ALERT_KINDS = ['code_scanning', 'dependabot', 'secret_scanning'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const githubSettings = z.object({
  owner: z.string().trim().min(1).describe('The organization or user whose repositories are discovered'),
  ownerType: z.enum(['org', 'user']).default('org'),
  alertKinds: z
    .array(z.enum(ALERT_KINDS))
    .min(1)
    .default([...ALERT_KINDS])
    .describe('Which GitHub Advanced Security alerts become findings'),
});
export type GitHubSettings = z.infer<typeof githubSettings>;

export interface GitHubOptions extends HttpTuning {
  /** Items per page (GitHub allows at most 100). */
  perPage?: number;
  userAgent?: string;
}

/**
 * One listing of alerts. A kind may need more than one: code scanning and secret scanning filter on a
 * single state, so open and triaged alerts are two listings. Fixed, auto-dismissed and revoked alerts are
 * never asked for: they are not current findings.
 */
interface AlertStream {
  id: string;
  kind: AlertKind;
  path: string;
  query: Record<string, string>;
  paging: 'link' | 'after-cursor';
}

const STREAMS: readonly AlertStream[] = [
  { id: 'code_scanning:open', kind: 'code_scanning', path: 'code-scanning/alerts', query: { state: 'open' }, paging: 'link' },
  { id: 'code_scanning:dismissed', kind: 'code_scanning', path: 'code-scanning/alerts', query: { state: 'dismissed' }, paging: 'link' },
  { id: 'dependabot', kind: 'dependabot', path: 'dependabot/alerts', query: { state: 'open,dismissed' }, paging: 'after-cursor' },
  {
    id: 'secret_scanning:open',
    kind: 'secret_scanning',
    path: 'secret-scanning/alerts',
    query: { state: 'open', hide_secret: 'true' },
    paging: 'link',
  },
  {
    id: 'secret_scanning:resolved',
    kind: 'secret_scanning',
    path: 'secret-scanning/alerts',
    query: { state: 'resolved', resolution: 'false_positive,wont_fix,used_in_tests', hide_secret: 'true' },
    paging: 'link',
  },
];

/** Resume position: the listing and, within it, the next page (a Link URL, or Dependabot's `after` cursor; null = its start). */
const githubCursor = z.strictObject({
  stream: z.enum(STREAMS.map((s) => s.id) as [string, ...string[]]),
  next: z.string().nullable(),
});
type GitHubCursor = z.infer<typeof githubCursor>;

/** Where a discovery resumes: the Link URL of the next page of repositories. */
const discoveryCursor = z.strictObject({ next: z.string() });

/**
 * GitHub's answers when a security feature is simply off for a repository (not an access problem):
 * 404 "no analysis found" / 403 "Advanced Security must be enabled" / 403 "Code scanning is not enabled"
 * (code scanning), 403 "Dependabot alerts are disabled" or "not available for archived repositories",
 * 404 "Secret scanning is disabled on this repository".
 */
const FEATURE_OFF = /no analysis found|must be enabled|not enabled|is disabled|are disabled|not available for archived/i;

const PERMISSION_HINT =
  'the token needs the security_events (or repo) scope, or for a fine-grained token read access to code scanning, Dependabot and secret scanning alerts';

/**
 * The GitHub Advanced Security connector (REST API 2022-11-28, bearer token; github.com or GHES via the
 * location). Records are the owner's repositories, keyed by repository id; findings are the repository's
 * code scanning, Dependabot and secret scanning alerts that are current — open, or dismissed/resolved by a
 * person, which arrive triaged (false positive / accepted risk). A feature switched off for a repository
 * yields no findings of that kind; a repository that is gone is RECORD_MISSING. Secret values never leave
 * this module.
 */
export function createGitHubConnector(options: GitHubOptions = {}): ToolConnector {
  const perPage = Math.min(options.perPage ?? PER_PAGE, PER_PAGE);
  // A page holds at most 100 alerts; 16 MB is far beyond any real one.
  const limits: ResponseLimits = { ...DEFAULT_RESPONSE_LIMITS, maxResponseBytes: 16 * 1024 * 1024, ...options.limits };

  function clientFor(config: ConnectorConfig<GitHubSettings>): HttpClient {
    return createHttpClient({
      toolName: TOOL_NAME,
      credentialName: 'token',
      permissionHint: PERMISSION_HINT,
      baseUrl: config.location?.trim() || 'https://api.github.com',
      authenticate: bearerAuth(config.secret),
      headers: {
        Accept: 'application/vnd.github+json',
        'X-GitHub-Api-Version': '2022-11-28',
        'User-Agent': options.userAgent ?? 'vulnsync',
      },
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      limits,
    });
  }

  function listingRequest(settings: GitHubSettings): HttpRequest {
    const owner = encodeURIComponent(settings.owner);
    return settings.ownerType === 'org'
      ? {
          path: `/orgs/${owner}/repos`,
          query: { type: 'all', per_page: perPage },
          notFound: {
            type: 'CONFIG_INVALID',
            message: `GitHub has no organization "${settings.owner}" visible to this token (404); check the owner, or set ownerType to "user"`,
          },
        }
      : { path: '/user/repos', query: { affiliation: 'owner,collaborator', per_page: perPage } };
  }

  return defineConnector({
    tool: 'github',
    displayName: 'GitHub Advanced Security',
    spec: {
      settings: githubSettings,
      secretDescription:
        'A GitHub token: classic with the repo (or security_events) scope, or fine-grained with read access to metadata, code scanning, Dependabot and secret scanning alerts',
      locationDescription: 'The GitHub REST API URL: https://api.github.com, or https://<host>/api/v3 for GitHub Enterprise Server',
      defaultLocation: 'https://api.github.com',
    },
    matching: 'unique_id_from_tool',
    hashFields: ['title', 'filePath', 'line', 'componentName', 'vulnIdFromTool'],
    // GitHub's secondary rate limit: 900 points a minute on REST, a GET costing one.
    requestsPerMinute: 900,
    limits,
    // Classic tokens are 40 characters, fine-grained ones longer.
    minSecretLength: 20,
    cursors: { fetch: githubCursor, discovery: discoveryCursor },

    async check(config, ctx) {
      const { settings } = config;
      const http = clientFor(config);
      const request: HttpRequest =
        settings.ownerType === 'org'
          ? { ...listingRequest(settings), query: { per_page: 1 } }
          : {
              path: `/users/${encodeURIComponent(settings.owner)}`,
              notFound: { type: 'CONFIG_INVALID', message: `GitHub has no user "${settings.owner}" (404); check the owner setting` },
            };
      let response: HttpResponse;
      try {
        response = await http.request(request, ctx);
      } catch (error) {
        if (error instanceof ConnectorError && error.type === 'BAD_TOOL_DATA') {
          throw new ConnectorError('CONFIG_INVALID', `${http.baseUrl.href} does not answer like the GitHub REST API; check the location`, error.details);
        }
        throw error;
      }
      const scopes = response.headers.get('x-oauth-scopes');
      if (scopes !== null) {
        const granted = scopes.split(',').map((s) => s.trim());
        if (!granted.some((s) => s === 'repo' || s === 'security_events' || s === 'public_repo')) {
          throw new ConnectorError(
            'AUTH_REJECTED',
            `GitHub accepted the token, but it has none of the scopes needed to read security alerts (it has: ${granted.filter(Boolean).join(', ') || 'none'}); ${PERMISSION_HINT}`,
            { status: response.status },
          );
        }
      }
    },

    async *discoverPages(config, startAt, ctx) {
      const { settings } = config;
      const http = clientFor(config);
      const owner = settings.owner.toLowerCase();
      const resumeAt = startAt?.next ?? null;
      for await (const page of paginateByLinkHeader<unknown>(http, listingRequest(settings), ctx, { startAt: resumeAt })) {
        const repos = page.items.map((item) => parseToolItem(ghRepository, item, TOOL_NAME, 'a repository'));
        yield {
          records: repos.filter((repo) => settings.ownerType !== 'user' || repo.owner.login.toLowerCase() === owner).map(repositoryToRecord),
          cursor: page.next === null ? null : { next: page.next },
        };
      }
    },

    async *fetchFindings(config, record, cursor, ctx) {
      yield* alertPages(clientFor(config), config.settings, record, cursor, ctx, perPage);
    },
  });
}

/** The connector as vulnsync ships it. */
export const github = createGitHubConnector();

async function* alertPages(
  http: HttpClient,
  settings: GitHubSettings,
  record: RecordRef,
  cursor: GitHubCursor | null,
  ctx: ConnectorContext,
  perPage: number,
): AsyncGenerator<FindingPage<GitHubCursor>> {
  const fullName = await currentFullName(http, record, ctx);
  const streams = STREAMS.filter((s) => settings.alertKinds.includes(s.kind));
  const resume = resumePosition(cursor, streams);
  let yielded = false;

  for (let index = resume.streamIndex; index < streams.length; index++) {
    const stream = streams[index]!;
    const startAt = index === resume.streamIndex ? resume.next : null;
    const following = streams[index + 1];
    const endOfStream: GitHubCursor | null = following ? { stream: following.id, next: null } : null;

    for await (const page of alertListing(http, fullName, stream, startAt, ctx, perPage)) {
      const findings = page.items.map((item) => findingFromAlert(stream.kind, item)).filter((f): f is NormalizedFinding => f !== null);
      if (findings.length === 0) continue;
      const next: GitHubCursor | null = page.next ? { stream: stream.id, next: page.next } : endOfStream;
      yield { findings, cursor: next };
      yielded = true;
    }
  }
  if (!yielded) yield { findings: [], cursor: null };
}

/**
 * Confirms the record's repository still exists and returns its current full name. GitHub answers a
 * renamed repository with a redirect to `/repositories/{id}`, which the requester follows; a repository of
 * the same name but another id is a different repository, so the record's one is gone.
 */
async function currentFullName(http: HttpClient, record: RecordRef, ctx: ConnectorContext): Promise<string> {
  const known = typeof record.metadata?.fullName === 'string' ? record.metadata.fullName : record.name;
  const [owner, name] = known.split('/');
  if (!owner || !name) throw new ConnectorError('CONFIG_INVALID', `"${known}" is not a GitHub repository name (owner/name)`);
  const gone = { type: 'RECORD_MISSING' as const, message: `GitHub no longer has repository ${known} (or this token cannot see it)` };
  const response = await http.request({ path: `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`, notFound: gone }, ctx);
  const repo = parseToolItem(ghRepository, response.body, TOOL_NAME, 'a repository');
  if (String(repo.id) !== record.externalId) {
    throw new ConnectorError('RECORD_MISSING', `${gone.message}: ${repo.full_name} is now a different repository (id ${repo.id})`);
  }
  return repo.full_name;
}

function alertListing(http: HttpClient, fullName: string, stream: AlertStream, startAt: string | null, ctx: ConnectorContext, perPage: number) {
  const [owner, name] = fullName.split('/') as [string, string];
  const request: HttpRequest = {
    path: `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/${stream.path}`,
    query: { ...stream.query, per_page: perPage },
    notFound: { type: 'RECORD_MISSING', message: `GitHub no longer has repository ${fullName} (or this token cannot see it)` },
    passStatuses: [403, 404],
  };
  const itemsOf: ItemsOf<unknown> = (body, response) => {
    if (response.status >= 200 && response.status < 300) {
      if (Array.isArray(body)) return body;
      throw new ConnectorError('BAD_TOOL_DATA', `GitHub answered ${stream.kind} alerts of ${fullName} with something other than a list`);
    }
    const said = vendorMessage(body);
    if (said !== null && FEATURE_OFF.test(said)) {
      ctx.logger.info({ repository: fullName, alertKind: stream.kind, status: response.status }, `GitHub ${stream.kind} is off for ${fullName}: ${said}`);
      return [];
    }
    throw http.failureFor(request, response);
  };
  return stream.paging === 'after-cursor'
    ? paginateByCursor(http, request, ctx, { cursorParam: 'after', nextCursor: (r) => nextLinkParam(r, 'after'), startAt, itemsOf })
    : paginateByLinkHeader(http, request, ctx, { startAt, itemsOf });
}

function findingFromAlert(kind: AlertKind, item: unknown): NormalizedFinding | null {
  switch (kind) {
    case 'code_scanning':
      return findingFromCodeScanningAlert(parseToolItem(ghCodeScanningAlert, item, TOOL_NAME, 'a code scanning alert'), item);
    case 'dependabot':
      return findingFromDependabotAlert(parseToolItem(ghDependabotAlert, item, TOOL_NAME, 'a Dependabot alert'), item);
    case 'secret_scanning': {
      const raw = item && typeof item === 'object' ? withoutSecretValue(item as Record<string, unknown>) : item;
      return findingFromSecretScanningAlert(parseToolItem(ghSecretScanningAlert, raw, TOOL_NAME, 'a secret scanning alert'), raw);
    }
  }
}

function resumePosition(cursor: GitHubCursor | null, streams: readonly AlertStream[]): { streamIndex: number; next: string | null } {
  if (!cursor) return { streamIndex: 0, next: null };
  const order = STREAMS.findIndex((s) => s.id === cursor.stream);
  const streamIndex = streams.findIndex((s) => STREAMS.indexOf(s) >= order);
  if (streamIndex < 0) return { streamIndex: streams.length, next: null };
  const sameStream = streams[streamIndex]!.id === cursor.stream;
  return { streamIndex, next: sameStream ? cursor.next : null };
}
