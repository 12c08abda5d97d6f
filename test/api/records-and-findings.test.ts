import { Finding, FindingAction, Import, Operation, Product, ToolRecord } from '../../src/db/entities.js';
import { seedFindings, startTestApi, TEMPORAL_UI, type TestApi } from './api-harness.js';

let api: TestApi;
let connectorId: string;

beforeAll(async () => {
  api = await startTestApi();
  const res = await api.call('POST', '/api/v1/connectors', {
    body: { tool: 'dependency_track', label: 'records', location: 'http://127.0.0.1:9', secret: 'odt_records_test_key_0000' },
  });
  connectorId = res.body.id;
});

afterAll(async () => {
  await api?.close();
});

async function newRecord(name: string, state: 'new' | 'good' | 'ignored' = 'new') {
  const em = api.orm.em.fork();
  const record = em.create(ToolRecord, { connector: connectorId, externalId: `ext-${name}`, name, state });
  await em.flush();
  return record.id;
}

/** Pages through a list and returns every item, checking each page's size. */
async function everyPage<T>(path: string, limit: number): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const res: { status: number; body: { items: T[]; nextCursor: string | null } } = await api.call(
      'GET',
      `${path}${separator}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
    pages++;
  } while (cursor && pages < 100);
  return { items, pages };
}

describe('records', () => {
  test('map to a new product by name: the record is good, finalized, and the product exists', async () => {
    const id = await newRecord('payments-api');
    const res = await api.call('POST', `/api/v1/records/${id}/map`, { body: { productName: 'Payments' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, connectorId, state: 'good', productName: 'Payments', productId: expect.any(String), finalizedAt: expect.any(String) });
    const product = await api.orm.em.fork().findOneOrFail(Product, { name: 'Payments' });
    expect(res.body.productId).toBe(product.id);

    expect(product.description).toBeNull();

    const again = await newRecord('payments-worker');
    const reused = await api.call('POST', `/api/v1/records/${again}/map`, { body: { productName: 'Payments', productDescription: 'Rewritten?' } });
    expect(reused.body.productId).toBe(product.id);
    // Mapping a record never rewrites an existing product.
    await expect(api.orm.em.fork().findOneOrFail(Product, { name: 'Payments' })).resolves.toMatchObject({ description: null });
  });

  test('map to a new product by name with a description: the product is created with it', async () => {
    const id = await newRecord('ledger-api');
    const res = await api.call('POST', `/api/v1/records/${id}/map`, { body: { productName: 'Ledger', productDescription: '  General ledger services  ' } });
    expect(res.status).toBe(200);
    const products = await api.call('GET', '/api/v1/products?limit=500');
    expect(products.body.items.find((p: { id: string }) => p.id === res.body.productId)).toMatchObject({ name: 'Ledger', description: 'General ledger services' });
    const withId = await api.call('POST', `/api/v1/records/${id}/map`, { body: { productId: res.body.productId, productDescription: 'x' } });
    expect(withId.status).toBe(400);
  });

  test('map to an existing product by id; an unknown product id is 422; both or neither is 400', async () => {
    const id = await newRecord('billing');
    const product = await api.orm.em.fork().findOneOrFail(Product, { name: 'Payments' });
    const res = await api.call('POST', `/api/v1/records/${id}/map`, { body: { productId: product.id } });
    expect(res.body).toMatchObject({ state: 'good', productId: product.id, productName: 'Payments' });

    const unknown = await api.call('POST', `/api/v1/records/${id}/map`, { body: { productId: '00000000-0000-4000-8000-000000000000' } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.code).toBe('UNKNOWN_PRODUCT');
    expect((await api.call('POST', `/api/v1/records/${id}/map`, { body: {} })).status).toBe(400);
    expect((await api.call('POST', `/api/v1/records/${id}/map`, { body: { productId: product.id, productName: 'x' } })).status).toBe(400);
  });

  test('unmap, ignore and restore move the record between states', async () => {
    const id = await newRecord('legacy-portal');
    await api.call('POST', `/api/v1/records/${id}/map`, { body: { productName: 'Legacy' } });

    const unmapped = await api.call('POST', `/api/v1/records/${id}/unmap`);
    expect(unmapped.status).toBe(200);
    expect(unmapped.body).toMatchObject({ state: 'new', productId: null, productName: null, finalizedAt: null });

    const ignored = await api.call('POST', `/api/v1/records/${id}/ignore`);
    expect(ignored.body.state).toBe('ignored');
    const fetched = await api.call('GET', `/api/v1/records/${id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(ignored.body);
    const unmapIgnored = await api.call('POST', `/api/v1/records/${id}/unmap`);
    expect(unmapIgnored.status).toBe(409);
    expect(unmapIgnored.body.error.code).toBe('RECORD_IGNORED');

    const restored = await api.call('POST', `/api/v1/records/${id}/restore`);
    expect(restored.body).toMatchObject({ state: 'new', productId: null });
    const restoreAgain = await api.call('POST', `/api/v1/records/${id}/restore`);
    expect(restoreAgain.status).toBe(409);
    expect(restoreAgain.body.error.code).toBe('RECORD_NOT_IGNORED');

    expect((await api.call('POST', '/api/v1/records/00000000-0000-4000-8000-000000000000/ignore')).status).toBe(404);
    expect((await api.call('GET', '/api/v1/records/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  test('lists records filtered by connector and state, page by page', async () => {
    for (let i = 0; i < 5; i++) await newRecord(`listed-${i}`, 'ignored');
    const { items, pages } = await everyPage<{ name: string; state: string; connectorId: string }>(`/api/v1/records?connectorId=${connectorId}&state=ignored`, 2);
    expect(items.map((r) => r.name)).toEqual(expect.arrayContaining(['listed-0', 'listed-1', 'listed-2', 'listed-3', 'listed-4']));
    expect(new Set(items.map((r) => r.name)).size).toBe(items.length);
    expect(items.every((r) => r.state === 'ignored' && r.connectorId === connectorId)).toBe(true);
    expect(pages).toBe(Math.ceil(items.length / 2));
    expect((await api.call('GET', '/api/v1/records?state=sideways')).status).toBe(400);
  });

  test('only a good record can be synced; its sync starts once and a second request joins it', async () => {
    const unmapped = await newRecord('not-mapped');
    const refused = await api.call('POST', `/api/v1/records/${unmapped}/sync`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('RECORD_NOT_MAPPED');

    const id = await newRecord('to-sync');
    await api.call('POST', `/api/v1/records/${id}/map`, { body: { productName: 'Synced' } });
    const first = await api.call('POST', `/api/v1/records/${id}/sync`);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ workflowId: `sync/${connectorId}/${id}`, attached: false, runId: expect.any(String) });
    const op = await api.orm.em.fork().findOneOrFail(Operation, { id: first.body.operationId });
    expect(op.record?.id).toBe(id);
    const second = await api.call('POST', `/api/v1/records/${id}/sync`);
    expect(second.body).toMatchObject({ attached: true, operationId: first.body.operationId });
  });

  test('a sync asked for while a run closes after its Operation ended starts a new run instead of joining it', async () => {
    const id = await newRecord('closing');
    await api.call('POST', `/api/v1/records/${id}/map`, { body: { productName: 'Closing' } });
    const first = await api.call('POST', `/api/v1/records/${id}/sync`);
    expect(first.body.attached).toBe(false);
    // The run's Operation has ended (its last activity wrote it) but the workflow has not closed yet.
    await api.orm.em.fork().nativeUpdate(Operation, { id: first.body.operationId }, { status: 'succeeded', endedAt: new Date() });
    const closing = setTimeout(() => void api.temporal.client.workflow.getHandle(first.body.workflowId, first.body.runId).terminate('closed').catch(() => undefined), 500);
    const next = await api.call('POST', `/api/v1/records/${id}/sync`);
    clearTimeout(closing);
    expect(next.status).toBe(202);
    expect(next.body).toMatchObject({ attached: false, workflowId: first.body.workflowId });
    expect(next.body.operationId).not.toBe(first.body.operationId);
    expect(next.body.runId).not.toBe(first.body.runId);
  });

  test('deleting a record keeps the findings of its product', async () => {
    const id = await newRecord('deleted-one');
    const seeded = await seedFindings(api.orm, { connectorId, productName: 'Deleted One', count: 2 });
    await api.call('POST', `/api/v1/records/${id}/map`, { body: { productId: seeded.productId } });
    const res = await api.call('DELETE', `/api/v1/records/${id}`);
    expect(res.status).toBe(204);
    expect(await api.orm.em.fork().count(ToolRecord, { id })).toBe(0);
    expect(await api.orm.em.fork().count(Finding, { id: { $in: seeded.findingIds } })).toBe(2);
    expect((await api.call('DELETE', `/api/v1/records/${id}`)).status).toBe(404);
  });
});

