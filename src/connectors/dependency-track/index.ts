import { z } from 'zod';
import { ConnectorError } from '../../errors.js';
import { pagesOfFindings } from '../finding-pages.js';
import { apiKeyHeaderAuth, createHttpClient, paginateByPageNumber, type HttpClient, type HttpTuning } from '../http/index.js';
import { parseSettings, parseToolItem } from '../settings.js';
import type { ConnectorConfig, FetchCursor, ToolConnector } from '../types.js';
import { dtFinding, dtProject } from './api.js';
import { findingFromDependencyTrack, projectToRecord } from './mapping.js';

const TOOL_NAME = 'Dependency-Track';

export const dependencyTrackSettings = z.object({
  includeInactive: z.boolean().default(false).describe('Also discover projects marked inactive in Dependency-Track'),
});
export type DependencyTrackSettings = z.infer<typeof dependencyTrackSettings>;

export interface DependencyTrackOptions extends HttpTuning {
  /** Projects per `GET /api/v1/project` page. Default 100. */
  projectPageSize?: number;
  /** Most findings per yielded page (the findings endpoint is unpaginated). Default 1000. */
  findingsPageSize?: number;
  /** Per-attempt timeout of the findings request, which returns a whole project at once. Default 120 s. */
  findingsTimeoutMs?: number;
  userAgent?: string;
}

/** Resume position in a record's findings: the matrix of the last finding stored, in matrix order. */
interface DependencyTrackCursor extends FetchCursor {
  afterMatrix: string;
}

/**
 * The Dependency-Track connector (API v1, `X-Api-Key`). Records are projects (one per name+version, keyed
 * by uuid); findings are `GET /api/v1/finding/project/{uuid}?suppressed=true`, suppressed ones included so
 * they arrive as accepted risk instead of being closed. That endpoint is unpaginated, so findings are
 * sorted by matrix and cut into bounded pages; a resumed fetch refetches and continues after the last
 * matrix it stored, which stays correct when findings come and go between attempts.
 */
export function createDependencyTrackConnector(options: DependencyTrackOptions = {}): ToolConnector<DependencyTrackSettings> {
  const projectPageSize = options.projectPageSize ?? 100;
  const findingsPageSize = options.findingsPageSize ?? 1000;

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
    });
  }

  return {
    tool: 'dependency_track',
    displayName: TOOL_NAME,
    spec: {
      settings: dependencyTrackSettings,
      secretDescription: 'A Dependency-Track API key of a team with the VIEW_PORTFOLIO and VIEW_VULNERABILITY permissions',
      locationDescription: 'The URL of the Dependency-Track API server, e.g. https://dtrack-api.example.com (not the frontend)',
    },
    matching: 'hash_code',
    hashFields: ['componentName', 'componentVersion', 'vulnerabilityIds'],

    async check(config, ctx) {
      parseSettings(dependencyTrackSettings, config.settings, TOOL_NAME);
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

    async *discover(config, ctx) {
      const settings = parseSettings(dependencyTrackSettings, config.settings, TOOL_NAME);
      const http = clientFor(config);
      const pages = paginateByPageNumber<unknown>(
        http,
        { path: '/api/v1/project', query: settings.includeInactive ? {} : { excludeInactive: true } },
        ctx,
        { pageParam: 'pageNumber', sizeParam: 'pageSize', pageSize: projectPageSize, firstPage: 1, totalHeader: 'X-Total-Count' },
      );
      for await (const page of pages) {
        for (const item of page.items) yield projectToRecord(parseToolItem(dtProject, item, TOOL_NAME, 'a project'));
      }
    },

    async *fetchFindings(config, record, cursor, ctx) {
      parseSettings(dependencyTrackSettings, config.settings, TOOL_NAME);
      const http = clientFor(config);
      const projectUuid = record.externalId;
      const response = await http.request(
        {
          path: `/api/v1/finding/project/${encodeURIComponent(projectUuid)}`,
          query: { suppressed: true },
          timeoutMs: options.findingsTimeoutMs ?? 120_000,
          notFound: { type: 'RECORD_MISSING', message: `${TOOL_NAME} no longer has project "${record.name}" (${projectUuid})` },
        },
        ctx,
      );
      if (!Array.isArray(response.body)) {
        throw new ConnectorError('BAD_TOOL_DATA', `${TOOL_NAME} answered the findings of project ${projectUuid} with something other than a list`);
      }
      const findings = response.body
        .map((item) => findingFromDependencyTrack(parseToolItem(dtFinding, item, TOOL_NAME, 'a finding'), item, projectUuid))
        .sort((a, b) => compare(a.uniqueIdFromTool, b.uniqueIdFromTool));
      const after = resumePosition(cursor);
      const remaining = after === null ? findings : findings.filter((f) => compare(f.uniqueIdFromTool, after) > 0);
      yield* pagesOfFindings(remaining, findingsPageSize, (last): DependencyTrackCursor => ({ afterMatrix: String(last.uniqueIdFromTool) }));
    },
  };
}

/** The connector as vulnsync ships it. */
export const dependencyTrack = createDependencyTrackConnector();

/** Operators paste the API server URL with or without `/api` or `/api/v1`; requests add `/api/v1/...` themselves. */
function apiServerUrl(location: string): string {
  return location.trim().replace(/\/+$/, '').replace(/\/api(\/v1)?$/i, '');
}

function resumePosition(cursor: FetchCursor | null): string | null {
  const after = cursor?.afterMatrix;
  return typeof after === 'string' && after !== '' ? after : null;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
