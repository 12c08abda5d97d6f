import type { MikroORM } from '@mikro-orm/postgresql';
import type { NormalizedFinding } from '../../src/connectors/types.js';
import type { MatchingAlgorithm, Severity } from '../../src/domain.js';
import { applyReimportSql } from '../../src/reimport/apply-reimport.js';
import { canonicalHashInput, computeHashCode } from '../../src/reimport/hash.js';
import { stageFindingsPage } from '../../src/reimport/staging.js';
import { createTestDatabase } from '../support/database.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let orm: MikroORM;

beforeAll(async () => {
  db = await createTestDatabase();
  orm = db.orm as MikroORM;
});
afterAll(async () => {
  await db.drop();
});

interface Fixture {
  testId: string;
  recordId: string;
}

async function newTest(): Promise<Fixture> {
  const em = orm.em.fork();
  const [c] = await em.execute(
    `insert into connector (id, tool, label, location, secret_encrypted, settings, created_at, updated_at)
     values (gen_random_uuid(), 'dependency_track', gen_random_uuid()::text, 'http://tool', 'sealed', '{}', now(), now()) returning id`,
  );
  const [p] = await em.execute(`insert into product (id, name, created_at) values (gen_random_uuid(), gen_random_uuid()::text, now()) returning id`);
  const [e] = await em.execute(`insert into engagement (id, product_id, name, created_at) values (gen_random_uuid(), ?, 'Global Connectors', now()) returning id`, [p!.id]);
  const [t] = await em.execute(
    `insert into test (id, engagement_id, connector_id, tool, title, created_at) values (gen_random_uuid(), ?, ?, 'dependency_track', 'T', now()) returning id`,
    [e!.id, c!.id],
  );
  const [r] = await em.execute(
    `insert into tool_record (id, connector_id, external_id, name, state, first_discovered_at, last_discovered_at)
     values (gen_random_uuid(), ?, 'p1', 'p1', 'good', now(), now()) returning id`,
    [c!.id],
  );
  return { testId: t!.id, recordId: r!.id };
}

const item = (key: string, over: Partial<NormalizedFinding> = {}): NormalizedFinding => ({
  title: `Finding ${key}`,
  severity: 'High',
  componentName: `comp-${key}`,
  componentVersion: '1.0.0',
  vulnerabilityIds: [`CVE-2024-${key}`],
  uniqueIdFromTool: `uid-${key}`,
  raw: { key },
  ...over,
});

async function sync(
  fx: Fixture,
  findings: NormalizedFinding[],
  options: { matching?: MatchingAlgorithm; minSeverity?: Severity; fetchId?: string } = {},
) {
  const em = orm.em.fork();
  const fetchId = options.fetchId ?? crypto.randomUUID();
  await em.execute(
    `insert into sync_fetch (id, record_id, status, pages, item_count, created_at) values (?, ?, 'fetched', 0, 0, now()) on conflict do nothing`,
    [fetchId, fx.recordId],
  );
  if (!options.fetchId) {
    await stageFindingsPage(em, { fetchId, page: 0, findings, hashFields: ['componentName', 'componentVersion', 'vulnerabilityIds'], cursor: null });
  }
  return applyReimportSql(em, {
    importId: crypto.randomUUID(),
    fetchId,
    testId: fx.testId,
    operationId: null,
    matching: options.matching ?? 'hash_code',
    minSeverity: options.minSeverity ?? 'Info',
    now: new Date(),
  });
}

async function findings(fx: Fixture) {
  return orm.em.fork().execute<
    { id: number; title: string; severity: string; active: boolean; is_mitigated: boolean; false_p: boolean; risk_accepted: boolean; component_name: string; unique_id_from_tool: string }[]
  >('select * from finding where test_id = ? order by id', [fx.testId]);
}

const counts = (c: Partial<Record<'created' | 'closed' | 'reactivated' | 'untouched' | 'updated', number>>) => ({
  created: 0,
  closed: 0,
  reactivated: 0,
  untouched: 0,
  updated: 0,
  ...c,
});

