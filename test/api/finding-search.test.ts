import { Finding, FindingAction, Import } from '../../src/db/entities.js';
import { createApiToken } from '../../src/api/tokens.js';
import { seedFindings, startTestApi, type TestApi } from './api-harness.js';

/**
 * What a DefectDojo user searches findings by (vulnerability id, title, component, file path, first and
 * last seen), list totals and ordering, ids beyond 2^53, and a person's triage in a finding's history.
 */

let api: TestApi;
let testId: string;
let productId: string;

/** 2^53 + 1: the first integer a JSON number (a double) cannot hold, so it would come back as ...992. */
const BIG_ID = '9007199254740993';

interface Shown {
  id: string;
  title: string;
  vulnerabilityIds: string[] | null;
  componentName: string | null;
  filePath: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
}

const day = (n: number) => new Date(Date.UTC(2030, 0, n));

beforeAll(async () => {
  api = await startTestApi();
  const seeded = await seedFindings(api.orm, { connectorId: null, productName: 'Search', count: 0 });
  testId = seeded.testId;
  productId = seeded.productId;
  const em = api.orm.em.fork();
  const rows: Partial<Finding>[] = [
    { title: 'Log4Shell in logging', vulnerabilityIds: ['CVE-2021-44228', 'GHSA-jfh8-c2jp-5v3q'], componentName: 'org.apache.logging.log4j:log4j-core', filePath: 'services/api/pom.xml' },
    { title: 'Spring4Shell', vulnerabilityIds: ['CVE-2022-22965'], componentName: 'org.springframework:spring-beans', filePath: 'services/web/pom.xml' },
    { title: 'SQL injection in ORDER BY', vulnerabilityIds: null, componentName: null, filePath: 'src/db/query.ts' },
    { title: '100% CPU on crafted input', vulnerabilityIds: ['CVE-2021-44228-extra'], componentName: 'left_pad', filePath: 'src/pad_utils.js' },
    { title: 'log4j again, other product', vulnerabilityIds: ['CVE-2021-4104'], componentName: 'log4j:log4j', filePath: null },
  ];
  rows.forEach((row, i) =>
    em.create(Finding, { test: testId, severity: 'High', uniqueIdFromTool: `search-${i}`, ...row, firstSeenAt: day(i + 1), lastSeenAt: day(i + 10), createdAt: day(i + 1) } as never),
  );
  await em.flush();
});

afterAll(async () => {
  await api?.close();
});

async function list(query: string): Promise<{ items: Shown[]; nextCursor: string | null; count?: number }> {
  const res = await api.call('GET', `/api/v1/findings?testId=${testId}&${query}`);
  expect(res.status).toBe(200);
  return res.body;
}

const titles = async (query: string) => (await list(query)).items.map((f) => f.title);

