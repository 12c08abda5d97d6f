import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { cweNumbers, declarativeConnector, holds, interpolate, itemsAt, paginate, valueAt, type DeclarativeDefinition, type Paginator, findingsStream, type FindingsStream } from '../../src/connectors/declarative/index.js';
import type { StoredCursor } from '../../src/connectors/types.js';
import { bearerAuth, createHttpClient, type HttpClient } from '../../src/connectors/http/index.js';
import { startFakeServer, type FakeServer, type FakeState } from '../fakes/fake-server.js';
import { FAST_RETRIES, collect, connectorErrorOf, testContext } from './connector-context.js';

/** 7 items served in every paging scheme the paginators know, 3 to a page. */
const ITEMS = Array.from({ length: 7 }, (_, i) => ({ n: i }));
const SIZE = 3;

let fake: FakeServer<FakeState>;
let http: HttpClient;

beforeAll(async () => {
  fake = await startFakeServer<FakeState>({ requests: [], faults: [] }, ({ url, json }) => {
    const q = url.searchParams;
    const num = (name: string, fallback: number) => Number(q.get(name) ?? fallback);
    const from = (start: number, size = SIZE) => ITEMS.slice(start, start + size);
    switch (url.pathname) {
      case '/link': {
        const page = num('page', 1);
        const next = page * SIZE < ITEMS.length ? { Link: `<${url.origin}/link?page=${page + 1}&per_page=${SIZE}>; rel="next"` } : undefined;
        return { status: 200, headers: next, body: from((page - 1) * SIZE, num('per_page', 30)) };
      }
      case '/pages':
        return { status: 200, headers: { 'X-Total-Count': String(ITEMS.length) }, body: { rows: from((num('page', 1) - 1) * num('per_page', 1), num('per_page', 1)) } };
      case '/p-ps':
        return { status: 200, body: { paging: { pageIndex: num('p', 1), total: ITEMS.length }, issues: from((num('p', 1) - 1) * num('ps', 1), num('ps', 1)) } };
      case '/empty':
        return { status: 200, body: { findings: from(num('page', 0) * num('page_size', 1), num('page_size', 1)) } };
      case '/offset':
        return { status: 200, body: { items: from(num('offset', 0), num('limit', 1)), totalCount: ITEMS.length } };
      case '/jsonapi': {
        const offset = num('page[offset]', 0);
        const next = offset + SIZE < ITEMS.length ? `/jsonapi?page[offset]=${offset + SIZE}` : null;
        return { status: 200, body: { data: from(offset), links: { self: url.pathname, next } } };
      }
      case '/api/rooted': {
        // Links from the host's root, the first without the API's `/api`, the next with it.
        const offset = num('page[offset]', 0);
        const next = offset + SIZE >= ITEMS.length ? null : `${offset === 0 ? '' : '/api'}/rooted?page[offset]=${offset + SIZE}`;
        return { status: 200, body: { data: from(offset), links: { next } } };
      }
      case '/cursor': {
        const at = q.get('cursor') ? Number(q.get('cursor')!.slice(1)) : 0;
        const next = at + SIZE < ITEMS.length ? `/cursor?cursor=c${at + SIZE}` : null;
        return { status: 200, body: { data: from(at), pagination: { next_page: next } } };
      }
      case '/graphql': {
        // A Relay connection: opaque cursors, `after` a variable of the POSTed query.
        const variables = (json as { variables: { after: string | null; first: number } }).variables;
        const at = variables.after ? Number(Buffer.from(variables.after, 'base64').toString()) : 0;
        const nodes = from(at, variables.first);
        const end = Buffer.from(String(at + nodes.length)).toString('base64');
        return { status: 200, body: { data: { things: { nodes, pageInfo: { endCursor: end, hasNextPage: at + nodes.length < ITEMS.length } } } } };
      }
      default:
        return { status: 404, body: { message: 'no such listing' } };
    }
  });
  http = createHttpClient({ toolName: 'Paging', credentialName: 'token', baseUrl: fake.url, authenticate: bearerAuth('paging-test-token'), ...FAST_RETRIES });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.state.requests = [];
  fake.state.faults = [];
});

