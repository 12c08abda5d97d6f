import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  apiKeyHeaderAuth,
  basicAuth,
  bearerAuth,
  createHttpClient,
  isRateLimited,
  paginateByCursor,
  paginateByLinkHeader,
  paginateByPageNumber,
  paginateUntilEmptyPage,
  redactSecrets,
  secretsIn,
  serverDelayMs,
  tokenAuth,
  vendorMessage,
  type HttpClient,
} from '../../src/connectors/http/index.js';
import { createOutbound, outboundFrom } from '../../src/connectors/http/outbound.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import type { LookupFunction } from 'node:net';
import { startFakeServer, type FakeRequest, type FakeResponse, type FakeServer, type FakeState } from '../fakes/fake-server.js';
import { FAST_RETRIES, collect, connectorErrorOf, testContext } from './connector-context.js';

const TOKEN = 'tok_supersecret_value_123';
const ITEMS = ['a', 'b', 'c', 'd', 'e'];

interface ListState extends FakeState {
  crossOrigin: string;
}

function handleList(request: FakeRequest, state: ListState): FakeResponse {
  const q = request.url.searchParams;
  const path = request.url.pathname;
  if (request.headers.authorization !== `Bearer ${TOKEN}`) return { status: 401, body: { message: `token ${String(request.headers.authorization)} is not valid` } };
  if (path === '/numbered') {
    const page = Number(q.get('page'));
    const size = Number(q.get('size'));
    const withTotal = q.get('total') === 'yes';
    return { status: 200, headers: withTotal ? { 'X-Total-Count': String(ITEMS.length - 1) } : {}, body: ITEMS.slice(0, withTotal ? 4 : 5).slice((page - 1) * size, page * size) };
  }
  if (path === '/zero-based') {
    const page = Number(q.get('page'));
    return { status: 200, body: ITEMS.slice(page * 2, page * 2 + 2) };
  }
  if (path === '/linked') {
    const page = Number(q.get('page') ?? '1');
    const next: Record<string, string> = page < 3 ? { link: `<http://${request.headers.host}/linked?page=${page + 1}>; rel="next"` } : {};
    return { status: 200, headers: next, body: [`item-${page}`] };
  }
  if (path === '/escaping') return { status: 200, headers: { link: `<${state.crossOrigin}/steal>; rel="next"` }, body: ['x'] };
  if (path === '/stuck-cursor') return { status: 200, headers: { link: `<http://${request.headers.host}/stuck-cursor?after=same>; rel="next"` }, body: ['x'] };
  if (path === '/moved') return { status: 301, headers: { location: '/linked?page=3' } };
  if (path === '/moved-away') return { status: 302, headers: { location: `${state.crossOrigin}/linked` } };
  if (path === '/invalid') return { status: 422, body: { message: 'Validation Failed', errors: [{ message: 'per_page is too large' }] } };
  return { status: 404, body: { message: 'Not Found' } };
}

let fake: FakeServer<ListState>;
let http: HttpClient;

beforeAll(async () => {
  fake = await startFakeServer<ListState>({ requests: [], faults: [], crossOrigin: 'http://127.0.0.2:9' }, handleList);
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.state.requests = [];
  fake.state.faults = [];
  fake.state.streams = [];
  http = createHttpClient({ toolName: 'Tool', credentialName: 'token', baseUrl: fake.url, authenticate: bearerAuth(TOKEN), ...FAST_RETRIES });
});

describe('server delays', () => {
  const headers = (h: Record<string, string>) => new Headers(h);
  const now = Date.parse('2026-09-01T10:00:00Z');

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(serverDelayMs(headers({ 'Retry-After': '7' }), false, now)).toBe(7000);
    expect(serverDelayMs(headers({ 'Retry-After': '0.5' }), false, now)).toBe(500);
    expect(serverDelayMs(headers({ 'Retry-After': 'Tue, 01 Sep 2026 10:00:30 GMT' }), false, now)).toBe(30_000);
    expect(serverDelayMs(headers({ 'Retry-After': 'Tue, 01 Sep 2026 09:00:00 GMT' }), false, now)).toBe(0);
  });

  it('reads rate-limit resets as epoch seconds (GitHub) or delta seconds (IETF draft), only for rate limits', () => {
    expect(serverDelayMs(headers({ 'X-RateLimit-Reset': String(now / 1000 + 42) }), true, now)).toBe(42_000);
    expect(serverDelayMs(headers({ 'RateLimit-Reset': '12' }), true, now)).toBe(12_000);
    expect(serverDelayMs(headers({ 'X-RateLimit-Reset': '12' }), false, now)).toBeNull();
    expect(serverDelayMs(headers({}), true, now)).toBeNull();
  });

  it('tells a rate-limit 403 from a permission 403', () => {
    expect(isRateLimited(429, headers({}), null)).toBe(true);
    expect(isRateLimited(403, headers({ 'x-ratelimit-remaining': '0' }), null)).toBe(true);
    expect(isRateLimited(403, headers({}), 'You have exceeded a secondary rate limit.')).toBe(true);
    expect(isRateLimited(403, headers({ 'x-ratelimit-remaining': '4999' }), 'Resource not accessible by integration')).toBe(false);
  });
});