describe('findings', () => {
  let seeded: Awaited<ReturnType<typeof seedFindings>>;
  let other: Awaited<ReturnType<typeof seedFindings>>;

  beforeAll(async () => {
    seeded = await seedFindings(api.orm, { connectorId, productName: 'Findings Product', count: 7 });
    other = await seedFindings(api.orm, { connectorId: null, productName: 'Other Product', count: 2, severity: 'Low' });
  });

  test('lists findings by product, test and severity, page by page, without the raw item', async () => {
    const { items, pages } = await everyPage<{ id: number; testId: string; raw?: unknown }>(`/api/v1/findings?productId=${seeded.productId}`, 3);
    expect(items.map((f) => f.id)).toEqual(seeded.findingIds);
    expect(pages).toBe(3);
    expect(items[0]).not.toHaveProperty('raw');
    expect(items.every((f) => f.testId === seeded.testId)).toBe(true);

    const low = await api.call('GET', `/api/v1/findings?severity=Low&testId=${other.testId}`);
    expect(low.body.items.map((f: { id: number }) => f.id)).toEqual(other.findingIds);
    const byConnector = await api.call('GET', `/api/v1/findings?connectorId=${connectorId}&limit=500`);
    expect(byConnector.body.items.map((f: { id: number }) => f.id)).toEqual(expect.arrayContaining(seeded.findingIds));
    expect(byConnector.body.items.map((f: { id: number }) => f.id)).not.toContain(other.findingIds[0]);
  });

  test('a listed finding shows exactly what the finding itself shows, without its raw item', async () => {
    const own = await seedFindings(api.orm, { connectorId, productName: 'Every Field Product', count: 0 });
    const em = api.orm.em.fork();
    const recordId = crypto.randomUUID();
    const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000);
    const everyField = {
      test: own.testId,
      recordId,
      title: 'Log4Shell',
      severity: 'Critical' as const,
      description: 'remote code execution',
      mitigation: 'upgrade to 2.17.1',
      references: 'https://logging.apache.org/log4j/2.x/security.html',
      cwes: [502, 400],
      vulnerabilityIds: ['CVE-2021-44228', 'GHSA-jfh8-c2jp-5v3q'],
      cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
      cvssScore: 9.75,
      componentName: 'log4j-core',
      componentVersion: '2.14.1',
      filePath: 'services/api/pom.xml',
      line: 42,
      endpoint: 'https://api.example.test/login',
      vulnIdFromTool: 'LOG4J-1',
      hashCode: 'a'.repeat(64),
      verified: true,
      raw: { id: 'every-field' },
      firstSeenAt: minutesAgo(30),
      lastSeenAt: minutesAgo(20),
      createdAt: minutesAgo(30),
    };
    // Open for the tool at its Record's later import, so its last sighting is that import, not last_seen_at.
    const seen = em.create(Finding, { ...everyField, uniqueIdFromTool: 'every-field-seen', personTriagedAt: minutesAgo(25) });
    // A person's decision on a mitigated finding: its stored last_seen_at stands.
    const triaged = em.create(Finding, {
      ...everyField,
      uniqueIdFromTool: 'every-field-triaged',
      firstSeenAt: minutesAgo(29),
      active: false,
      isMitigated: true,
      mitigatedAt: minutesAgo(15),
      falseP: true,
      riskAccepted: true,
      outOfScope: true,
      triagedByPerson: true,
      personTriagedAt: minutesAgo(5),
    });
    const counts = { Critical: 1, High: 0, Medium: 0, Low: 0, Info: 0 };
    const imported = em.create(Import, { test: own.testId, recordId, fetchId: crypto.randomUUID(), untouched: 1, severityBefore: counts, severityAfter: counts, settings: {}, createdAt: minutesAgo(10) });
    await em.flush();

    const { items, pages } = await everyPage<{ id: string }>(`/api/v1/findings?testId=${own.testId}&ordering=-firstSeenAt&count=true`, 1);
    expect(pages).toBe(2);
    expect(items.map((f) => f.id)).toEqual([triaged.id, seen.id]);
    for (const listed of items) {
      const { raw, ...shown } = (await api.call('GET', `/api/v1/findings/${listed.id}`)).body;
      expect(raw).toEqual({ id: 'every-field' });
      expect(listed).toEqual(shown);
    }
    expect(items[1]).toMatchObject({ lastSeenAt: imported.createdAt.toISOString(), cvssScore: 9.75, testId: own.testId, recordId });
    expect(items[0]).toMatchObject({ lastSeenAt: everyField.lastSeenAt.toISOString(), mitigatedAt: expect.any(String), falsePositive: true });
    expect((await api.call('GET', `/api/v1/findings?testId=${own.testId}&count=true&limit=1`)).body.count).toBe(2);
  });

  test('one finding comes with its raw item', async () => {
    const res = await api.call('GET', `/api/v1/findings/${seeded.findingIds[0]}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: seeded.findingIds[0], severity: 'High', active: true, falsePositive: false, raw: { id: 0, source: 'seed' } });
  });

  test("a person's triage sets the flags, deactivates the finding and protects it; clearing them reactivates it", async () => {
    const id = seeded.findingIds[1]!;
    const fp = await api.call('PATCH', `/api/v1/findings/${id}`, { body: { falsePositive: true } });
    expect(fp.status).toBe(200);
    expect(fp.body).toMatchObject({ falsePositive: true, riskAccepted: false, active: false, triagedByPerson: true });

    const both = await api.call('PATCH', `/api/v1/findings/${id}`, { body: { riskAccepted: true, falsePositive: false } });
    expect(both.body).toMatchObject({ falsePositive: false, riskAccepted: true, active: false, triagedByPerson: true });

    const cleared = await api.call('PATCH', `/api/v1/findings/${id}`, { body: { riskAccepted: false } });
    expect(cleared.body).toMatchObject({ falsePositive: false, riskAccepted: false, outOfScope: false, active: true, triagedByPerson: false });

    const filtered = await api.call('GET', `/api/v1/findings?testId=${seeded.testId}&active=true`);
    expect(filtered.body.items.map((f: { id: number }) => f.id)).toContain(id);

    expect((await api.call('PATCH', `/api/v1/findings/${id}`, { body: {} })).status).toBe(400);
    expect((await api.call('PATCH', `/api/v1/findings/${id}`, { body: { active: true } })).status).toBe(400);
    expect((await api.call('PATCH', '/api/v1/findings/99999999', { body: { outOfScope: true } })).status).toBe(404);
  });

  test('clearing the triage of a mitigated finding leaves it closed', async () => {
    const id = seeded.findingIds[2]!;
    const em = api.orm.em.fork();
    const finding = await em.findOneOrFail(Finding, { id });
    finding.isMitigated = true;
    finding.active = false;
    finding.mitigatedAt = new Date();
    await em.flush();
    await api.call('PATCH', `/api/v1/findings/${id}`, { body: { outOfScope: true } });
    const cleared = await api.call('PATCH', `/api/v1/findings/${id}`, { body: { outOfScope: false } });
    expect(cleared.body).toMatchObject({ active: false, isMitigated: true, triagedByPerson: false });
    const riskAccepted = await api.call('GET', `/api/v1/findings?testId=${seeded.testId}&riskAccepted=false&falsePositive=false&active=false`);
    expect(riskAccepted.body.items.map((f: { id: number }) => f.id)).toContain(id);
  });

  test('imports, their actions, and a finding history, oldest first', async () => {
    const em = api.orm.em.fork();
    const counts = { Critical: 0, High: 7, Medium: 0, Low: 0, Info: 0 };
    const first = em.create(Import, { test: seeded.testId, fetchId: crypto.randomUUID(), created: 7, severityBefore: { ...counts, High: 0 }, severityAfter: counts, settings: { minSeverity: 'Info' }, createdAt: new Date(Date.now() - 60_000) });
    const second = em.create(Import, { test: seeded.testId, fetchId: crypto.randomUUID(), untouched: 6, closed: 1, severityBefore: counts, severityAfter: { ...counts, High: 6 }, settings: {} });
    for (const findingId of seeded.findingIds) em.create(FindingAction, { import: first, finding: findingId, action: 'created', createdAt: first.createdAt });
    await em.flush();
    for (const findingId of seeded.findingIds) em.create(FindingAction, { import: second, finding: findingId, action: findingId === seeded.findingIds[0] ? 'closed' : 'untouched' });
    await em.flush();

    const imports = await api.call('GET', `/api/v1/tests/${seeded.testId}/imports`);
    expect(imports.status).toBe(200);
    expect(imports.body.items.map((i: { id: string }) => i.id)).toEqual([second.id, first.id]);
    expect(imports.body.items[1]).toMatchObject({ created: 7, closed: 0, severityBefore: { High: 0 }, severityAfter: { High: 7 }, settings: { minSeverity: 'Info' } });

    const actions = await everyPage<{ findingId: number; action: string }>(`/api/v1/imports/${second.id}/actions`, 4);
    expect(actions.items.map((a) => a.findingId)).toEqual(seeded.findingIds);
    expect(actions.items[0]).toMatchObject({ action: 'closed', importId: second.id, createdAt: expect.any(String) });

    const history = await api.call('GET', `/api/v1/findings/${seeded.findingIds[0]}/history`);
    expect(history.body.items.map((a: { action: string; importId: string }) => [a.action, a.importId])).toEqual([
      ['created', first.id],
      ['closed', second.id],
    ]);
    expect((await api.call('GET', '/api/v1/tests/00000000-0000-4000-8000-000000000000/imports')).status).toBe(404);
    expect((await api.call('GET', '/api/v1/imports/00000000-0000-4000-8000-000000000000/actions')).status).toBe(404);
  });
});

describe('products, tests and operations', () => {
  // The title and engagement a real sync gives its Test: test/e2e/sync-scenario.test.ts.
  test('products by name and tests by product or connector', async () => {
    const products = await everyPage<{ name: string }>('/api/v1/products', 2);
    const names = products.items.map((p) => p.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['Findings Product', 'Other Product', 'Payments']));

    const findingsProduct = await api.orm.em.fork().findOneOrFail(Product, { name: 'Findings Product' });
    const tests = await api.call('GET', `/api/v1/tests?productId=${findingsProduct.id}`);
    expect(tests.body.items).toEqual([
      expect.objectContaining({ productId: findingsProduct.id, connectorId, engagementId: expect.any(String), engagementName: 'Global Connectors' }),
    ]);
    const byConnector = await api.call('GET', `/api/v1/tests?connectorId=${connectorId}`);
    expect(byConnector.body.items.every((t: { connectorId: string }) => t.connectorId === connectorId)).toBe(true);
  });

  test('operations newest first, filtered, with counts, error and the Temporal link; timestamps of SQL now() page exactly', async () => {
    const em = api.orm.em.fork();
    const rows = Array.from({ length: 5 }, (_, i) => ({ id: crypto.randomUUID(), at: `2031-01-01 00:00:00.123${i}56+00` }));
    for (const [i, row] of rows.entries()) {
      await em.execute(
        `insert into operation (id, connector_id, type, trigger, status, created_at, workflow_id, run_id, summary, error)
         values (?, ?, 'sync', 'scheduled', ?, ?, ?, ?, ?, ?)`,
        [
          row.id,
          connectorId,
          i === 0 ? 'partial' : 'succeeded',
          row.at,
          `connector-sync/${connectorId}`,
          `run-${i}`,
          JSON.stringify({ records: 2, recordsFailed: i === 0 ? 1 : 0, created: 3 }),
          i === 0 ? JSON.stringify({ type: 'PARTIAL', message: '1 record failed', records: [{ recordId: 'r', type: 'AUTH_REJECTED', message: 'no' }] }) : null,
        ],
      );
    }
    const { items } = await everyPage<{ id: string; status: string }>(`/api/v1/operations?connectorId=${connectorId}&type=sync`, 1);
    const seededOrder = items.filter((op) => rows.some((r) => r.id === op.id)).map((op) => op.id);
    expect(seededOrder).toEqual(rows.map((r) => r.id).reverse());
    expect(items.slice(0, 5).map((op) => op.id)).toEqual(rows.map((r) => r.id).reverse());

    const partial = await api.call('GET', `/api/v1/operations?status=partial&connectorId=${connectorId}`);
    expect(partial.body.items).toEqual([
      expect.objectContaining({
        id: rows[0]!.id,
        trigger: 'scheduled',
        summary: { records: 2, recordsFailed: 1, created: 3 },
        error: expect.objectContaining({ type: 'PARTIAL' }),
        temporalUrl: `${TEMPORAL_UI}/namespaces/default/workflows/${encodeURIComponent(`connector-sync/${connectorId}`)}/run-0/history`,
      }),
    ]);
  });
});