const SCHEMES: [string, string, string, Paginator][] = [
  ['Link header', '/link', '', { type: 'linkHeader', sizeParam: 'per_page', pageSize: SIZE }],
  ['page/per_page with a total header', '/pages', 'rows', { type: 'pageNumber', pageParam: 'page', sizeParam: 'per_page', pageSize: SIZE, totalHeader: 'X-Total-Count' }],
  ['p/ps with the total in the body', '/p-ps', 'issues', { type: 'pageNumber', pageParam: 'p', sizeParam: 'ps', pageSize: SIZE, totalPath: 'paging.total' }],
  ['first empty page (0-based)', '/empty', 'findings', { type: 'untilEmptyPage', pageParam: 'page', firstPage: 0, sizeParam: 'page_size', pageSize: SIZE }],
  ['offset/limit with the total in the body', '/offset', 'items', { type: 'offset', offsetParam: 'offset', limitParam: 'limit', limit: SIZE, totalPath: 'totalCount' }],
  ['JSON:API links.next', '/jsonapi', 'data', { type: 'nextUrlInBody', path: 'links.next' }],
  ['a cursor in the body', '/cursor', 'data', { type: 'cursorInBody', path: 'pagination.next_page', fromUrlParam: 'cursor', cursorParam: 'cursor' }],
];

describe.each(SCHEMES)('paginator: %s', (_name, path, selector, paginator) => {
  const pages = (startAt: string | number | null = null) => collect(paginate(http, { path, query: { filter: 'kept' } }, paginator, testContext(), { startAt, itemsOf: itemsAt(selector) }));

  it('yields every item once, in order, and a null `next` on the last page only', async () => {
    const all = await pages();
    expect(all.flatMap((p) => p.items)).toEqual(ITEMS);
    expect(all.slice(0, -1).every((p) => p.next !== null)).toBe(true);
    expect(all.at(-1)!.next).toBeNull();
  });

  it('resumes from a page’s `next` with exactly the items after that page', async () => {
    const [first] = await pages();
    fake.state.requests = [];
    const rest = await pages(first!.next);
    expect(rest.flatMap((p) => p.items)).toEqual(ITEMS.slice(SIZE));
    expect(fake.state.requests[0]!.path).toBe(path);
  });
});

describe('paginator: GraphQL pageInfo.endCursor', () => {
  const paginator: Paginator = { type: 'graphqlCursor', pageInfoPath: 'data.things.pageInfo', cursorVariable: 'after' };
  const query = 'query($first: Int!, $after: String) { things(first: $first, after: $after) { nodes { n } pageInfo { endCursor hasNextPage } } }';
  const request = { path: '/graphql', method: 'POST' as const, idempotent: true, body: { query, variables: { first: SIZE } } };
  const pages = (startAt: string | null = null) => collect(paginate(http, request, paginator, testContext(), { startAt, itemsOf: itemsAt('data.things.nodes') }));
  const sentAfter = () => fake.state.requests.map((r) => (r.json as { variables: { after: string | null } }).variables.after);

  it('yields every node once, sending each endCursor back as `after` with the other variables kept, until hasNextPage is false', async () => {
    const all = await pages();
    expect(all.flatMap((p) => p.items)).toEqual(ITEMS);
    expect(all.map((p) => p.next)).toEqual([Buffer.from('3').toString('base64'), Buffer.from('6').toString('base64'), null]);
    expect(sentAfter()).toEqual([null, Buffer.from('3').toString('base64'), Buffer.from('6').toString('base64')]);
    expect(fake.state.requests.every((r) => r.method === 'POST' && (r.json as { query: string; variables: { first: number } }).query === query)).toBe(true);
  });

  it('resumes from a page’s `next` with exactly the nodes after that page', async () => {
    const [first] = await pages();
    fake.state.requests = [];
    expect((await pages(first!.next as string)).flatMap((p) => p.items)).toEqual(ITEMS.slice(SIZE));
    expect(sentAfter()[0]).toBe(first!.next);
  });

  it('retries a 5xx although it is a POST (a query only reads)', async () => {
    fake.inject({ match: '/graphql', respond: { status: 502, body: { message: 'Bad Gateway' } } });
    expect((await pages()).flatMap((p) => p.items)).toEqual(ITEMS);
  });

  it('a GraphQL error answer (200 with `errors`) is BAD_TOOL_DATA quoting it, never an empty page', async () => {
    fake.inject({ match: '/graphql', respond: { status: 200, body: { data: null, errors: [{ message: "Field 'things' doesn't exist on type 'Query'" }] } } });
    const error = await connectorErrorOf(pages());
    expect(error.type).toBe('BAD_TOOL_DATA');
    expect(error.message).toContain("Field 'things' doesn't exist");
  });
});

