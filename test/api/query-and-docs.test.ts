import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiRoutes } from '../../src/api/app.js';
import { createApiToken } from '../../src/api/tokens.js';
import { Connector, Import, ToolRecord } from '../../src/db/entities.js';
import { describeProblem, lintOpenApi } from '../../scripts/openapi-lint.js';
import { seedFindings, startTestApi, type TestApi } from './api-harness.js';

/** The query rules every route shares, the OpenAPI document against the linters, and Swagger UI. */

let api: TestApi;
const ids: Record<string, string> = {};

beforeAll(async () => {
  api = await startTestApi();
  const created = await api.call('POST', '/api/v1/connectors', {
    body: { tool: 'dependency_track', label: 'strict', location: 'http://127.0.0.1:9', secret: 'odt_strict_query_key_0000' },
  });
  expect(created.status).toBe(201);
  const em = api.orm.em.fork();
  const record = em.create(ToolRecord, { connector: created.body.id, externalId: 'strict-1', name: 'strict record' });
  await em.flush();
  const seeded = await seedFindings(api.orm, { connectorId: created.body.id, productName: 'strict', count: 1 });
  ids.connector = created.body.id;
  ids.record = record.id;
  ids.test = seeded.testId;
  ids.finding = seeded.findingIds[0]!;
});

afterAll(async () => {
  await api?.close();
});

/** A path of the route table with its `:id` filled with something that exists, so only the query can be wrong. */
function concrete(path: string): string {
  const owner = path.startsWith('/api/v1/findings')
    ? ids.finding
    : path.startsWith('/api/v1/records')
      ? ids.record
      : path.startsWith('/api/v1/tests') || path.startsWith('/api/v1/imports')
        ? ids.test
        : ids.connector;
  return path.replace(':id', owner!);
}

describe('an unknown query parameter', () => {
  test('is a 400 naming it, on every route of the route table, before anything is done', async () => {
    const routes = apiRoutes(api.deps);
    expect(routes.length).toBeGreaterThan(30);
    const connectorsBefore = await api.orm.em.fork().count(Connector, {});
    for (const route of routes) {
      const res = await api.call(route.method.toUpperCase(), `${concrete(route.path)}?sevrity=High`);
      const where = `${route.method.toUpperCase()} ${route.path}`;
      expect({ where, status: res.status }).toEqual({ where, status: 400 });
      expect({ where, code: res.body.error.code }).toEqual({ where, code: 'VALIDATION_FAILED' });
      expect(res.body.error.message).toContain('query.sevrity');
      expect(res.body.error.details.issues).toContainEqual({ in: 'query', path: ['sevrity'], code: 'unrecognized_keys', message: 'unknown query parameter' });
    }
    // The refused DELETE and POST calls changed nothing.
    expect(await api.orm.em.fork().count(Connector, {})).toBe(connectorsBefore);
    expect((await api.call('GET', `/api/v1/records/${ids.record}`)).status).toBe(200);
  });

  test('names every unknown parameter; the known ones still filter', async () => {
    const res = await api.call('GET', '/api/v1/findings?severty=High&acitve=true');
    expect(res.status).toBe(400);
    expect(res.body.error.details.issues.map((i: { path: string[] }) => i.path[0])).toEqual(['severty', 'acitve']);
    const known = await api.call('GET', '/api/v1/findings?severity=Low');
    expect(known.status).toBe(200);
    expect(known.body.items).toEqual([]);
  });

  test('also on public routes', async () => {
    for (const path of ['/healthz', '/api/v1/openapi.json']) {
      const res = await api.call('GET', `${path}?x=1`, { token: null });
      expect({ path, status: res.status, message: res.body.error.message }).toEqual({ path, status: 400, message: expect.stringContaining('query.x') });
    }
  });
});

