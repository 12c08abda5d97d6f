import { seedFindings, startTestApi, type TestApi } from './api-harness.js';
import type { AnswerBody } from '../support/answers.js';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});

afterAll(async () => {
  await api?.close();
});

const cursorOf = (...values: unknown[]) => Buffer.from(JSON.stringify(values)).toString('base64url');

function expectErrorShape(res: { status: number; body: AnswerBody }, status: number) {
  expect({ status: res.status, body: res.body }).toEqual({
    status,
    body: { error: { code: expect.any(String), message: expect.any(String), details: res.body?.error?.details === null ? null : expect.any(Object) } },
  });
}

describe('bad input is never a 500', () => {
  test('a NUL in a body string is 400 naming the field', async () => {
    const res = await api.call('POST', '/api/v1/connectors', {
      body: { tool: 'dependency_track', label: 'a\u0000b', location: 'http://127.0.0.1:9', secret: 'a-long-enough-secret' },
    });
    expectErrorShape(res, 400);
    expect(res.body.error.details.issues[0]).toMatchObject({ in: 'body', path: ['label'] });
  });

  test.each(['-1', 'not a url', 'http://', '://x'])('a location that is no URL at all (%s) is 400 naming the field', async (location) => {
    const res = await api.call('POST', '/api/v1/connectors', { body: { tool: 'dependency_track', label: `bad-location ${location}`, location, secret: 'a-long-enough-secret' } });
    expectErrorShape(res, 400);
    expect(res.body.error.details.issues[0]).toMatchObject({ in: 'body', path: ['location'] });
  });

  test('a NUL in a finding description is 400', async () => {
    const { findingIds } = await seedFindings(api.orm, { connectorId: null, productName: 'nul-description', count: 1 });
    const res = await api.call('PATCH', `/api/v1/findings/${findingIds[0]}`, { body: { description: 'x\u0000y' } });
    expectErrorShape(res, 400);
  });

  test('a NUL in an object key or a nested string is 400', async () => {
    const res = await api.call('POST', '/api/v1/connectors', {
      body: { tool: 'dependency_track', label: 'nul-key', location: 'http://127.0.0.1:9', secret: 'a-long-enough-secret', settings: { 'a\u0000': true } },
    });
    expectErrorShape(res, 400);
  });

  test('a lone surrogate in a string is 400', async () => {
    const res = await api.call('POST', '/api/v1/connectors', {
      rawBody: '{"tool":"dependency_track","label":"x\\ud800","location":"http://127.0.0.1:9","secret":"a-long-enough-secret"}',
    });
    expectErrorShape(res, 400);
  });

  test('a NUL in a query value is 400', async () => {
    expectErrorShape(await api.call('GET', '/api/v1/connectors?tool=a%00b'), 400);
  });

  test.each([
    ['a NUL in a text key', '/api/v1/products', cursorOf('products', 'a\u0000b', '00000000-0000-4000-8000-000000000000')],
    ['an impossible month and day', '/api/v1/connectors', cursorOf('connectors', '2026-13-45T99:99:99Z', '00000000-0000-4000-8000-000000000000')],
    ['year zero', '/api/v1/connectors', cursorOf('connectors', '0000-01-01T00:00:00Z', '00000000-0000-4000-8000-000000000000')],
    ['an impossible date', '/api/v1/operations', cursorOf('operations', '2024-99-99T99:99:99Z', '00000000-0000-4000-8000-000000000000')],
    ['February 30th', '/api/v1/tests', cursorOf('tests', '2024-02-30T00:00:00Z', '00000000-0000-4000-8000-000000000000')],
    ['an id beyond bigint', '/api/v1/findings', cursorOf('findings', 1e300)],
    ['a negative id', '/api/v1/findings', cursorOf('findings', -1)],
    ['a NUL in the raw cursor', '/api/v1/products', 'abc%00def'],
  ])('a cursor with %s is 400 INVALID_CURSOR', async (_what, path, cursor) => {
    const res = await api.call('GET', `${path}?cursor=${cursor}`);
    expectErrorShape(res, 400);
  });

  test.each([['1e308'], ['1e400'], ['-1'], ['NaN'], ['Infinity'], ['2147483648']])('limit=%s is 400', async (limit) => {
    expectErrorShape(await api.call('GET', `/api/v1/findings?limit=${limit}`), 400);
  });

  test.each([
    ['/api/v1/findings/99999999999999999999'],
    ['/api/v1/findings/9223372036854775808'],
    ['/api/v1/findings/-1'],
    ['/api/v1/findings/1.5'],
    ['/api/v1/findings/%00'],
    ['/api/v1/connectors/%00'],
    ['/api/v1/connectors/00000000-0000-4000-8000-00000000000g'],
    ['/api/v1/records/%ZZ'],
  ])('the id in %s is 400 or 404', async (path) => {
    const res = await api.call('GET', path);
    expect([400, 404]).toContain(res.status);
    expectErrorShape(res, res.status);
  });

  test.each([
    ['text/plain', 'hello'],
    ['application/xml', '<a/>'],
    ['multipart/form-data; boundary=x', '--x--'],
    ['application/json; charset=latin1', '{}'],
  ])('a %s body is 415', async (contentType, rawBody) => {
    const res = await api.call('POST', '/api/v1/connectors', { rawBody, headers: { 'content-type': contentType } });
    expectErrorShape(res, 415);
  });

  test('a deeply nested body is 400, not a stack overflow', async () => {
    const depth = 100_000;
    const res = await api.call('POST', '/api/v1/connectors', { rawBody: `{"settings":${'['.repeat(depth)}${']'.repeat(depth)}}` });
    expect([400, 413]).toContain(res.status);
    expectErrorShape(res, res.status);
  });

  test('a NUL at the bottom of a deeply nested body is found and named', async () => {
    const depth = 50_000;
    const res = await api.call('POST', '/api/v1/tokens', { rawBody: `{"name":${'['.repeat(depth)}"\\u0000"${']'.repeat(depth)}}` });
    expectErrorShape(res, 400);
    expect(res.body.error.details.issues[0].path.slice(0, 3)).toEqual(['name', 0, 0]);
    expect(res.text.length).toBeLessThan(2_000);
  });
});