describe('finding filters', () => {
  test('vulnerabilityId matches one of the ids exactly, never a prefix', async () => {
    expect(await titles('vulnerabilityId=CVE-2021-44228')).toEqual(['Log4Shell in logging']);
    expect(await titles('vulnerabilityId=GHSA-jfh8-c2jp-5v3q')).toEqual(['Log4Shell in logging']);
    expect(await titles('vulnerabilityId=CVE-2021-4422')).toEqual([]);
  });

  test('title, component and filePath match a part of the value, case-insensitively; % and _ are literal', async () => {
    expect(await titles('title=shell')).toEqual(['Log4Shell in logging', 'Spring4Shell']);
    expect(await titles('title=LOG4J')).toEqual(['log4j again, other product']);
    expect(await titles(`title=${encodeURIComponent('100%')}`)).toEqual(['100% CPU on crafted input']);
    expect(await titles(`title=${encodeURIComponent('%')}`)).toEqual(['100% CPU on crafted input']);
    expect(await titles('component=log4j')).toEqual(['Log4Shell in logging', 'log4j again, other product']);
    expect(await titles('component=SPRING')).toEqual(['Spring4Shell']);
    expect(await titles('component=left_pad')).toEqual(['100% CPU on crafted input']);
    expect(await titles('component=left%5Fpad')).toEqual(['100% CPU on crafted input']);
    expect(await titles('component=g_j')).toEqual([]);
    expect(await titles('filePath=pom.xml')).toEqual(['Log4Shell in logging', 'Spring4Shell']);
    expect(await titles('filePath=src/')).toEqual(['SQL injection in ORDER BY', '100% CPU on crafted input']);
    expect(await titles('filePath=pom.xml&component=spring')).toEqual(['Spring4Shell']);
  });

  test('first seen and last seen: after is inclusive, before is exclusive', async () => {
    expect(await titles(`firstSeenAfter=${day(4).toISOString()}`)).toEqual(['100% CPU on crafted input', 'log4j again, other product']);
    expect(await titles(`firstSeenBefore=${day(2).toISOString()}`)).toEqual(['Log4Shell in logging']);
    expect(await titles(`firstSeenAfter=${day(2).toISOString()}&firstSeenBefore=${day(4).toISOString()}`)).toEqual(['Spring4Shell', 'SQL injection in ORDER BY']);
    expect(await titles(`lastSeenAfter=${day(14).toISOString()}`)).toEqual(['log4j again, other product']);
    expect(await titles(`lastSeenBefore=${day(11).toISOString()}`)).toEqual(['Log4Shell in logging']);
  });

  test("last seen follows the latest import of the finding's Record, as the finding shows it", async () => {
    const em = api.orm.em.fork();
    const recordId = crypto.randomUUID();
    const counts = { Critical: 0, High: 1, Medium: 0, Low: 0, Info: 0 };
    const seen = em.create(Finding, { test: testId, recordId, severity: 'Low', title: 'seen by a later import', uniqueIdFromTool: 'later', firstSeenAt: day(1), lastSeenAt: day(1) } as never);
    em.create(Import, { test: testId, recordId, fetchId: crypto.randomUUID(), untouched: 1, severityBefore: counts, severityAfter: counts, settings: {}, createdAt: day(20) });
    await em.flush();
    const shown = (await list('title=later')).items[0]!;
    expect(shown.lastSeenAt).toBe(day(20).toISOString());
    expect(await titles(`lastSeenAfter=${day(20).toISOString()}`)).toEqual(['seen by a later import']);
    expect(await titles(`lastSeenBefore=${day(2).toISOString()}`)).toEqual([]);
    await em.nativeDelete(Finding, { id: seen.id });
  });

  test('filters are validated: a bad date or an empty text is a 400 naming the parameter', async () => {
    const badDate = await api.call('GET', '/api/v1/findings?firstSeenAfter=2030-02-30T00:00:00Z');
    expect(badDate.status).toBe(400);
    expect(badDate.body.error.message).toContain('query.firstSeenAfter');
    const empty = await api.call('GET', '/api/v1/findings?title=');
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toContain('query.title');
  });
});