describe('authenticators', () => {
  const sign = async (auth: ReturnType<typeof bearerAuth>) => auth({ method: 'GET', url: new URL('https://tool.example/x'), headers: {} });

  it('produce the header each scheme uses', async () => {
    expect(await sign(bearerAuth('t1'))).toEqual({ Authorization: 'Bearer t1' });
    expect(await sign(tokenAuth('t2'))).toEqual({ Authorization: 'token t2' });
    expect(await sign(tokenAuth('user:t2', 'Token'))).toEqual({ Authorization: 'Token user:t2' });
    expect(await sign(apiKeyHeaderAuth('X-Api-Key', 'k3'))).toEqual({ 'X-Api-Key': 'k3' });
    expect(await sign(basicAuth('robot$ci', 'p:w'))).toEqual({ Authorization: `Basic ${Buffer.from('robot$ci:p:w').toString('base64')}` });
  });
});

describe('paginators', () => {
  it('page-number paging without a total stops on the short page', async () => {
    const pages = await collect(paginateByPageNumber<string>(http, { path: '/numbered' }, testContext(), { pageParam: 'page', sizeParam: 'size', pageSize: 2 }));
    expect(pages.map((p) => [p.items, p.next])).toEqual([
      [['a', 'b'], 2],
      [['c', 'd'], 3],
      [['e'], null],
    ]);
  });

  it('page-number paging with a total stops on the page reaching it, without asking for an empty one', async () => {
    const pages = await collect(
      paginateByPageNumber<string>(http, { path: '/numbered', query: { total: 'yes' } }, testContext(), {
        pageParam: 'page',
        sizeParam: 'size',
        pageSize: 2,
        totalHeader: 'X-Total-Count',
      }),
    );
    expect(pages.map((p) => p.items)).toEqual([['a', 'b'], ['c', 'd']]);
    expect(pages[1]!.total).toBe(4);
    expect(fake.state.requests).toHaveLength(2);
  });

  it('first-empty-page paging stops at the first empty page and resumes from a page number', async () => {
    const pages = await collect(paginateUntilEmptyPage<string>(http, { path: '/zero-based' }, testContext(), { pageParam: 'page' }));
    expect(pages.map((p) => [p.items, p.next])).toEqual([
      [['a', 'b'], 1],
      [['c', 'd'], 2],
      [['e'], 3],
      [[], null],
    ]);
    const resumed = await collect(paginateUntilEmptyPage<string>(http, { path: '/zero-based' }, testContext(), { pageParam: 'page', startAt: 2 }));
    expect(resumed.flatMap((p) => p.items)).toEqual(['e']);
  });

  it('Link paging follows rel="next" and resumes from a next URL', async () => {
    const pages = await collect(paginateByLinkHeader<string>(http, { path: '/linked' }, testContext()));
    expect(pages.map((p) => p.items[0])).toEqual(['item-1', 'item-2', 'item-3']);
    const resumed = await collect(paginateByLinkHeader<string>(http, { path: '/linked' }, testContext(), { startAt: pages[0]!.next }));
    expect(resumed.map((p) => p.items[0])).toEqual(['item-2', 'item-3']);
  });

  it('refuses a next link to another host instead of sending it the credentials', async () => {
    const error = await connectorErrorOf(collect(paginateByLinkHeader<string>(http, { path: '/escaping' }, testContext())));
    expect(error.type).toBe('BAD_TOOL_DATA');
    expect(error.message).toContain('another host');
    expect(fake.state.requests).toHaveLength(1);
  });

  it('cursor paging fails instead of looping when the tool repeats a cursor', async () => {
    const error = await connectorErrorOf(
      collect(
        paginateByCursor<string>(http, { path: '/stuck-cursor' }, testContext(), {
          cursorParam: 'after',
          nextCursor: (r) => new URL(/<([^>]+)>/.exec(r.headers.get('link') ?? '')![1]!).searchParams.get('after'),
        }),
      ),
    );
    expect(error.type).toBe('BAD_TOOL_DATA');
    expect(fake.state.requests).toHaveLength(2);
  });
});

