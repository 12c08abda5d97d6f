import type { FakeResponse } from './fake-server.js';

/**
 * One JSON:API page (`{ data, links }`) of `items` from `offset`, with `links.next` the same request (`url`,
 * path and query) with the next position written by `nextQuery`: JSON:API leaves the paging parameters to
 * each vendor (Snyk's `starting_after` cursor, Bugcrowd's `page[offset]`).
 */
export function jsonApiPage<T>(
  url: URL,
  items: readonly T[],
  offset: number,
  limit: number,
  nextQuery: (query: URLSearchParams, nextOffset: number) => void,
  extra: Record<string, unknown> = {},
  /** The path the links name (Snyk leaves `/rest` out of some). */
  linkPath = url.pathname,
): FakeResponse {
  const link = (at: number) => {
    const query = new URLSearchParams(url.searchParams);
    nextQuery(query, at);
    return `${linkPath}?${query}`;
  };
  const links: Record<string, string> = { self: `${url.pathname}${url.search}`, first: link(0) };
  if (offset + limit < items.length) links.next = link(offset + limit);
  return { status: 200, body: { jsonapi: { version: '1.0' }, data: items.slice(offset, offset + limit), links, ...extra } };
}

/** A JSON:API error answer. */
export function jsonApiError(status: number, detail: string): FakeResponse {
  return { status, body: { jsonapi: { version: '1.0' }, errors: [{ status: String(status), detail }] } };
}
