import fc from 'fast-check';
import { z } from 'zod';
import { apiRoutes } from '../../src/api/app.js';
import { errorBody } from '../../src/api/errors.js';
import type { Route } from '../../src/api/route-table.js';
import { ToolRecord } from '../../src/db/entities.js';
import { seedFindings, startTestApi, type TestApi } from './api-harness.js';

/**
 * Every route of the route table, called with generated ids, queries and bodies: well-formed ones, ones
 * shaped by the route's own schemas, and hostile ones (NUL, lone surrogates, huge numbers, wrong types,
 * wrong content types). Whatever comes in, the API answers below 500, with the error shape on every 4xx,
 * and never with a connector's secret or the caller's token.
 */

const SECRET = 'property-secret-7d1e9a3c5b2f4860';
const RUNS_PER_ROUTE = 30;

let api: TestApi;
/** Ids of things that exist, so some generated calls reach a handler past its 404. Never a token's id. */
let knownIds: string[] = [];

beforeAll(async () => {
  api = await startTestApi({ checkTimeoutMs: 2_000 });
  const created = await api.call('POST', '/api/v1/connectors', {
    body: { tool: 'dependency_track', label: 'property', location: 'http://127.0.0.1:9', secret: SECRET },
  });
  expect(created.status).toBe(201);
  const em = api.orm.em.fork();
  const record = em.create(ToolRecord, { connector: created.body.id, externalId: 'p-1', name: 'property record' });
  await em.flush();
  const seeded = await seedFindings(api.orm, { connectorId: created.body.id, productName: 'property', count: 2 });
  knownIds = [created.body.id, record.id, seeded.testId, seeded.productId, ...seeded.findingIds.map(String)];
});

afterAll(async () => {
  await api?.close();
});

const hostileString = fc.constantFrom(
  'a\u0000b',
  '\u0000',
  '\ud800',
  'x\udfff',
  '\ud83d',
  '',
  ' ',
  '1e308',
  '-1',
  '9223372036854775808',
  '99999999999999999999999',
  'NaN',
  'Infinity',
  '0x10',
  'true',
  'null',
  '[]',
  '{}',
  '2026-13-45T99:99:99Z',
  '0000-01-01T00:00:00Z',
  '2024-99-99T99:99:99Z',
  '../../etc/passwd',
  "'; drop table finding; --",
  '<script>',
  'x'.repeat(5_000),
);
/** A URL cannot carry a lone surrogate (it would be sent as U+FFFD); the raw escapes above cover those. */
const wellFormed = (value: string) => !/\p{Cs}/u.test(value);
const hostileNumber = fc.constantFrom(1e308, -1e308, 2 ** 63, -(2 ** 31) - 1, 2 ** 31, Number.MAX_SAFE_INTEGER + 2, -0, 0.5, -1);
const knownId = () => fc.constantFrom(...knownIds);
const anyValue = () =>
  fc.oneof(
    hostileString,
    hostileNumber,
    fc.string(),
    fc.string({ unit: 'binary', maxLength: 8 }),
    fc.boolean(),
    fc.integer(),
    fc.constant(null),
    knownId(),
    fc.uuid(),
    fc.jsonValue({ maxDepth: 2 }),
  );

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
};

const inputSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;

/**
 * Values a JSON Schema (from a route's zod schema) accepts, as far as the schema says: a generated body
 * or query mostly gets past validation, so a hostile value put into one of its fields reaches the handler.
 */
function valid(schema: JsonSchema): fc.Arbitrary<unknown> {
  const options = schema.anyOf ?? schema.oneOf;
  if (options) return fc.oneof(...options.map(valid));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.type)) return fc.oneof(...schema.type.map((type) => valid({ ...schema, type })));
  switch (schema.type) {
    case 'object': {
      const properties = Object.entries(schema.properties ?? {});
      if (properties.length === 0) return fc.constant({});
      return fc.record(Object.fromEntries(properties.map(([key, value]) => [key, valid(value)])), { requiredKeys: schema.required ?? [] });
    }
    case 'array':
      return fc.array(schema.items ? valid(schema.items) : fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 });
    case 'string':
      if (schema.format === 'uri') return fc.constantFrom('http://127.0.0.1:9', 'https://127.0.0.1:9/api');
      if (schema.format === 'uuid') return fc.oneof(knownId(), fc.uuid());
      if (schema.format === 'date-time') return fc.constantFrom('2099-01-01T00:00:00Z', '2030-06-30T12:00:00.123Z');
      if (schema.pattern?.includes('UTC')) return fc.constantFrom('UTC', 'Europe/Paris');
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern), { maxLength: 24 });
      return fc.string({ minLength: Math.max(1, schema.minLength ?? 1), maxLength: Math.min(schema.maxLength ?? 24, 24) });
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000, max: schema.maximum ?? 1_000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1_000, max: schema.maximum ?? 1_000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