describe('paginate: requests and refusals', () => {
  it('offset and page numbers add their parameters to the query', async () => {
    await collect(paginate(http, { path: '/offset', query: { filter: 'kept' } }, SCHEMES[4]![3], testContext(), { startAt: null, itemsOf: itemsAt('items') }));
    expect(fake.state.requests.map((r) => r.query)).toEqual([
      { filter: 'kept', offset: '0', limit: '3' },
      { filter: 'kept', offset: '3', limit: '3' },
      { filter: 'kept', offset: '6', limit: '3' },
    ]);
  });

  it('an unpaginated listing is one request', async () => {
    const all = await collect(paginate(http, { path: '/offset' }, { type: 'none' }, testContext(), { startAt: null, itemsOf: itemsAt('items') }));
    expect(all).toHaveLength(1);
    expect(all[0]!.next).toBeNull();
  });

  it('a page without the list at the selector is BAD_TOOL_DATA', async () => {
    const error = await connectorErrorOf(collect(paginate(http, { path: '/jsonapi' }, SCHEMES[5]![3], testContext(), { startAt: null, itemsOf: itemsAt('items') })));
    expect(error.type).toBe('BAD_TOOL_DATA');
    expect(error.message).toContain('has no list at "items"');
  });

  it('JSON:API links.next from the host root get the rootPath they lack, and keep the one they have', async () => {
    const paginator: Paginator = { type: 'nextUrlInBody', path: 'links.next', rootPath: '/api' };
    const pages = await collect(paginate(http, { path: '/api/rooted' }, paginator, testContext(), { startAt: null, itemsOf: itemsAt('data') }));
    expect(pages.flatMap((p) => p.items)).toEqual(ITEMS);
    expect(fake.state.requests.map((r) => [r.path, r.query['page[offset]'] ?? null])).toEqual([
      ['/api/rooted', null],
      ['/api/rooted', '3'],
      ['/api/rooted', '6'],
    ]);
  });

  it('a next link to another host is refused, so credentials stay with the tool', async () => {
    fake.inject({ match: '/jsonapi', respond: { status: 200, body: { data: [{ n: 0 }], links: { next: 'https://elsewhere.example/jsonapi?page=2' } } } });
    const error = await connectorErrorOf(collect(paginate(http, { path: '/jsonapi' }, SCHEMES[5]![3], testContext(), { startAt: null, itemsOf: itemsAt('data') })));
    expect(error.type).toBe('BAD_TOOL_DATA');
    expect(error.message).toContain('another host');
  });
});

