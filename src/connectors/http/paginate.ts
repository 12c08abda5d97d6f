import LinkHeader from 'http-link-header';
import { ConnectorError } from '../../errors.js';
import type { ConnectorContext } from '../types.js';
import type { HttpClient, HttpRequest, HttpResponse } from './client.js';

/**
 * One page of a listing and where the listing goes on after it. `next` is a resume position: handed back
 * to the same paginator as its start, it fetches the page after this one. It is null on the last page.
 */
export interface Page<T, Cursor> {
  items: T[];
  next: Cursor | null;
  response: HttpResponse;
}

/** Where a page's items are in its body. Default: the body is the array. */
export type ItemsOf<T> = (body: unknown, response: HttpResponse) => T[];

function bodyArray<T>(body: unknown, response: HttpResponse): T[] {
  if (!Array.isArray(body)) {
    throw new ConnectorError('BAD_TOOL_DATA', `The answer to GET ${response.url.pathname} is not a list`, {
      url: `${response.url.origin}${response.url.pathname}`,
    });
  }
  return body as T[];
}

/** The URL of the `rel="next"` link, or null. */
export function nextLink(response: HttpResponse): string | null {
  const header = response.headers.get('link');
  if (!header) return null;
  return LinkHeader.parse(header).rel('next')[0]?.uri ?? null;
}

/** The value of one query parameter of the `rel="next"` link (GitHub's `after` cursor), or null. */
export function nextLinkParam(response: HttpResponse, param: string): string | null {
  const next = nextLink(response);
  return next ? new URL(next, response.url).searchParams.get(param) : null;
}

/**
 * Follows `Link: <…>; rel="next"` (RFC 8288) until there is none. The resume cursor is the next page's
 * URL, so a resumed listing asks exactly what the tool told it to ask, whatever the tool's paging scheme.
 */
export async function* paginateByLinkHeader<T>(
  client: HttpClient,
  first: HttpRequest,
  ctx: ConnectorContext,
  options: { startAt?: string | null; itemsOf?: ItemsOf<T> } = {},
): AsyncGenerator<Page<T, string>> {
  const itemsOf = options.itemsOf ?? bodyArray<T>;
  let request: HttpRequest = options.startAt ? { ...first, path: options.startAt, query: undefined } : first;
  for (;;) {
    const response = await client.request(request, ctx);
    const next = nextLink(response);
    yield { items: itemsOf(response.body, response), next, response };
    if (!next) return;
    request = { ...first, path: next, query: undefined };
  }
}

/**
 * Page-number paging (`page`/`per_page`, `pageNumber`/`pageSize`, `p`/`ps`, …), ending on the page that
 * reaches the total the tool reports in a header (`X-Total-Count`) or body, or — without one — on a short
 * or empty page.
 */
export async function* paginateByPageNumber<T>(
  client: HttpClient,
  first: HttpRequest,
  ctx: ConnectorContext,
  options: {
    pageParam: string;
    sizeParam: string;
    pageSize: number;
    firstPage?: number;
    startAt?: number | null;
    totalHeader?: string;
    /** The total read from the answer's body (SonarQube's `paging.total`), for tools that send no header. */
    totalOf?: (response: HttpResponse) => unknown;
    itemsOf?: ItemsOf<T>;
  },
): AsyncGenerator<Page<T, number> & { total: number | null }> {
  const itemsOf = options.itemsOf ?? bodyArray<T>;
  const firstPage = options.firstPage ?? 1;
  let page = options.startAt ?? firstPage;
  for (;;) {
    const response = await client.request(
      { ...first, query: { ...first.query, [options.pageParam]: page, [options.sizeParam]: options.pageSize } },
      ctx,
    );
    const items = itemsOf(response.body, response);
    const totalText = options.totalOf ? options.totalOf(response) : options.totalHeader ? response.headers.get(options.totalHeader) : null;
    const total = asCount(totalText);
    const seen = (page - firstPage) * options.pageSize + items.length;
    const done = items.length === 0 || (total !== null ? seen >= total : items.length < options.pageSize);
    yield { items, next: done ? null : page + 1, total, response };
    if (done) return;
    page += 1;
  }
}

/** A count from a header or a body field (`"42"`, 42); null for anything else. */
function asCount(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : null;
}

/**
 * Opaque-cursor paging: the first request goes without a cursor, each further one with
 * `cursorParam=<cursor>` taken from the previous answer by `nextCursor` (for GitHub's Dependabot alerts, the
 * `after` parameter of the `Link` next URL). The resume cursor is that cursor string.
 */
export async function* paginateByCursor<T>(
  client: HttpClient,
  first: HttpRequest,
  ctx: ConnectorContext,
  options: {
    cursorParam: string;
    nextCursor: (response: HttpResponse) => string | null;
    startAt?: string | null;
    itemsOf?: ItemsOf<T>;
  },
): AsyncGenerator<Page<T, string>> {
  const itemsOf = options.itemsOf ?? bodyArray<T>;
  let cursor = options.startAt ?? null;
  for (;;) {
    const query = cursor === null ? first.query : { ...first.query, [options.cursorParam]: cursor };
    const response = await client.request({ ...first, query }, ctx);
    const items = itemsOf(response.body, response);
    const next = items.length === 0 ? null : options.nextCursor(response);
    if (next !== null && next === cursor) {
      throw new ConnectorError('BAD_TOOL_DATA', `${client.toolName} returned the same page cursor twice at GET ${response.url.pathname}`);
    }
    yield { items, next, response };
    if (next === null) return;
    cursor = next;
  }
}

/** Page-number paging for tools that report no total: stops at the first empty page (Semgrep's 0-based `page`). */
export async function* paginateUntilEmptyPage<T>(
  client: HttpClient,
  first: HttpRequest,
  ctx: ConnectorContext,
  options: { pageParam: string; firstPage?: number; startAt?: number | null; sizeParam?: string; pageSize?: number; itemsOf?: ItemsOf<T> },
): AsyncGenerator<Page<T, number>> {
  const itemsOf = options.itemsOf ?? bodyArray<T>;
  let page = options.startAt ?? options.firstPage ?? 0;
  for (;;) {
    const sizing = options.sizeParam && options.pageSize ? { [options.sizeParam]: options.pageSize } : {};
    const response = await client.request({ ...first, query: { ...first.query, ...sizing, [options.pageParam]: page } }, ctx);
    const items = itemsOf(response.body, response);
    if (items.length === 0) {
      yield { items, next: null, response };
      return;
    }
    yield { items, next: page + 1, response };
    page += 1;
  }
}