describe('ordering and totals of every list', () => {
  beforeAll(async () => {
    const second = await api.call('POST', '/api/v1/connectors', {
      body: { tool: 'dependency_track', label: 'another', location: 'http://127.0.0.1:9', secret: 'odt_strict_query_key_0001' },
    });
    expect(second.status).toBe(201);
    const em = api.orm.em.fork();
    // Rows made in one flush share their timestamps, so the id must break the ties.
    for (const name of ['b-record', 'a-record', 'c-record']) em.create(ToolRecord, { connector: second.body.id, externalId: name, name, state: name === 'a-record' ? 'good' : 'new' });
    const counts = { Critical: 0, High: 0, Medium: 0, Low: 0, Info: 0 };
    for (let i = 0; i < 3; i++) em.create(Import, { test: ids.test!, fetchId: crypto.randomUUID(), severityBefore: counts, severityAfter: counts, settings: {} });
    await em.flush();
    for (const [i, status] of ['succeeded', 'failed', 'succeeded'].entries()) {
      await em.execute(`insert into operation (id, type, trigger, status, created_at, workflow_id) values (?, 'sync', 'manual', ?, now(), ?)`, [crypto.randomUUID(), status, `list-${i}`]);
    }
    await seedFindings(api.orm, { connectorId: second.body.id, productName: 'another', count: 3 });
    await createApiToken(api.orm.em.fork(), { name: 'a reader', scope: 'read' });
  });

  test('every ordering of every list pages through each item once, in the order of one big page, with its count', async () => {
    const document = (await api.call('GET', '/api/v1/openapi.json', { token: null })).body;
    const checked: string[] = [];
    for (const [path, methods] of Object.entries(document.paths as Record<string, { get?: { parameters: { name: string; schema: { enum?: string[] } }[] } }>)) {
      const ordering = methods.get?.parameters.find((p) => p.name === 'ordering');
      if (!ordering) continue;
      const url = path.replace('{id}', ids.test!);
      for (const value of ordering.schema.enum!) {
        const where = `${url}?ordering=${value}`;
        const whole = await api.call('GET', `${url}?ordering=${value}&limit=500&count=true`);
        expect({ where, status: whole.status }).toEqual({ where, status: 200 });
        const items = whole.body.items as Record<string, unknown>[];
        expect({ where, enough: items.length >= 2 }).toEqual({ where, enough: true });
        expect({ where, count: whole.body.count }).toEqual({ where, count: items.length });
        const field = value.replace(/^-/, '');
        if (field === 'at' || field.endsWith('At')) {
          const times = items.map((item) => String(item[field]));
          const sorted = [...times].sort();
          expect({ where, times }).toEqual({ where, times: value.startsWith('-') ? sorted.reverse() : sorted });
        }
        const paged: unknown[] = [];
        let cursor: string | null = null;
        do {
          const page: { status: number; body: { items: { id: unknown }[]; nextCursor: string | null } } = await api.call(
            'GET',
            `${url}?ordering=${value}&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          );
          expect({ where, status: page.status }).toEqual({ where, status: 200 });
          paged.push(...page.body.items.map((item) => item.id));
          cursor = page.body.nextCursor;
        } while (cursor && paged.length <= items.length);
        expect({ where, paged }).toEqual({ where, paged: items.map((item) => item.id) });
        checked.push(`${path} ${value}`);
      }
    }
    expect(checked.length).toBeGreaterThanOrEqual(40);
  }, 120_000);
});

describe('OpenAPI document', () => {
  test("passes Redocly's and Spectral's recommended rules without a warning", async () => {
    const res = await api.call('GET', '/api/v1/openapi.json', { token: null });
    expect(res.status).toBe(200);
    const dir = await mkdtemp(join(tmpdir(), 'vulnsync-openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      await writeFile(file, res.text);
      const problems = await lintOpenApi(file);
      expect(problems.map(describeProblem)).toEqual([]);

      // The linters do find problems: a document without its license and tags fails.
      const broken = JSON.parse(res.text);
      delete broken.info.license;
      delete broken.tags;
      await writeFile(file, JSON.stringify(broken));
      const found = (await lintOpenApi(file)).map((p) => `${p.linter} ${p.rule}`);
      expect(found).toEqual(expect.arrayContaining(['redocly info-license', 'spectral operation-tag-defined']));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('Swagger UI', () => {
  test('is served at /api/v1/docs without a token, from local files, and loads the served document', async () => {
    const bare = await fetch(`${api.url}/api/v1/docs`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(new URL(bare.headers.get('location')!, `${api.url}/api/v1/docs`).pathname).toBe('/api/v1/docs/');

    const page = await fetch(`${api.url}/api/v1/docs/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    // Every script and stylesheet the page loads comes from this server (no CDN).
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      expect(asset).not.toMatch(/^(https?:)?\/\//);
      const res = await fetch(new URL(asset, `${api.url}/api/v1/docs/`));
      expect({ asset, status: res.status }).toEqual({ asset, status: 200 });
      await res.arrayBuffer();
    }

    const init = await fetch(`${api.url}/api/v1/docs/swagger-initializer.js`);
    const script = await init.text();
    expect(script).toContain("'../openapi.json'");
    expect(script).not.toContain('petstore');
    // The document the page loads, resolved as the browser does.
    const documentUrl = new URL('../openapi.json', `${api.url}/api/v1/docs/`);
    const document = await fetch(documentUrl);
    expect(document.status).toBe(200);
    expect(((await document.json()) as { openapi: string }).openapi).toBe('3.1.0');
  });
});