describe('requester', () => {
  it('follows a same-origin redirect and refuses one to another host', async () => {
    expect((await http.request({ path: '/moved' }, testContext())).body).toEqual(['item-3']);
    const error = await connectorErrorOf(http.request({ path: '/moved-away' }, testContext()));
    expect(error.type).toBe('CONFIG_INVALID');
    expect(error.message).toContain('redirected');
  });

  it('treats 422 as CONFIG_INVALID without retrying, quoting the tool', async () => {
    const error = await connectorErrorOf(http.request({ path: '/invalid' }, testContext()));
    expect(error.type).toBe('CONFIG_INVALID');
    expect(error.message).toContain('Validation Failed');
    expect(fake.state.requests).toHaveLength(1);
  });

  it('retries a 408', async () => {
    fake.inject({ respond: { status: 408 } });
    expect((await http.request({ path: '/linked' }, testContext())).body).toEqual(['item-1']);
    expect(fake.state.requests).toHaveLength(2);
  });

  it('redacts the credential when the tool echoes it in an error', async () => {
    const client = createHttpClient({ toolName: 'Tool', credentialName: 'token', baseUrl: fake.url, authenticate: bearerAuth('tok_wrong_but_secret_999'), ...FAST_RETRIES });
    const error = await connectorErrorOf(client.request({ path: '/linked' }, testContext()));
    expect(error.type).toBe('AUTH_REJECTED');
    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain('tok_wrong_but_secret_999');
  });

  it('refuses credentials embedded in the location', () => {
    expect(() => createHttpClient({ toolName: 'Tool', credentialName: 'token', baseUrl: 'https://user:pw@tool.example', authenticate: bearerAuth(TOKEN) })).toThrow(
      'must not contain credentials',
    );
  });
});

/** A resolver answering from a table, one answer per lookup in turn (the last one repeats), recording each name asked. */
function scriptedLookup(answers: Record<string, string[]>, asked: string[] = []): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    asked.push(hostname);
    const queue = answers[hostname];
    if (!queue) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    const address = queue.length > 1 ? queue.shift()! : queue[0]!;
    const family = address.includes(':') ? 6 : 4;
    return options.all ? callback(null, [{ address, family }]) : callback(null, address, family);
  }) as LookupFunction;
}

const port = () => new URL(fake.url).port;

