import { z } from 'zod';
import { ConnectorError } from '../../errors.js';
import { jsonArrayElements } from '../http/json-array-stream.js';
import {
  apiKeyHeaderAuth,
  createHttpClient,
  DEFAULT_RESPONSE_LIMITS,
  paginateByPageNumber,
  type HttpClient,
  type HttpTuning,
  type ResponseLimits,
} from '../http/index.js';
import { parseToolItem } from '../settings.js';
import { defineConnector, RESTART_FETCH, type ConnectorConfig, type ConnectorContext, type NormalizedFinding, type ToolConnector } from '../types.js';
import { dtFinding, dtProject } from './api.js';
import { findingFromDependencyTrack, projectToRecord } from './mapping.js';

const TOOL_NAME = 'Dependency-Track';

export const dependencyTrackSettings = z.object({
  includeInactive: z.boolean().default(false).describe('Also discover projects marked inactive in Dependency-Track'),
});
export type DependencyTrackSettings = z.infer<typeof dependencyTrackSettings>;

/** Where a discovery resumes: the next page of the project listing. A fetch never resumes (one streamed answer). */
const discoveryCursor = z.strictObject({ page: z.number().int().positive() });

export interface DependencyTrackOptions extends HttpTuning {
  /** Projects per `GET /api/v1/project` page. Default 100. */
  projectPageSize?: number;
  /** Most findings per yielded page (the findings endpoint is unpaginated). Default 1000. */
  findingsPageSize?: number;
  /** Per-attempt timeout of the findings request, which returns a whole project at once. Default 120 s. */
  findingsTimeoutMs?: number;
  userAgent?: string;
}


/**
 * The Dependency-Track connector (API v1, `X-Api-Key`). Records are projects (one per name+version, keyed
 * by uuid); findings are `GET /api/v1/finding/project/{uuid}?suppressed=true`, suppressed ones included so
 * they arrive as accepted risk instead of being closed. That endpoint is unpaginated, so its answer is
 * parsed as a stream and cut into bounded pages, never held whole; a fetch cannot resume inside one answer,
 * so its pages carry RESTART_FETCH and a retried fetch starts over.
 */