describe('canonical hash', () => {
  it('is insensitive to case, surrounding space and list order, and tells null from "None"', () => {
    const fields = ['componentName', 'vulnerabilityIds'] as const;
    expect(computeHashCode({ componentName: ' Lodash ', vulnerabilityIds: ['b', 'A'] }, fields)).toBe(
      computeHashCode({ componentName: 'lodash', vulnerabilityIds: ['a', 'b'] }, fields),
    );
    expect(computeHashCode({ componentName: null }, fields)).not.toBe(computeHashCode({ componentName: 'None' }, fields));
    expect(computeHashCode({ componentName: null }, fields)).not.toBe(computeHashCode({ componentName: 'null' }, fields));
    expect(canonicalHashInput({ componentName: 'a|b', vulnerabilityIds: null }, fields)).not.toBe(
      canonicalHashInput({ componentName: 'a', vulnerabilityIds: ['b'] }, fields),
    );
  });
});

describe('applyReimport (SPEC §4 outcomes)', () => {
  it('creates what is new, collapsing duplicate incoming items and dropping those below min severity', async () => {
    const fx = await newTest();
    const result = await sync(fx, [item('1'), item('2'), item('2'), item('3', { severity: 'Low' })], { minSeverity: 'Medium' });
    expect(result.counts).toEqual(counts({ created: 2 }));
    expect((await findings(fx)).map((f) => f.component_name)).toEqual(['comp-1', 'comp-2']);
    expect(result.severityAfter.High).toBe(2);
    expect(result.severityBefore.High).toBe(0);
  });

  it('keeps open findings untouched, refreshes changed tool fields as updated, closes what is gone', async () => {
    const fx = await newTest();
    await sync(fx, [item('1'), item('2'), item('3')]);
    const result = await sync(fx, [item('1'), item('2', { severity: 'Critical', description: 'now worse' })]);
    expect(result.counts).toEqual(counts({ untouched: 1, updated: 1, closed: 1 }));
    const rows = await findings(fx);
    expect(rows.map((f) => [f.component_name, f.severity, f.active, f.is_mitigated])).toEqual([
      ['comp-1', 'High', true, false],
      ['comp-2', 'Critical', true, false],
      ['comp-3', 'High', false, true],
    ]);
  });

  it('reactivates a finding that a previous sync closed', async () => {
    const fx = await newTest();
    await sync(fx, [item('1'), item('2')]);
    await sync(fx, [item('1')]);
    const result = await sync(fx, [item('1'), item('2')]);
    expect(result.counts).toEqual(counts({ untouched: 1, reactivated: 1 }));
    expect((await findings(fx)).every((f) => f.active && !f.is_mitigated)).toBe(true);
  });

  it("never changes a person's triage, whether the tool reports the finding or not", async () => {
    const fx = await newTest();
    await sync(fx, [item('1'), item('2')]);
    const [first, second] = await findings(fx);
    await orm.em.fork().execute('update finding set false_p = true, active = false, triaged_by_person = true where id = ?', [first!.id]);
    await orm.em.fork().execute('update finding set risk_accepted = true, active = false, triaged_by_person = true where id = ?', [second!.id]);
    const present = await sync(fx, [item('1', { severity: 'Critical' })]);
    expect(present.counts).toEqual(counts({ untouched: 1 }));
    const rows = await findings(fx);
    expect(rows.map((f) => [f.severity, f.false_p, f.risk_accepted, f.active, f.is_mitigated])).toEqual([
      ['High', true, false, false, false],
      ['High', false, true, false, false],
    ]);
  });

  it('keeps the oldest of several matching findings and closes the others', async () => {
    const fx = await newTest();
    await sync(fx, [item('1', { uniqueIdFromTool: 'a' }), item('2', { uniqueIdFromTool: 'b', componentName: 'comp-1', vulnerabilityIds: ['CVE-2024-1'] })], {
      matching: 'unique_id_from_tool',
    });
    expect(await findings(fx)).toHaveLength(2);
    const result = await sync(fx, [item('1')], { matching: 'hash_code' });
    expect(result.counts).toEqual(counts({ untouched: 1, closed: 1 }));
    const rows = await findings(fx);
    expect(rows.map((f) => [f.unique_id_from_tool, f.active])).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });

  it('with unique_id_from_tool, an incoming item without a tool id never matches', async () => {
    const fx = await newTest();
    await sync(fx, [item('1', { uniqueIdFromTool: null })], { matching: 'unique_id_from_tool' });
    const result = await sync(fx, [item('1', { uniqueIdFromTool: null })], { matching: 'unique_id_from_tool' });
    expect(result.counts).toEqual(counts({ created: 1, closed: 1 }));
  });

  it('with unique_id_or_hash, either identity matches', async () => {
    const fx = await newTest();
    await sync(fx, [item('1'), item('2')], { matching: 'unique_id_or_hash' });
    const result = await sync(fx, [item('1', { componentVersion: '2.0.0' }), item('2', { uniqueIdFromTool: 'renamed' })], { matching: 'unique_id_or_hash' });
    expect(result.counts).toEqual(counts({ untouched: 2 }));
  });

  it('a tool-reported triage creates an inactive finding', async () => {
    const fx = await newTest();
    await sync(fx, [item('1', { falseP: true }), item('2', { riskAccepted: true })]);
    expect((await findings(fx)).map((f) => [f.active, f.false_p, f.risk_accepted])).toEqual([
      [false, true, false],
      [false, false, true],
    ]);
  });

  it('raising min severity closes what now falls below it', async () => {
    const fx = await newTest();
    await sync(fx, [item('1'), item('2', { severity: 'Low' })]);
    const result = await sync(fx, [item('1'), item('2', { severity: 'Low' })], { minSeverity: 'Medium' });
    expect(result.counts).toEqual(counts({ untouched: 1, closed: 1 }));
  });

  it('a fetch that returned zero findings closes everything open in the test', async () => {
    const fx = await newTest();
    await sync(fx, [item('1'), item('2')]);
    const result = await sync(fx, []);
    expect(result.counts).toEqual(counts({ closed: 2 }));
  });

  it('applying the same fetch twice changes nothing the second time', async () => {
    const fx = await newTest();
    await sync(fx, [item('1'), item('2')]);
    const fetchId = crypto.randomUUID();
    const em = orm.em.fork();
    await em.execute(`insert into sync_fetch (id, record_id, status, pages, item_count, created_at) values (?, ?, 'fetched', 0, 0, now())`, [fetchId, fx.recordId]);
    await stageFindingsPage(em, { fetchId, page: 0, findings: [item('1')], hashFields: ['componentName', 'componentVersion', 'vulnerabilityIds'], cursor: null });
    const first = await sync(fx, [], { fetchId });
    const before = await findings(fx);
    const second = await sync(fx, [], { fetchId });
    expect(first.counts).toEqual(counts({ untouched: 1, closed: 1 }));
    expect(second.alreadyApplied).toBe(true);
    expect(second.importId).toBe(first.importId);
    expect(await findings(fx)).toEqual(before);
    const [row] = await orm.em.fork().execute<{ n: number }[]>('select count(*)::int as n from finding_import where fetch_id = ?', [fetchId]);
    expect(row?.n).toBe(1);
  });

  it('records one action per touched finding', async () => {
    const fx = await newTest();
    await sync(fx, [item('1'), item('2')]);
    const result = await sync(fx, [item('1'), item('3')]);
    const actions = await orm.em.fork().execute<{ action: string; component_name: string }[]>(
      `select a.action, f.component_name from finding_action a join finding f on f.id = a.finding_id where a.import_id = ? order by f.component_name`,
      [result.importId],
    );
    expect(actions.map((a) => [a.component_name, a.action])).toEqual([
      ['comp-1', 'untouched'],
      ['comp-2', 'closed'],
      ['comp-3', 'created'],
    ]);
  });
});