/** The paths of every leaf of a JSON value (an empty object or array counts as a leaf). */
function leaves(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [path];
  const entries = Object.entries(value);
  if (entries.length === 0) return [path];
  return entries.flatMap(([key, item]) => leaves(item, [...path, Array.isArray(value) ? Number(key) : key]));
}

function replaced(value: unknown, path: (string | number)[], by: unknown): unknown {
  if (path.length === 0) return by;
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...(value as unknown[])] : { ...(value as object) }) as Record<string | number, unknown>;
  copy[head!] = replaced(copy[head!], rest, by);
  return copy;
}

/** The paths of the strings in a value. */
const stringLeaves = (value: unknown) => leaves(value).filter((path) => typeof path.reduce<unknown>((at, key) => (at as Record<string | number, unknown>)[key], value) === 'string');

/** A valid value with one string tainted by NUL or a lone surrogate, one leaf swapped for a hostile value, or a hostile key added at the top. */
const poisoned = (base: fc.Arbitrary<unknown>) =>
  fc.oneof(
    fc.tuple(base, fc.nat(), fc.constantFrom('\u0000', '\ud800', '\udfff')).map(([value, n, bad]) => {
      const paths = stringLeaves(value);
      if (paths.length === 0) return value;
      const path = paths[n % paths.length]!;
      const text = path.reduce<unknown>((at, key) => (at as Record<string | number, unknown>)[key], value) as string;
      return replaced(value, path, `${text.slice(0, 1)}${bad}${text.slice(1)}`);
    }),
    fc.tuple(base, fc.nat(), fc.oneof({ weight: 3, arbitrary: hostileString }, { weight: 1, arbitrary: anyValue() })).map(([value, n, hostile]) => {
      const paths = leaves(value);
      return replaced(value, paths[n % paths.length]!, hostile);
    }),
    fc.tuple(base, fc.constantFrom('a\u0000', '\ud800', '__proto__', 'constructor')).map(([value, key]) =>
      typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value, [key]: 'x' } : value,
    ),
  );

/** Ids that exist and that the route's params schema accepts, so a call gets past its 404. */
const validId = (route: Route) => {
  const fitting = knownIds.filter((id) => !route.params || route.params.safeParse({ id }).success);
  return fc.oneof(fc.constantFrom(...(fitting.length > 0 ? fitting : knownIds)), fc.uuid()).map(encodeURIComponent);
};

/** Ids no schema accepts or nothing has: huge numbers, hostile strings, broken percent-escapes. */
const hostileId = () =>
  fc.oneof(
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
    hostileString.filter((s) => s.length > 0 && wellFormed(s)).map(encodeURIComponent),
    fc.constantFrom('%00', '%ED%A0%80', '%ZZ', '%', '%2F', '..', '%E2%80%AE', '0', '9223372036854775808'),
    fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent),
  );

const inputOf = (route: Route, location: 'query' | 'body') => {
  const schema = route[location];
  return schema ? valid(inputSchema(schema)) : location === 'query' ? fc.constant({}) : fc.constant(undefined);
};

/** A query object as a URL carries it: repeated keys for arrays, and no lone surrogates (a URL cannot hold them). */
const asPairs = (value: unknown): [string, string][] =>
  Object.entries(typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {})
    .flatMap(([key, item]): [string, string][] =>
      Array.isArray(item) ? item.map((each): [string, string] => [key, String(each)]) : [[key, typeof item === 'object' ? JSON.stringify(item) : String(item)]],
    )
    .filter(([key, item]) => wellFormed(key) && wellFormed(item));