describe('ordering and totals', () => {
  test('ordering by title both ways pages through every finding once, in order', async () => {
    const everyTitle = async (ordering: string) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: Shown[]; nextCursor: string | null } = await list(`ordering=${ordering}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((f) => f.title));
        cursor = page.nextCursor;
      } while (cursor);
      return seen;
    };
    const all = await titles('limit=500');
    const ascending = await everyTitle('title');
    expect([...ascending].sort()).toEqual([...all].sort());
    expect(new Set(ascending).size).toBe(all.length);
    const byDatabase = (await api.orm.em.fork().find(Finding, { test: testId }, { orderBy: { title: 'asc', id: 'asc' } })).map((f) => f.title);
    expect(ascending).toEqual(byDatabase);
    expect(await everyTitle('-title')).toEqual([...byDatabase].reverse());
    expect(await everyTitle('-firstSeenAt')).toEqual(['log4j again, other product', '100% CPU on crafted input', 'SQL injection in ORDER BY', 'Spring4Shell', 'Log4Shell in logging']);
  });

  test('a cursor of one ordering is refused by another', async () => {
    const page = await list('ordering=title&limit=1');
    expect(page.nextCursor).not.toBeNull();
    const other = await api.call('GET', `/api/v1/findings?testId=${testId}&ordering=-title&limit=1&cursor=${encodeURIComponent(page.nextCursor!)}`);
    expect(other.status).toBe(400);
    expect(other.body.error.code).toBe('INVALID_CURSOR');
  });

  test('an unknown ordering field is a 400 naming it', async () => {
    const res = await api.call('GET', '/api/v1/findings?ordering=-severityy');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('"-severityy"');
    expect(res.body.error.details.issues[0]).toMatchObject({ in: 'query', path: ['ordering'] });
  });

  test('count=true answers the number of matches on every page; without it there is no count', async () => {
    const first = await list('count=true&limit=2&component=log4j');
    expect(first.count).toBe(2);
    expect(first.items).toHaveLength(2);
    const all = await list('count=true&limit=1');
    expect(all.count).toBe(5);
    const second = await list(`count=true&limit=1&cursor=${encodeURIComponent(all.nextCursor!)}`);
    expect(second.count).toBe(5);
    expect(await list('limit=1')).not.toHaveProperty('count');
    expect((await api.call('GET', '/api/v1/findings?count=yes')).status).toBe(400);
  });

  test('operations: count and ordering, newest first by default', async () => {
    const em = api.orm.em.fork();
    const statuses = ['succeeded', 'failed', 'partial'] as const;
    const ids = statuses.map(() => crypto.randomUUID());
    for (const [i, status] of statuses.entries()) {
      await em.execute(`insert into operation (id, type, trigger, status, created_at, workflow_id) values (?, 'discover', 'manual', ?, ?, ?)`, [
        ids[i],
        status,
        day(i + 1),
        `order-${i}`,
      ]);
    }
    const newest = await api.call('GET', '/api/v1/operations?count=true');
    expect(newest.body.count).toBe(3);
    expect(newest.body.items.map((op: { id: string }) => op.id)).toEqual([...ids].reverse());
    const oldest = await api.call('GET', '/api/v1/operations?ordering=createdAt');
    expect(oldest.body.items.map((op: { id: string }) => op.id)).toEqual(ids);
    const byStatus = await api.call('GET', '/api/v1/operations?ordering=status&limit=2');
    expect(byStatus.body.items.map((op: { status: string }) => op.status)).toEqual(['failed', 'partial']);
    const rest = await api.call('GET', `/api/v1/operations?ordering=status&limit=2&cursor=${encodeURIComponent(byStatus.body.nextCursor)}`);
    expect(rest.body).toEqual({ items: [expect.objectContaining({ status: 'succeeded' })], nextCursor: null });
    expect((await api.call('GET', '/api/v1/operations?count=true&status=failed')).body.count).toBe(1);
    const unknown = await api.call('GET', '/api/v1/operations?ordering=endedAt');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('"endedAt"');
  });
});

describe('finding ids beyond 2^53', () => {
  beforeAll(async () => {
    const em = api.orm.em.fork();
    em.create(Finding, { id: BIG_ID, test: testId, severity: 'Medium', title: 'a finding with a 16-digit id', uniqueIdFromTool: 'big' } as never);
    await em.flush();
  });

  test('GET and PATCH answer the id as itself, as a string', async () => {
    const got = await api.call('GET', `/api/v1/findings/${BIG_ID}`);
    expect(got.status).toBe(200);
    expect(got.body.id).toBe(BIG_ID);
    expect(got.text).toContain(`"id":"${BIG_ID}"`);
    // The neighbour a double would round to does not exist.
    expect((await api.call('GET', '/api/v1/findings/9007199254740992')).status).toBe(404);

    const patched = await api.call('PATCH', `/api/v1/findings/${BIG_ID}`, { body: { riskAccepted: true } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: BIG_ID, riskAccepted: true, active: false });
    const row = await api.orm.em.fork().findOneOrFail(Finding, { id: BIG_ID });
    expect(row.riskAccepted).toBe(true);

    const history = await api.call('GET', `/api/v1/findings/${BIG_ID}/history`);
    expect(history.body.items).toEqual([expect.objectContaining({ findingId: BIG_ID, action: 'triaged' })]);
  });

  test('lists show it and page past it by id', async () => {
    const page = await list('ordering=-id&limit=1');
    expect(page.items[0]!.id).toBe(BIG_ID);
    const next = await list(`ordering=-id&limit=1&cursor=${encodeURIComponent(page.nextCursor!)}`);
    expect(BigInt(next.items[0]!.id) < BigInt(BIG_ID)).toBe(true);
    expect((await list(`productId=${productId}&title=16-digit`)).items.map((f) => f.id)).toEqual([BIG_ID]);
  });

  test('an id beyond bigint, or not a number, is a 400, never a 500', async () => {
    expect((await api.call('GET', '/api/v1/findings/9223372036854775808')).status).toBe(400);
    expect((await api.call('GET', '/api/v1/findings/9223372036854775807')).status).toBe(404);
    expect((await api.call('GET', '/api/v1/findings/1e3')).status).toBe(400);
    expect((await api.call('GET', '/api/v1/findings/0')).status).toBe(400);
  });
});

describe("a person's triage in the finding's history", () => {
  test('is written beside the import actions, oldest first, with who, what changed and when', async () => {
    const { findingIds, testId: ownTest } = await seedFindings(api.orm, { connectorId: null, productName: 'History', count: 1 });
    const findingId = findingIds[0]!;
    const em = api.orm.em.fork();
    const counts = { Critical: 0, High: 1, Medium: 0, Low: 0, Info: 0 };
    const imported = em.create(Import, { test: ownTest, fetchId: crypto.randomUUID(), created: 1, severityBefore: counts, severityAfter: counts, settings: {} });
    em.create(FindingAction, { import: imported, finding: findingId, action: 'created' });
    await em.flush();

    const operator = await createApiToken(api.orm.em.fork(), { name: 'alice (appsec)', scope: 'operate' });
    const before = Date.now();
    expect((await api.call('PATCH', `/api/v1/findings/${findingId}`, { body: { falsePositive: true }, token: operator.token })).status).toBe(200);
    // The same triage again changes nothing, so it adds nothing to the history.
    expect((await api.call('PATCH', `/api/v1/findings/${findingId}`, { body: { falsePositive: true }, token: operator.token })).status).toBe(200);
    expect((await api.call('PATCH', `/api/v1/findings/${findingId}`, { body: { falsePositive: false, severity: 'Low' } })).status).toBe(200);

    const history = await api.call('GET', `/api/v1/findings/${findingId}/history`);
    expect(history.status).toBe(200);
    expect(history.body.items).toEqual([
      { findingId, importId: imported.id, action: 'created', actor: null, changes: null, createdAt: expect.any(String) },
      {
        findingId,
        importId: null,
        action: 'triaged',
        actor: { tokenId: operator.row.id, name: 'alice (appsec)' },
        changes: { falsePositive: { from: false, to: true }, active: { from: true, to: false } },
        createdAt: expect.any(String),
      },
      {
        findingId,
        importId: null,
        action: 'triaged',
        actor: { tokenId: expect.any(String), name: 'api-test' },
        changes: { falsePositive: { from: true, to: false }, severity: { from: 'High', to: 'Low' }, active: { from: false, to: true } },
        createdAt: expect.any(String),
      },
    ]);
    expect(Date.parse(history.body.items[1].createdAt)).toBeGreaterThanOrEqual(before - 1000);

    // An import's own actions are unaffected: the import's list shows only what it did.
    const actions = await api.call('GET', `/api/v1/imports/${imported.id}/actions?count=true`);
    expect(actions.body).toMatchObject({ count: 1, items: [expect.objectContaining({ action: 'created' })] });
  });
});
