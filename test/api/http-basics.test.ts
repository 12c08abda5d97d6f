import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { createApp } from '../../src/api/app.js';
import { ApiToken } from '../../src/db/entities.js';
import { createLogger } from '../../src/logger.js';
import { listen, startTestApi, type TestApi } from './api-harness.js';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});

afterAll(async () => {
  await api?.close();
});

describe('health', () => {
  test('/healthz answers without a token', async () => {
    const res = await api.call('GET', '/healthz', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  test('/readyz checks PostgreSQL and Temporal, and names the worker check when no worker polls the task queue', async () => {
    const res = await api.call('GET', '/readyz', { token: null });
    expect(res.body).toEqual({ status: 'unavailable', failing: ['worker'], checks: { postgresql: 'ok', temporal: 'ok', worker: 'failing' } });
    expect(res.status).toBe(503);
  });
});

describe('authentication', () => {
  test('a request without a token is 401 with the error body', async () => {
    const res = await api.call('GET', '/api/v1/connectors', { token: null });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.body).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String), details: null } });
  });

  test('an unknown token is 401', async () => {
    const res = await api.call('GET', '/api/v1/connectors', { token: 'vs_not-a-real-token' });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });

  test('a header that is not "Bearer <token>" is 401', async () => {
    const res = await api.call('GET', '/api/v1/connectors', { token: null, headers: { authorization: `Basic ${api.token}` } });
    expect(res.status).toBe(401);
  });

  test('a valid token is accepted, is stored only as its SHA-256, and records when it was used', async () => {
    const res = await api.call('GET', '/api/v1/connectors');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [], nextCursor: null });

    const tokens = await api.orm.em.fork().find(ApiToken, {});
    expect(tokens).toHaveLength(1);
    expect(tokens[0]!.tokenHash).toBe(createHash('sha256').update(api.token).digest('hex'));
    expect(tokens[0]!.lastUsedAt).toBeInstanceOf(Date);
    const stored = JSON.stringify(await api.orm.em.fork().getConnection().execute('select * from api_token'));
    expect(stored).not.toContain(api.token);
    expect(api.token).toMatch(/^vs_[A-Za-z0-9_-]{43}$/);
  });

  test('last_used_at is written at most once a minute', async () => {
    const lastUsed = async () => (await api.orm.em.fork().findOneOrFail(ApiToken, { name: 'api-test' })).lastUsedAt!.getTime();
    await api.call('GET', '/api/v1/products');
    const first = await lastUsed();
    await api.call('GET', '/api/v1/products');
    expect(await lastUsed()).toBe(first);
    await api.orm.em.fork().execute(`update api_token set last_used_at = now() - interval '2 minutes'`);
    const stale = await lastUsed();
    await api.call('GET', '/api/v1/products');
    expect(await lastUsed()).toBeGreaterThan(stale);
  });

  test('the token is checked before the body is read', async () => {
    const res = await api.call('POST', '/api/v1/connectors', { token: null, rawBody: '{not json' });
    expect(res.status).toBe(401);
  });
});

