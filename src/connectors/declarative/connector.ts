import { z } from 'zod';
import { ConnectorError } from '../../errors.js';
import { createHttpClient, DEFAULT_RESPONSE_LIMITS, type Authenticator, type HttpClient, type HttpRequest, type HttpTuning, type ResponseLimits } from '../http/index.js';
import { parseToolItem } from '../settings.js';
import { defineConnector, RESTART_FETCH, type ConnectorConfig, type ConnectorContext, type NormalizedFinding, type ToolConnector } from '../types.js';
import type { DeclarativeDefinition, FindingsStream, Listing, RequestTemplate } from './definition.js';
import { findingFrom } from './mapping.js';
import { paginate, type PagePosition } from './paginators.js';
import { interpolate, itemsAt, read, type TemplateScope } from './select.js';

const pagePosition = z.union([z.string(), z.number()]);

/**
 * Resume position of a declarative fetch: the findings stream (index into the definition's list, 0 when
 * absent) and where its listing goes on after the last stored page (its start when null).
 */
function fetchCursorOf(streams: number) {
  return z.strictObject({ stream: z.number().int().min(0).max(streams - 1).default(0), next: pagePosition.nullable() });
}
type DeclarativeCursor = z.infer<ReturnType<typeof fetchCursorOf>>;

/** Where a paged discovery resumes: the parent page (its start), which parent on it, and the child listing's position. */
const discoveryCursor = z.strictObject({ parentPage: pagePosition.nullable(), parentIndex: z.number().int().min(0), next: pagePosition.nullable() });
type DiscoveryCursor = z.infer<typeof discoveryCursor>;

/**
 * Composes a definition into the ToolConnector the worker uses. `tuning` shortens timeouts and retries in
 * tests; everything else comes from the definition.
 */