export function createDependencyTrackConnector(options: DependencyTrackOptions = {}): ToolConnector {
  const projectPageSize = options.projectPageSize ?? 100;
  const findingsPageSize = options.findingsPageSize ?? 1000;
  // Project pages are small; a whole project's findings (streamed) can run to hundreds of megabytes.
  const limits: ResponseLimits = { ...DEFAULT_RESPONSE_LIMITS, ...options.limits };

  function clientFor(config: ConnectorConfig<DependencyTrackSettings>): HttpClient {
    return createHttpClient({
      toolName: TOOL_NAME,
      credentialName: 'API key',
      permissionHint: "the API key's team needs the VIEW_PORTFOLIO and VIEW_VULNERABILITY permissions (and access to the project)",
      baseUrl: apiServerUrl(config.location),
      authenticate: apiKeyHeaderAuth('X-Api-Key', config.secret),
      headers: { Accept: 'application/json', 'User-Agent': options.userAgent ?? 'vulnsync' },
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      limits,
    });
  }

  return defineConnector({
    tool: 'dependency_track',
    displayName: TOOL_NAME,
    spec: {
      settings: dependencyTrackSettings,
      secretDescription: 'A Dependency-Track API key of a team with the VIEW_PORTFOLIO and VIEW_VULNERABILITY permissions',
      locationDescription: 'The URL of the Dependency-Track API server, e.g. https://dtrack-api.example.com (not the frontend)',
    },
    matching: 'hash_code',
    hashFields: ['componentName', 'componentVersion', 'vulnerabilityIds'],
    limits,
    // Dependency-Track API keys are 32 characters or more (`odt_` and a long random part in 4.11+).
    minSecretLength: 16,
    cursors: { fetch: z.never(), discovery: discoveryCursor },

    async check(config, ctx) {
      const http = clientFor(config);
      const notHere = `${TOOL_NAME} API not found at ${http.baseUrl.href}: the location must be the API server's URL (the one serving /api/v1), not the frontend`;
      try {
        const response = await http.request(
          { path: '/api/v1/project', query: { pageNumber: 1, pageSize: 1 }, notFound: { type: 'CONFIG_INVALID', message: notHere } },
          ctx,
        );
        if (!Array.isArray(response.body)) throw new ConnectorError('CONFIG_INVALID', notHere);
      } catch (error) {
        if (error instanceof ConnectorError && error.type === 'BAD_TOOL_DATA') {
          throw new ConnectorError('CONFIG_INVALID', notHere, error.details);
        }
        throw error;
      }
    },

    async *discoverPages(config, startAt, ctx) {
      const { settings } = config;
      const http = clientFor(config);
      const pages = paginateByPageNumber<unknown>(
        http,
        { path: '/api/v1/project', query: settings.includeInactive ? {} : { excludeInactive: true } },
        ctx,
        {
          pageParam: 'pageNumber',
          sizeParam: 'pageSize',
          pageSize: projectPageSize,
          firstPage: 1,
          startAt: startAt?.page ?? null,
          totalHeader: 'X-Total-Count',
        },
      );
      for await (const page of pages) {
        yield {
          records: page.items.map((item) => projectToRecord(parseToolItem(dtProject, item, TOOL_NAME, 'a project'))),
          cursor: page.next === null ? null : { page: page.next },
        };
      }
    },

    async *fetchFindings(config, record, _cursor, ctx) {
      const http = clientFor(config);
      const projectUuid = record.externalId;
      const response = await http.request(
        {
          path: `/api/v1/finding/project/${encodeURIComponent(projectUuid)}`,
          query: { suppressed: true },
          timeoutMs: options.findingsTimeoutMs ?? 120_000,
          notFound: { type: 'RECORD_MISSING', message: `${TOOL_NAME} no longer has project "${record.name}" (${projectUuid})` },
          stream: true,
        },
        ctx,
      );
      let page: NormalizedFinding[] = [];
      try {
        for await (const value of jsonArrayElements(response.stream!)) {
          page.push(findingFromDependencyTrack(parseToolItem(dtFinding, value, TOOL_NAME, 'a finding'), value, projectUuid));
          if (page.length === findingsPageSize) {
            yield { findings: page, cursor: RESTART_FETCH };
            page = [];
          }
        }
      } catch (err) {
        throw streamFailure(err, projectUuid, ctx);
      }
      yield { findings: page, cursor: null };
    },
  });
}

/** The connector as vulnsync ships it. */
export const dependencyTrack = createDependencyTrackConnector();

/** Operators paste the API server URL with or without `/api` or `/api/v1`; requests add `/api/v1/...` themselves. */
function apiServerUrl(location: string): string {
  return location.trim().replace(/\/+$/, '').replace(/\/api(\/v1)?$/i, '');
}

/** Why reading a streamed answer failed: the connection (retryable) or the tool's data (not). */
function streamFailure(err: unknown, projectUuid: string, ctx: ConnectorContext): unknown {
  if (err instanceof ConnectorError) return err;
  if (ctx.signal?.aborted) return ctx.signal.reason ?? err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof SyntaxError) return badJson(projectUuid, message);
  const code = (err as { code?: unknown } | null)?.code;
  const network =
    (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) ||
    /terminated|ECONNRESET|socket|aborted/i.test(message) ||
    (typeof code === 'string' && (code.startsWith('UND_ERR') || code.startsWith('ECONN')));
  return network
    ? new ConnectorError('TOOL_UNAVAILABLE', `${TOOL_NAME} broke off the findings of project ${projectUuid} (${message})`)
    : badJson(projectUuid, message);
}

function badJson(projectUuid: string, message: string): ConnectorError {
  return new ConnectorError('BAD_TOOL_DATA', `${TOOL_NAME} answered the findings of project ${projectUuid} with a body that is not valid JSON (${message})`);
}