describe('where requests go', () => {
  const client = (baseUrl: string) => createHttpClient({ toolName: 'Tool', credentialName: 'token', baseUrl, authenticate: bearerAuth(TOKEN), ...FAST_RETRIES });

  it('refuses link-local and cloud metadata addresses before connecting, in every notation', async () => {
    for (const [location, network] of [
      ['http://169.254.169.254/latest/meta-data', '169.254.0.0/16'],
      ['http://[::ffff:169.254.169.254]/', '169.254.0.0/16'],
      ['http://[fe80::1]/', 'fe80::/10'],
      ['http://[fd00:ec2::254]/', 'fd00:ec2::254/128'],
      ['https://100.100.100.200/', '100.100.100.200/32'],
    ] as const) {
      const error = await connectorErrorOf(client(location).request({ path: '/' }, testContext()));
      // A connection attempt would time out or be unreachable (TOOL_UNAVAILABLE, retried); the refusal comes first.
      expect({ location, type: error.type, retryable: error.retryable }).toEqual({ location, type: 'CONFIG_INVALID', retryable: false });
      expect(error.message).toContain(`the address is in ${network}`);
      expect(error.message).not.toContain(TOKEN);
    }
  });

  it('checks the address a name resolves to, not the name', async () => {
    const asked: string[] = [];
    const outbound = createOutbound({ lookup: scriptedLookup({ 'tool.metadata.test': ['169.254.169.254'] }, asked) });
    const error = await connectorErrorOf(client(`http://tool.metadata.test:${port()}`).request({ path: '/linked' }, { ...testContext(), outbound }));
    expect(error.type).toBe('CONFIG_INVALID');
    expect(error.message).toContain('tool.metadata.test (169.254.169.254)');
    expect(asked).toEqual(['tool.metadata.test']);
  });

  it('checks every connection, so a name that later resolves elsewhere (DNS rebinding) is refused then', async () => {
    const outbound = createOutbound({ lookup: scriptedLookup({ 'rebind.test': ['127.0.0.1', '169.254.169.254'] }) });
    const rebinding = client(`http://rebind.test:${port()}`);
    // The fake closes this connection after answering, so the next request needs a new one (and a new lookup).
    fake.inject({ match: '/linked', respond: { status: 200, headers: { Connection: 'close' }, body: ['first'] } });
    expect((await rebinding.request({ path: '/linked' }, { ...testContext(), outbound })).body).toEqual(['first']);
    const error = await connectorErrorOf(rebinding.request({ path: '/linked' }, { ...testContext(), outbound }));
    expect(error.type).toBe('CONFIG_INVALID');
    expect(error.message).toContain('rebind.test (169.254.169.254)');
    expect(fake.state.requests).toHaveLength(1);
  });

  it('reaches loopback by default; VULNSYNC_DENY_NETWORKS refuses what localhost resolves to; VULNSYNC_ALLOW_HOSTS exempts a host', async () => {
    const viaName = client(`http://localhost:${port()}`);
    expect((await viaName.request({ path: '/linked' }, testContext())).body).toEqual(['item-1']);

    const env = { VULNSYNC_SECRET_KEY: 'A'.repeat(43) + '=', VULNSYNC_DENY_NETWORKS: '127.0.0.0/8, ::1/128' };
    const denying = outboundFrom(loadConfig(env));
    fake.state.requests = [];
    const error = await connectorErrorOf(viaName.request({ path: '/linked' }, { ...testContext(), outbound: denying }));
    expect(error.type).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(/localhost \((127\.0\.0\.1|::1)\)/);
    expect(fake.state.requests).toHaveLength(0);

    const exempting = outboundFrom(loadConfig({ ...env, VULNSYNC_ALLOW_HOSTS: 'LocalHost' }));
    expect((await viaName.request({ path: '/linked' }, { ...testContext(), outbound: exempting })).body).toEqual(['item-1']);
  });

  it('refuses plain http where it is not allowed, and bad networks in the configuration', async () => {
    const error = await connectorErrorOf(http.request({ path: '/linked' }, { ...testContext(), outbound: createOutbound({ allowHttp: false }) }));
    expect(error.type).toBe('CONFIG_INVALID');
    expect(error.message).toContain('VULNSYNC_ALLOW_HTTP');
    expect(fake.state.requests).toHaveLength(0);

    const key = 'A'.repeat(43) + '=';
    expect(() => loadConfig({ VULNSYNC_SECRET_KEY: key, VULNSYNC_DENY_NETWORKS: '10.0.0.0/33' })).toThrow(ConfigError);
    expect(() => loadConfig({ VULNSYNC_SECRET_KEY: key, VULNSYNC_ALLOW_HTTP: 'maybe' })).toThrow(/VULNSYNC_ALLOW_HTTP/);
    expect(loadConfig({ VULNSYNC_SECRET_KEY: key }).VULNSYNC_ALLOW_HTTP).toBe(true);
  });
});

