import { ConnectorError } from '../../errors.js';
import type { ConnectorContext } from '../types.js';
import {
  paginateByCursor,
  paginateByLinkHeader,
  paginateByPageNumber,
  paginateUntilEmptyPage,
  type HttpClient,
  type HttpRequest,
  type ItemsOf,
  type Page,
} from '../http/index.js';
import { valueAt } from './select.js';

/**
 * How a listing pages, as data. Every kind resumes from a `PagePosition` (a page number, an offset, a URL
 * or a cursor) that a page hands out as `next`, so a fetch cursor is just that position. Kinds that carry
 * the position in a request body (AWS `NextToken`, GraphQL `pageInfo.endCursor` as a variable) fit the
 * same shape: a string position read from the answer and written into the next request.
 */
export type Paginator =
  /** One answer holds everything (an export). */
  | { type: 'none' }
  /** RFC 8288 `Link: <…>; rel="next"`, optionally asking for a page size. */
  | { type: 'linkHeader'; sizeParam?: string; pageSize?: number }
  /** `page`/`per_page` (from `firstPage`, default 1), ending at a total (header or body path) or a short page. */
  | { type: 'pageNumber'; pageParam: string; sizeParam: string; pageSize: number; firstPage?: number; totalHeader?: string; totalPath?: string }
  /** Page numbers without a total: stops at the first empty page (Semgrep: 0-based). */
  | { type: 'untilEmptyPage'; pageParam: string; sizeParam?: string; pageSize?: number; firstPage?: number }
  /** `offset`/`limit` with the total in the body (Black Duck's `totalCount`). */
  | { type: 'offset'; offsetParam: string; limitParam: string; limit: number; totalPath: string }
  /**
   * The next page's URL in the body (JSON:API `links.next`), followed as given; a link from the host's
   * root that lacks `rootPath` gets it (Snyk writes `/orgs/…` for some listings, `/rest/orgs/…` for others).
   */
  | { type: 'nextUrlInBody'; path: string; rootPath?: string }
  /**
   * A cursor in the body sent back as `cursorParam`, the first query kept (Cobalt's `pagination.next_page`,
   * a URL whose `cursor` parameter is taken with `fromUrlParam`).
   */
  | { type: 'cursorInBody'; path: string; cursorParam: string; fromUrlParam?: string; sizeParam?: string; pageSize?: number }
  /**
   * A tool's own paging code where no kind above says it (SonarQube's split of queries over its
   * 10,000-result cap); it keeps the same contract: pages from `startAt`, each handing out its `next`.
   */
  | { type: 'custom'; pages: CustomPages }
  /**
   * A GraphQL connection (Relay): `pageInfo { endCursor hasNextPage }` at `pageInfoPath`, the cursor sent back
   * as the query variable `cursorVariable` (GitLab's `vulnerabilities(after: …)`). The listing is a `graphql` request.
   */
  | { type: 'graphqlCursor'; pageInfoPath: string; cursorVariable: string };

export type PagePosition = string | number;

export type CustomPages = (
  client: HttpClient,
  first: HttpRequest,
  ctx: ConnectorContext,
  options: { startAt: PagePosition | null; itemsOf: ItemsOf<unknown> },
) => AsyncGenerator<Page<unknown, PagePosition>>;

/** Pages a listing as its paginator says, from `startAt` (a `next` an earlier page gave) or the start. */
export function paginate(
  client: HttpClient,
  first: HttpRequest,
  paginator: Paginator,
  ctx: ConnectorContext,
  options: { startAt: PagePosition | null; itemsOf: ItemsOf<unknown> },
): AsyncGenerator<Page<unknown, PagePosition>> {
  const { itemsOf } = options;
  const asNumber = typeof options.startAt === 'number' ? options.startAt : null;
  const asString = typeof options.startAt === 'string' ? options.startAt : null;
  const sized = (param?: string, size?: number): HttpRequest =>
    param && size ? { ...first, query: { ...first.query, [param]: size } } : first;
  switch (paginator.type) {
    case 'none':
      return single(client, first, ctx, itemsOf);
    case 'linkHeader':
      return paginateByLinkHeader(client, sized(paginator.sizeParam, paginator.pageSize), ctx, { startAt: asString, itemsOf });
    case 'pageNumber': {
      const { totalPath } = paginator;
      const totalOf = totalPath === undefined ? undefined : (response: { body: unknown }) => valueAt(response.body, totalPath);
      return paginateByPageNumber(client, first, ctx, { ...paginator, totalOf, startAt: asNumber, itemsOf });
    }
    case 'custom':
      return paginator.pages(client, first, ctx, options);
    case 'untilEmptyPage':
      return paginateUntilEmptyPage(client, first, ctx, { ...paginator, startAt: asNumber, itemsOf });
    case 'offset':
      return paginateByOffset(client, first, ctx, paginator, asNumber, itemsOf);
    case 'nextUrlInBody':
      return followNextUrl(client, first, ctx, paginator, asString, itemsOf);
    case 'cursorInBody': {
      const nextCursor = (response: { body: unknown; url: URL }): string | null => {
        const value = valueAt(response.body, paginator.path);
        if (typeof value !== 'string' || value === '') return null;
        return paginator.fromUrlParam ? new URL(value, response.url).searchParams.get(paginator.fromUrlParam) : value;
      };
      const request = sized(paginator.sizeParam, paginator.pageSize);
      return paginateByCursor(client, request, ctx, { cursorParam: paginator.cursorParam, nextCursor, startAt: asString, itemsOf });
    }
    case 'graphqlCursor':
      return paginateGraphql(client, first, ctx, paginator, asString, itemsOf);
  }
}