export function declarativeConnector<Settings extends Record<string, unknown>, RecordItem, FindingItem>(
  definition: DeclarativeDefinition<Settings, RecordItem, FindingItem>,
  tuning: HttpTuning = {},
): ToolConnector {
  const name = definition.displayName;
  const limits: ResponseLimits = { ...DEFAULT_RESPONSE_LIMITS, ...definition.limits, ...tuning.limits };
  const streams = Array.isArray(definition.findings) ? definition.findings : [definition.findings as FindingsStream<FindingItem>];

  function open(config: ConnectorConfig<Settings>): { http: HttpClient; settings: Settings } {
    const { settings } = config;
    const { requester } = definition;
    const connect = (authenticate: Authenticator) =>
      createHttpClient({
        toolName: name,
        credentialName: requester.credentialName,
        permissionHint: requester.permissionHint,
        baseUrl: config.location?.trim() || definition.spec.defaultLocation || '',
        authenticate,
        headers: { Accept: 'application/json', 'User-Agent': 'vulnsync', ...requester.headers },
        timeoutMs: tuning.timeoutMs,
        retry: tuning.retry,
        limits,
      });
    return { http: connect(requester.auth(config.secret, settings, connect)), settings };
  }

  const request = (template: RequestTemplate, scope: TemplateScope, notFound?: HttpRequest['notFound']): HttpRequest => ({
    path: typeof template.path === 'function' ? template.path(scope) : interpolate(template.path, scope, true),
    headers: template.headers,
    ...(template.graphql && {
      method: 'POST' as const,
      idempotent: true,
      body: { query: template.graphql.query, variables: Object.fromEntries(Object.entries(template.graphql.variables ?? {}).map(([k, v]) => [k, interpolate(v, scope, false)])) },
    }),
    query: Object.fromEntries(Object.entries(template.query ?? {}).map(([k, v]) => [k, typeof v === 'string' ? interpolate(v, scope, false) : v])),
    notFound,
  });

  function listing(http: HttpClient, list: Listing, scope: TemplateScope, ctx: ConnectorContext, startAt: PagePosition | null, notFound?: HttpRequest['notFound']) {
    return paginate(http, request(list, scope, notFound), list.paginator, ctx, { startAt, itemsOf: itemsAt(list.selector) });
  }

  return defineConnector({
    tool: definition.tool,
    displayName: name,
    spec: definition.spec,
    matching: definition.matching,
    hashFields: definition.hashFields,
    limits,
    minSecretLength: definition.minSecretLength,
    cursors: { fetch: fetchCursorOf(streams.length), discovery: discoveryCursor },
    requestsPerMinute: definition.requestsPerMinute,

    async check(config, ctx) {
      const { http, settings } = open(config);
      const notHere = `${name} API not found at ${http.baseUrl.href}; check the location`;
      try {
        await http.request(request(definition.check, { settings }, { type: 'CONFIG_INVALID', message: notHere }), ctx);
      } catch (error) {
        // An answer that is not JSON comes from something else than the tool's API (a login page, a proxy).
        if (error instanceof ConnectorError && error.type === 'BAD_TOOL_DATA') throw new ConnectorError('CONFIG_INVALID', notHere, error.details);
        throw error;
      }
    },

    /**
     * The records page by page, each with where to resume after it: the parent page being listed (its start
     * position), which parent of it, and the child listing's next position.
     */
    async *discoverPages(config, startAt, ctx) {
      const { http, settings } = open(config);
      const stream = definition.records;
      const resume = startAt;
      let parentPageAt: PagePosition | null = resume?.parentPage ?? null;
      const parents = stream.parents
        ? listing(http, stream.parents, { settings }, ctx, parentPageAt)
        : single({ items: [undefined] as unknown[], next: null as PagePosition | null });
      let resuming = resume !== null;
      for await (const parentPage of parents) {
        for (let index = resuming ? (resume?.parentIndex ?? 0) : 0; index < parentPage.items.length; index++) {
          const parent = parentPage.items[index];
          const scope = { settings, parent };
          const childStart = resuming ? (resume?.next ?? null) : null;
          resuming = false;
          for await (const page of listing(http, stream, scope, ctx, childStart)) {
            const records = page.items.map((raw) => {
              const item = parseToolItem(stream.schema, raw, name, 'a record');
              const externalId = read(stream.externalId, item, scope);
              if ((typeof externalId !== 'string' && typeof externalId !== 'number') || externalId === '') {
                throw new ConnectorError('BAD_TOOL_DATA', `${name} sent a record without an id this connector can read`);
              }
              const metadata = Object.fromEntries(Object.entries(stream.metadata ?? {}).map(([key, source]) => [key, read(source, item, scope) ?? null]));
              return { externalId: String(externalId), name: String(read(stream.name, item, scope) ?? externalId), metadata };
            });
            const cursor: DiscoveryCursor | null =
              page.next !== null
                ? { parentPage: parentPageAt, parentIndex: index, next: page.next }
                : index + 1 < parentPage.items.length
                  ? { parentPage: parentPageAt, parentIndex: index + 1, next: null }
                  : parentPage.next !== null
                    ? { parentPage: parentPage.next, parentIndex: 0, next: null }
                    : null;
            yield { records, cursor };
          }
        }
        resuming = false;
        parentPageAt = parentPage.next;
      }
    },

    async *fetchFindings(config, record, cursor, ctx) {
      const { http, settings } = open(config);
      const scope: TemplateScope = { settings, record };
      const gone = { type: 'RECORD_MISSING' as const, message: `${name} no longer has "${record.name}" (${record.externalId})` };
      const from = cursor?.stream ?? 0;
      for (let index = from; index < streams.length; index += 1) {
        const stream = streams[index]!;
        // After a stream's last page the fetch goes on with the next stream, from its start.
        const after = (next: PagePosition | null): DeclarativeCursor | null =>
          next !== null ? { stream: index, next } : index + 1 < streams.length ? { stream: index + 1, next: null } : null;
        if (stream.probe) await http.request(request(stream.probe, scope, gone), ctx);
        const lookups: Record<string, unknown> = {};
        for (const [key, template] of Object.entries(stream.lookups ?? {}) as [string, RequestTemplate][]) lookups[key] = (await http.request(request(template, scope, gone), ctx)).body;
        scope.lookups = lookups;
        const resume = index === from ? (cursor?.next ?? null) : null;
        const unpaginated = stream.paginator.type === 'none';
        for await (const page of listing(http, stream, scope, ctx, resume, gone)) {
          const findings = page.items
            .map((raw) => findingFrom(stream, parseToolItem(stream.schema, raw, name, 'a finding'), raw, scope))
            .filter((f): f is NormalizedFinding => f !== null);
          if (unpaginated) {
            // One answer cannot be resumed inside: its pieces ask a retried fetch to start over.
            const size = stream.pageSize ?? 500;
            for (let at = size; at < findings.length; at += size) yield { findings: findings.slice(at - size, at), cursor: RESTART_FETCH };
            yield { findings: findings.slice(Math.floor(Math.max(findings.length - 1, 0) / size) * size), cursor: after(null) };
            break;
          }
          yield { findings, cursor: after(page.next) };
        }
      }
    },
  });
}

async function* single<T>(page: T): AsyncGenerator<T> {
  yield page;
}