describe('custom paging and several findings streams', () => {
  it('a custom paginator is handed the first request, the start position and the selector', async () => {
    const seen: unknown[] = [];
    const custom: Paginator = {
      type: 'custom',
      pages: async function* (client, first, ctx, { startAt, itemsOf }) {
        seen.push(first.path, first.query, startAt);
        const response = await client.request(first, ctx);
        yield { items: itemsOf(response.body, response), next: null, response };
      },
    };
    const pages = await collect(paginate(http, { path: '/offset', query: { limit: 2 } }, custom, testContext(), { startAt: 'here', itemsOf: itemsAt('items') }));
    expect(seen).toEqual(['/offset', { limit: 2 }, 'here']);
    expect(pages.flatMap((p) => p.items)).toEqual(ITEMS.slice(0, 2));
  });

  const item = z.looseObject({ n: z.number() });
  const stream = (path: string, selector: string, paginator: Paginator): FindingsStream<z.infer<typeof item>> => ({
    path,
    paginator,
    selector,
    schema: item,
    fields: { title: (i) => `${path}-${i.n}`, uniqueIdFromTool: (i) => `${path}-${i.n}` },
    severity: { from: 'n', map: {}, otherwise: 'Info' },
    triage: [],
  });
  const twoStreams = () =>
    declarativeConnector(
      {
        tool: 'two',
        displayName: 'Two',
        spec: { settings: z.object({}), secretDescription: 'a token', locationDescription: 'the URL' },
        matching: 'unique_id_from_tool',
        hashFields: ['title'],
        requester: { credentialName: 'token', permissionHint: 'needs nothing', auth: () => bearerAuth('paging-test-token') },
        check: { path: '/offset' },
        records: { path: '/offset', paginator: { type: 'none' }, selector: 'items', schema: item, externalId: 'n', name: 'n' },
        findings: [findingsStream(stream('/p-ps', 'issues', SCHEMES[2]![3])), findingsStream(stream('/offset', 'items', SCHEMES[4]![3]))],
      },
      FAST_RETRIES,
    );
  const fetch = (cursor: StoredCursor | null) =>
    collect(twoStreams().open({ location: fake.url, secret: 'paging-test-token', settings: {} }).fetchFindings({ externalId: '1', name: 'one', metadata: {} }, cursor, testContext()));

  it('fetches the streams one after the other; the cursor names the stream, and after its last page the next one', async () => {
    const pages = await fetch(null);
    expect(pages.flatMap((p) => p.findings.map((f) => f.title))).toEqual([...ITEMS.map((i) => `/p-ps-${i.n}`), ...ITEMS.map((i) => `/offset-${i.n}`)]);
    expect(pages.map((p) => p.cursor)).toEqual([{ stream: 0, next: 2 }, { stream: 0, next: 3 }, { stream: 1, next: null }, { stream: 1, next: 3 }, { stream: 1, next: 6 }, null]);
  });

  it('resumes in the stream the cursor names', async () => {
    const rest = await fetch({ stream: 1, next: 3 });
    expect(rest.flatMap((p) => p.findings.map((f) => f.title))).toEqual(ITEMS.slice(3).map((i) => `/offset-${i.n}`));
    expect(fake.state.requests.map((r) => r.path)).toEqual(['/offset', '/offset']);
  });
});