async function* single(client: HttpClient, request: HttpRequest, ctx: ConnectorContext, itemsOf: ItemsOf<unknown>): AsyncGenerator<Page<unknown, PagePosition>> {
  const response = await client.request(request, ctx);
  yield { items: itemsOf(response.body, response), next: null, response };
}

async function* paginateByOffset(
  client: HttpClient,
  first: HttpRequest,
  ctx: ConnectorContext,
  options: Extract<Paginator, { type: 'offset' }>,
  startAt: number | null,
  itemsOf: ItemsOf<unknown>,
): AsyncGenerator<Page<unknown, PagePosition>> {
  let offset = startAt ?? 0;
  for (;;) {
    const query = { ...first.query, [options.offsetParam]: offset, [options.limitParam]: options.limit };
    const response = await client.request({ ...first, query }, ctx);
    const items = itemsOf(response.body, response);
    const total = valueAt(response.body, options.totalPath);
    const seen = offset + items.length;
    const done = items.length === 0 || (typeof total === 'number' ? seen >= total : items.length < options.limit);
    yield { items, next: done ? null : seen, response };
    if (done) return;
    offset = seen;
  }
}

async function* followNextUrl(
  client: HttpClient,
  first: HttpRequest,
  ctx: ConnectorContext,
  { path, rootPath }: Extract<Paginator, { type: 'nextUrlInBody' }>,
  startAt: string | null,
  itemsOf: ItemsOf<unknown>,
): AsyncGenerator<Page<unknown, PagePosition>> {
  let request: HttpRequest = startAt ? { ...first, path: startAt, query: undefined } : first;
  for (;;) {
    const response = await client.request(request, ctx);
    let link = valueAt(response.body, path);
    if (rootPath && typeof link === 'string' && link.startsWith('/') && !link.startsWith(`${rootPath}/`)) link = `${rootPath}${link}`;
    // Resolved against the answering URL, so a relative link keeps the location's path prefix.
    const next = typeof link === 'string' && link !== '' ? new URL(link, response.url).href : null;
    if (next !== null && next === response.url.href) {
      throw new ConnectorError('BAD_TOOL_DATA', `${client.toolName} linked GET ${response.url.pathname} to itself as its next page`);
    }
    yield { items: itemsOf(response.body, response), next, response };
    if (next === null) return;
    request = { ...first, path: next, query: undefined };
  }
}

async function* paginateGraphql(
  client: HttpClient,
  first: HttpRequest,
  ctx: ConnectorContext,
  options: Extract<Paginator, { type: 'graphqlCursor' }>,
  startAt: string | null,
  itemsOf: ItemsOf<unknown>,
): AsyncGenerator<Page<unknown, PagePosition>> {
  const { query, variables } = first.body as { query: string; variables?: Record<string, unknown> };
  let cursor = startAt;
  for (;;) {
    const response = await client.request({ ...first, body: { query, variables: { ...variables, [options.cursorVariable]: cursor } } }, ctx);
    // GraphQL answers a failed query with 200 and `errors`; its data is then null or partial, never a page to keep.
    const errors = valueAt(response.body, 'errors');
    if (Array.isArray(errors) && errors.length > 0) {
      const said = errors.map((e) => String(valueAt(e, 'message') ?? '')).join('; ').slice(0, 300);
      throw new ConnectorError('BAD_TOOL_DATA', `${client.toolName} refused the GraphQL query at ${response.url.pathname}: ${said}`);
    }
    const items = itemsOf(response.body, response);
    const end = valueAt(response.body, `${options.pageInfoPath}.endCursor`);
    const next = valueAt(response.body, `${options.pageInfoPath}.hasNextPage`) === true && typeof end === 'string' && end !== '' ? end : null;
    if (next !== null && next === cursor) {
      throw new ConnectorError('BAD_TOOL_DATA', `${client.toolName} returned the same page cursor twice at ${response.url.pathname}`);
    }
    yield { items, next, response };
    if (next === null) return;
    cursor = next;
  }
}