describe('validation and errors', () => {
  test('an invalid body is 400 naming each bad field', async () => {
    const res = await api.call('POST', '/api/v1/connectors', { body: { tool: 'no-such-tool', label: '', location: 'ftp://x', secret: '' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    const paths = res.body.error.details.issues.map((issue: { path: string[] }) => issue.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['tool', 'label', 'location', 'secret']));
    expect(res.body.error.details.issues[0]).toEqual({ in: 'body', path: expect.any(Array), code: expect.any(String), message: expect.any(String) });
  });

  test('malformed JSON is 400', async () => {
    const res = await api.call('POST', '/api/v1/connectors', { rawBody: '{"tool": "github",' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('MALFORMED_JSON');
  });

  test('a body that is not JSON is 415', async () => {
    const res = await api.call('POST', '/api/v1/connectors', { rawBody: 'tool=github', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  test('a body over the limit is 413', async () => {
    const res = await api.call('POST', '/api/v1/connectors', { body: { tool: 'github', label: 'x'.repeat(2_000_000) } });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  test('an invalid query is 400 naming the parameter', async () => {
    const res = await api.call('GET', '/api/v1/findings?limit=100000&active=maybe');
    expect(res.status).toBe(400);
    expect(res.body.error.details.issues.map((i: { path: string[]; in: string }) => `${i.in}:${i.path.join('.')}`).sort()).toEqual(['query:active', 'query:limit']);
  });

  test('a malformed id is 400 and an unknown id is 404', async () => {
    expect((await api.call('GET', '/api/v1/connectors/not-a-uuid')).status).toBe(400);
    const missing = await api.call('GET', '/api/v1/connectors/00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    expect((await api.call('GET', '/api/v1/findings/123456')).status).toBe(404);
    expect((await api.call('GET', '/api/v1/operations/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  test('an unknown route is 404 and a wrong method on a known one is 405', async () => {
    const unknown = await api.call('GET', '/api/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    const wrongMethod = await api.call('PUT', '/api/v1/connectors');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST, GET');
  });

  test('an invalid cursor is 400', async () => {
    const res = await api.call('GET', '/api/v1/products?cursor=bm90LWEtY3Vyc29y');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_CURSOR');
  });
});

describe('operator page', () => {
  test('/ redirects to /ui/, whose static files need no token and carry a strict Content-Security-Policy', async () => {
    const root = await fetch(`${api.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/ui/');
    const page = await fetch(`${api.url}/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    const html = await page.text();
    expect(html).toContain('<script type="module" src="app.js"></script>');
    expect(html).not.toMatch(/<script>|\son[a-z]+=/);
    const script = await fetch(`${api.url}/ui/app.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(await script.text()).not.toMatch(/\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write/);
    const missing = await api.call('GET', '/ui/no-such-file.js', { token: null });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
  });
});

describe('tools', () => {
  test('lists each connector type with its settings JSON Schema and matching', async () => {
    const res = await api.call('GET', '/api/v1/tools');
    expect(res.status).toBe(200);
    const tools = Object.fromEntries(res.body.items.map((t: { tool: string }) => [t.tool, t]));
    expect(Object.keys(tools).sort()).toEqual(['aws_security_hub', 'blackduck', 'bugcrowd', 'cobalt', 'dependency_track', 'edgescan', 'github', 'gitlab', 'harbor', 'semgrep', 'snyk', 'sonarqube']);
    expect(tools.dependency_track).toMatchObject({
      displayName: 'Dependency-Track',
      matching: 'hash_code',
      secretDescription: expect.any(String),
      settingsSchema: { type: 'object', properties: { includeInactive: { type: 'boolean' } } },
    });
  });
});

describe('OpenAPI document', () => {
  test('is public, OpenAPI 3.1, and documents every route the API serves', async () => {
    const res = await api.call('GET', '/api/v1/openapi.json', { token: null });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const operations = Object.entries(res.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const expected = [
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
      'GET /api/v1/openapi.json',
      'GET /api/v1/tools',
      'POST /api/v1/connectors',
      'GET /api/v1/connectors',
      'GET /api/v1/connectors/{id}',
      'PATCH /api/v1/connectors/{id}',
      'DELETE /api/v1/connectors/{id}',
      'POST /api/v1/connectors/{id}/check',
      'POST /api/v1/connectors/{id}/discover',
      'POST /api/v1/connectors/{id}/sync',
      'GET /api/v1/connectors/{id}/schedule',
      'PUT /api/v1/connectors/{id}/schedule',
      'POST /api/v1/connectors/{id}/schedule/pause',
      'POST /api/v1/connectors/{id}/schedule/unpause',
      'GET /api/v1/records',
      'GET /api/v1/records/{id}',
      'POST /api/v1/records/{id}/map',
      'POST /api/v1/records/{id}/unmap',
      'POST /api/v1/records/{id}/ignore',
      'POST /api/v1/records/{id}/restore',
      'DELETE /api/v1/records/{id}',
      'POST /api/v1/records/{id}/sync',
      'GET /api/v1/operations',
      'GET /api/v1/operations/{id}',
      'GET /api/v1/products',
      'GET /api/v1/tests',
      'GET /api/v1/tests/{id}/imports',
      'GET /api/v1/imports/{id}/actions',
      'GET /api/v1/findings',
      'GET /api/v1/findings/{id}',
      'PATCH /api/v1/findings/{id}',
      'GET /api/v1/findings/{id}/history',
      'GET /api/v1/tokens',
      'GET /api/v1/tokens/self',
      'POST /api/v1/tokens',
      'DELETE /api/v1/tokens/{id}',
      'GET /api/v1/audit',
    ];
    expect(operations.sort()).toEqual([...expected].sort());

    const create = res.body.paths['/api/v1/connectors'].post;
    expect(create.requestBody.content['application/json'].schema.required).toEqual(expect.arrayContaining(['tool', 'label', 'location', 'secret']));
    expect(create.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Connector' });
    expect(res.body.components.schemas.Connector.properties).not.toHaveProperty('secret');
    expect(res.body.components.schemas.Connector.properties).not.toHaveProperty('secretEncrypted');
    const findings = res.body.paths['/api/v1/findings'].get;
    expect(findings.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining([
        'limit',
        'cursor',
        'count',
        'ordering',
        'productId',
        'testId',
        'connectorId',
        'severity',
        'active',
        'falsePositive',
        'riskAccepted',
        'vulnerabilityId',
        'title',
        'component',
        'filePath',
        'firstSeenAfter',
        'firstSeenBefore',
        'lastSeenAfter',
        'lastSeenBefore',
      ]),
    );
    const ordering = findings.parameters.find((p: { name: string }) => p.name === 'ordering');
    expect(ordering.schema.enum).toEqual(['id', '-id', 'firstSeenAt', '-firstSeenAt', 'title', '-title']);
    expect(res.body.paths['/api/v1/findings/{id}'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/FindingDetail' });
    expect(res.body.components.schemas.Finding.properties.id.type).toBe('string');
    expect(res.body.components.schemas.FindingAction.properties.findingId.type).toBe('string');
    expect(res.body.paths['/api/v1/records/{id}'].get).toMatchObject({ operationId: 'getRecord', tags: ['Records'] });
    expect(res.body.info.license).toEqual({ name: 'BSD-3-Clause', identifier: 'BSD-3-Clause' });
    expect(res.body.tags.map((t: { name: string }) => t.name)).toEqual(['Health', 'Connectors', 'Schedules', 'Records', 'Runs', 'Findings', 'Tokens']);
    expect(res.body.paths['/healthz'].get.security).toEqual([]);
    expect(res.body.paths['/api/v1/connectors'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(res.body.paths['/api/v1/connectors'].get['x-scope']).toBe('read');
    expect(res.body.paths['/api/v1/connectors'].get.description).toContain('scope `read`');
    expect(res.body.paths['/api/v1/connectors/{id}/sync'].post['x-scope']).toBe('operate');
    expect(res.body.paths['/api/v1/connectors'].post['x-scope']).toBe('admin');
    expect(res.body.paths['/api/v1/connectors'].post.responses).toHaveProperty('403');
    const refs = JSON.stringify(res.body).match(/#\/components\/schemas\/[A-Za-z]+/g) ?? [];
    for (const ref of new Set(refs)) expect(res.body.components.schemas).toHaveProperty(ref.split('/').at(-1)!);
    expect(JSON.stringify(res.body)).not.toContain('$defs');
  });
});

describe('request log', () => {
  test("logs one line per request with status and the token's id and name, never the token or a secret", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    // The service's own logger, with its redaction, so a censored field would show here as it does in production.
    const app = createApp({ ...api.deps, logger: createLogger('info', 'request-log-test', sink) });
    const { server, url } = await listen(app);
    const secret = 'log-secret-that-must-not-appear';
    try {
      // A query value is never logged, not even of a parameter the route refuses.
      const refused = await fetch(`${url}/api/v1/connectors?trace=${secret}`, { headers: { authorization: `Bearer ${api.token}` } });
      expect(refused.status).toBe(400);
      expect(await refused.text()).not.toContain(secret);
      const created = await fetch(`${url}/api/v1/connectors`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tool: 'dependency_track', label: 'logged', location: 'http://127.0.0.1:9', secret }),
      });
      expect(created.status).toBe(201);
      await fetch(`${url}/api/v1/connectors`, { headers: { authorization: `Bearer ${api.token}x` } });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    const log = lines.join('');
    expect(log).not.toContain(secret);
    expect(log).not.toContain(api.token);
    const requests = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request');
    expect(requests).toEqual([
      expect.objectContaining({ method: 'GET', path: '/api/v1/connectors', status: 400 }),
      expect.objectContaining({ method: 'POST', path: '/api/v1/connectors', status: 201, tokenId: expect.any(String), tokenName: 'api-test', requestId: expect.any(String) }),
      expect.objectContaining({ method: 'GET', path: '/api/v1/connectors', status: 401 }),
    ]);
    const [row] = await api.orm.em.fork().find(ApiToken, { name: 'api-test' });
    expect(requests[1].tokenId).toBe(row!.id);
    expect(log).not.toContain('[redacted]');
  });
});