describe('templates, paths and conditions', () => {
  const scope = { settings: {}, record: { externalId: '42', name: 'acme/web app', metadata: { slug: 'acme' } } };

  it('interpolates paths segment-encoded ({x}), keeping slashes ({+x}) or encoded twice ({%x}), and query values as they are', () => {
    expect(interpolate('/d/{record.metadata.slug}/p/{record.name}', scope, true)).toBe('/d/acme/p/acme%2Fweb%20app');
    expect(interpolate('/p/{+record.name}', scope, true)).toBe('/p/acme/web%20app');
    expect(interpolate('/r/{%record.name}', scope, true)).toBe('/r/acme%252Fweb%2520app');
    expect(interpolate('{record.name}', scope, false)).toBe('acme/web app');
  });

  it('refuses a placeholder without a value instead of sending the request elsewhere', () => {
    expect(() => interpolate('/d/{record.metadata.missing}/findings', scope, true)).toThrow(expect.objectContaining({ type: 'CONFIG_INVALID' }));
  });

  it('reads dotted paths and evaluates conditions (absent is null)', () => {
    const item = { status: 'ignored', triage: { reason: 'false_positive' } };
    expect(valueAt(item, 'triage.reason')).toBe('false_positive');
    expect(valueAt(item, 'triage.reason.deeper')).toBeUndefined();
    expect(holds({ status: ['ignored'], 'triage.reason': ['false_positive'] }, item)).toBe(true);
    expect(holds({ status: ['ignored'], 'triage.reason': ['acceptable_risk'] }, item)).toBe(false);
    expect(holds({ exception: ['none', null] }, item)).toBe(true);
    expect(holds({}, item)).toBe(true);
  });

  it('reads CWE numbers in the forms tools write them', () => {
    expect(cweNumbers(['CWE-79', 'CWE-319: Cleartext Transmission', 89, 'cwe-79', 'not a cwe'])).toEqual([79, 89, 319]);
    expect(cweNumbers([])).toBeNull();
    expect(cweNumbers(null)).toBeNull();
  });
});

describe('findings lookups', () => {
  /** Items of `/jsonapi`; the lookup `/offset` tells how many there are, and the last two are false positives. */
  const definition = (lookupPath: string): DeclarativeDefinition<Record<string, never>, { n: number }, { n: number }> => ({
    tool: 'lookup_test',
    displayName: 'Lookup',
    spec: { settings: z.object({}), secretDescription: 'a token', locationDescription: 'the fake' },
    matching: 'unique_id_from_tool',
    hashFields: ['title'],
    requester: { credentialName: 'token', permissionHint: 'needs nothing', auth: () => bearerAuth('lookup-test-token') },
    check: { path: '/jsonapi' },
    records: { path: '/jsonapi', paginator: { type: 'none' }, selector: 'data', schema: z.object({ n: z.number() }), externalId: 'n', name: 'n' },
    findings: {
      lookups: { counts: { path: lookupPath, query: { limit: 1 } } },
      path: '/jsonapi',
      paginator: { type: 'nextUrlInBody', path: 'links.next' },
      selector: 'data',
      schema: z.object({ n: z.number() }),
      fields: { title: (item) => `item ${item.n}`, uniqueIdFromTool: 'n' },
      severity: { from: () => 'high', map: { high: 'High' }, otherwise: 'Info' },
      triage: [{ when: (item, scope) => item.n >= Number(valueAt(scope.lookups, 'counts.totalCount')) - 2, then: 'falseP' }],
    },
  });
  const record = { externalId: '1', name: 'the record', metadata: null };
  const config = { location: '', secret: 'lookup-test-token', settings: {} };

  it('makes each lookup once per fetch, before the listing, and triage rules read its answer', async () => {
    const connector = declarativeConnector(definition('/offset'), FAST_RETRIES);
    const pages = await collect(connector.open({ ...config, location: fake.url }).fetchFindings(record, null, testContext()));
    expect(pages.flatMap((p) => p.findings).map((f) => [f.title, f.falseP])).toEqual(ITEMS.map(({ n }) => [`item ${n}`, n >= 5]));
    expect(fake.state.requests.map((r) => r.path)).toEqual(['/offset', '/jsonapi', '/jsonapi', '/jsonapi']);
    expect(fake.state.requests[0]!.query).toEqual({ limit: '1' });
  });

  it('a lookup answering 404 means the record is gone', async () => {
    const connector = declarativeConnector(definition('/gone'), FAST_RETRIES);
    const error = await connectorErrorOf(() => collect(connector.open({ ...config, location: fake.url }).fetchFindings(record, null, testContext())));
    expect(error).toMatchObject({ type: 'RECORD_MISSING', retryable: false });
    expect(error.message).toContain('the record');
  });
});