describe('what a tool answers is bounded', () => {
  const MB = 1024 * 1024;
  const limited = () =>
    createHttpClient({
      toolName: 'Tool',
      credentialName: 'token',
      baseUrl: fake.url,
      authenticate: bearerAuth(TOKEN),
      ...FAST_RETRIES,
      timeoutMs: 10_000,
      limits: { maxResponseBytes: MB, maxStreamedBytes: 2 * MB },
    });

  it('an error body of 2 MB of "<" is cut to a few KB and quoted in one short line', async () => {
    fake.inject({ match: '/linked', respond: { status: 400, stream: { chunk: '<'.repeat(64 * 1024), totalBytes: 2 * MB } } });
    const error = await connectorErrorOf(limited().request({ path: '/linked' }, testContext()));
    expect(error.type).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(/^Tool rejected the request \(400\) at GET \/linked: <+\.\.\.$/);
    expect(error.message.length).toBeLessThan(300);
    expect(vendorMessage('<'.repeat(2 * MB))!.length).toBeLessThanOrEqual(200);
    expect(vendorMessage('<html><body><h1>Access</h1> <b>denied</b></body></html>')).toBe('Access denied');
  });

  it('an endless error body is not read to its end: the connection is closed', async () => {
    fake.inject({ match: '/linked', respond: { status: 400, stream: { chunk: '<'.repeat(16 * 1024) } } });
    const error = await connectorErrorOf(limited().request({ path: '/linked' }, testContext()));
    expect(error.type).toBe('CONFIG_INVALID');
    const [answer] = fake.state.streams!.splice(0);
    expect(await answer!.closed).toBe(true);
    // What the fake wrote is what fit in the sockets' buffers before the client hung up, not an ever-growing amount.
    expect(answer!.bytesWritten).toBeLessThan(64 * MB);
  });

  it('an endless JSON page is BAD_TOOL_DATA once past the tool’s ceiling, and the connection is closed', async () => {
    fake.inject({ match: '/linked', respond: { status: 200, stream: { chunk: '["xxxxxxxxxxxxxxxx",' } } });
    const heapBefore = process.memoryUsage().heapUsed;
    const error = await connectorErrorOf(limited().request({ path: '/linked' }, testContext()));
    expect(error.type).toBe('BAD_TOOL_DATA');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('larger than 1 MB');
    const [answer] = fake.state.streams!.splice(0);
    expect(await answer!.closed).toBe(true);
    expect(answer!.bytesWritten).toBeLessThan(64 * MB);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(48 * MB);
  });

  it('an endless streamed answer fails its reader with BAD_TOOL_DATA past the ceiling, and the connection is closed', async () => {
    fake.inject({ match: '/linked', respond: { status: 200, stream: { chunk: '{"a":1},'.repeat(1024) } } });
    const response = await limited().request({ path: '/linked', stream: true }, testContext());
    let read = 0;
    const error = await connectorErrorOf(
      (async () => {
        for await (const chunk of response.stream!) read += (chunk as Buffer).length;
      })(),
    );
    expect(error.type).toBe('BAD_TOOL_DATA');
    expect(error.message).toContain('larger than 2 MB');
    expect(read).toBeLessThanOrEqual(2 * MB);
    const [answer] = fake.state.streams!.splice(0);
    expect(await answer!.closed).toBe(true);
  });
});

describe('redaction', () => {
  it('takes each header value, its credential and the password of a <user>:<password> credential as secrets', () => {
    expect(secretsIn({ Authorization: 'Token gvnzkg:PYS2SMN3zJ_kQAEvy', 'X-Api-Key': 'plainKey123' }).sort()).toEqual(
      ['PYS2SMN3zJ_kQAEvy', 'Token gvnzkg:PYS2SMN3zJ_kQAEvy', 'gvnzkg:PYS2SMN3zJ_kQAEvy', 'plainKey123'].sort(),
    );
  });

  it('knows the password and user:password behind a basic-auth header, which tools echo rather than base64', async () => {
    const secrets = secretsIn(await basicAuth('robot$scan+sync', 'robotPassword123')({ method: 'GET', url: new URL('http://tool'), headers: {} }));
    expect(secrets).toEqual(expect.arrayContaining(['robotPassword123', 'robot$scan+sync:robotPassword123']));
    expect(redactSecrets('secret robotPassword123 is malformed', secrets)).toBe('secret [redacted] is malformed');
  });

  it('leaves text alone for secrets too short to redact, so messages are not garbled', () => {
    expect(redactSecrets('refused access: the secret is wrong', ['s', 'e', 'ss'])).toBe('refused access: the secret is wrong');
  });

  it('redacts a secret only as a whole token, longest first', () => {
    const secret = 'abcdefgh12';
    expect(redactSecrets(`key ${secret} refused ("${secret}"), key=${secret}; ${secret}`, [secret])).toBe(
      'key [redacted] refused ("[redacted]"), key=[redacted]; [redacted]',
    );
    expect(redactSecrets(`x${secret} and ${secret}9 are other words`, [secret])).toBe(`x${secret} and ${secret}9 are other words`);
    expect(redactSecrets('header Bearer tok_secret_1 seen', ['tok_secret_1', 'Bearer tok_secret_1'])).toBe('header [redacted] seen');
  });

  it('keeps a tool message readable when the credential is short but whole where echoed', async () => {
    const client = createHttpClient({ toolName: 'Tool', credentialName: 'token', baseUrl: fake.url, authenticate: bearerAuth('s'), ...FAST_RETRIES });
    const error = await connectorErrorOf(client.request({ path: '/linked' }, testContext()));
    expect(error.type).toBe('AUTH_REJECTED');
    expect(error.message).toBe('Tool rejected the token (401) at GET /linked: token [redacted] is not valid');
  });
});