/** Hostile query strings: the route's parameters with one value poisoned, plus unknown or repeated ones. */
const hostileQuery = (route: Route) =>
  fc
    .tuple(
      poisoned(inputOf(route, 'query')).map(asPairs),
      fc.array(
        fc.tuple(
          fc.oneof(fc.constantFrom(...Object.keys(route.query ? (inputSchema(route.query).properties ?? {}) : {}), 'limit', 'cursor'), fc.string({ maxLength: 8 })),
          fc.oneof(hostileString, fc.string(), knownId(), fc.base64String({ maxLength: 60 })),
        ),
        { maxLength: 2 },
      ),
    )
    .map(([pairs, more]) => [...pairs, ...more].filter(([key, value]) => wellFormed(key) && wellFormed(value)));

type Body = { json?: unknown; raw?: string; contentType?: string };

/** Hostile bodies: valid but poisoned in one field, any JSON, none, or not JSON at all. */
const hostileBody = (route: Route): fc.Arbitrary<Body> =>
  fc.oneof(
    { weight: 4, arbitrary: poisoned(inputOf(route, 'body')).map((json) => ({ json })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((json) => ({ json: json as unknown })) },
    { weight: 1, arbitrary: fc.constant({}) },
    {
      weight: 1,
      arbitrary: fc.record({
        raw: fc.oneof(fc.constantFrom('{', '{"a":', 'null', '"x"', '1e999', '[1,2', '\u0000', '{"a":"\\ud800"}'), fc.string()),
        contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/xml'),
      }),
    },
  );

/**
 * One request to `route`: mostly valid with exactly one hostile part (the id, the query or the body), so
 * the hostile part reaches as far into the route as it can; sometimes valid throughout.
 */
const requestTo = (route: Route) => {
  const id = validId(route);
  const query = inputOf(route, 'query').map(asPairs);
  const body = inputOf(route, 'body').map((json): Body => ({ json }));
  return fc.oneof(
    { weight: 1, arbitrary: fc.tuple(id, query, body) },
    { weight: route.params ? 2 : 0, arbitrary: fc.tuple(hostileId(), query, body) },
    { weight: 3, arbitrary: fc.tuple(id, hostileQuery(route), body) },
    { weight: route.body ? 5 : 1, arbitrary: fc.tuple(id, query, hostileBody(route)) },
  );
};

async function call(route: Route, id: string, query: [string, string][], body: Body) {
  const path = route.path.replace(':id', id);
  const search = query.length > 0 ? `?${new URLSearchParams(query).toString()}` : '';
  const headers: Record<string, string> = { authorization: `Bearer ${api.token}` };
  let payload: string | undefined;
  if (body.raw !== undefined) {
    payload = body.raw;
    headers['content-type'] = body.contentType!;
  } else if (body.json !== undefined) {
    payload = JSON.stringify(body.json);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${api.url}${path}${search}`, { method: route.method.toUpperCase(), headers, body: route.method === 'get' ? undefined : payload });
  return { status: res.status, text: await res.text(), what: `${route.method.toUpperCase()} ${path}${search} ${payload?.slice(0, 200) ?? ''}` };
}

describe('every route, any input', () => {
  test('never a 500, the error shape on every 4xx, never a secret or token', async () => {
    const failures: string[] = [];
    for (const route of apiRoutes(api.deps)) {
      await fc.assert(
        fc.asyncProperty(requestTo(route), async ([id, query, body]) => {
          const res = await call(route, id, query, body);
          // A documented 5xx is a verdict, not a crash: /readyz is 503 here, as no worker polls this test's task queue.
          if (res.status >= 500 && !(res.status in route.responses)) failures.push(`${res.status}: ${res.what}`);
          if (res.status >= 400 && res.status < 500 && !errorBody.safeParse(JSON.parse(res.text)).success) failures.push(`no error shape: ${res.what} -> ${res.text}`);
          if (res.text.includes(SECRET)) failures.push(`secret answered: ${res.what}`);
          if (res.text.includes(api.token)) failures.push(`the caller's token answered: ${res.what}`);
          return failures.length === 0;
        }),
        { numRuns: RUNS_PER_ROUTE, endOnFailure: true, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) },
      ).catch((err: unknown) => {
        throw new Error(`${route.method.toUpperCase()} ${route.path}: ${failures.join('\n')}\n${String(err)}`);
      });
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
