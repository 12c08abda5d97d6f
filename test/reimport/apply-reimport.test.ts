import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { applyTriage } from '../../src/api/routes/findings.js';
import { toFindingView } from '../../src/api/views.js';
import type { HashField, NormalizedFinding } from '../../src/connectors/types.js';
import { Finding } from '../../src/db/entities.js';
import type { MatchingAlgorithm, Severity } from '../../src/domain.js';
import { applyReimportSql } from '../../src/reimport/apply-reimport.js';
import { sweepFetches } from '../../src/reimport/staging.js';
import { canonicalHashInput, computeHashCode } from '../../src/reimport/hash.js';
import { createReimportDatabase, HASH_FIELDS, type ReimportDatabase, type ReimportTarget } from './reimport-target.js';

let db: ReimportDatabase;
let orm: MikroORM;

beforeAll(async () => {
  db = await createReimportDatabase();
  orm = db.orm;
});
afterAll(async () => {
  await db.drop();
});

const newTest = (): Promise<ReimportTarget> => db.createTarget();

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
  fx: ReimportTarget,
  findings: NormalizedFinding[],
  options: { matching?: MatchingAlgorithm; minSeverity?: Severity; fetchId?: string; now?: Date; hashFields?: readonly HashField[] } = {},
) {
  const fetchId = await db.createFetch(fx, options.fetchId);
  if (!options.fetchId) await db.stagePage({ fetchId, page: 0, findings, hashFields: options.hashFields ?? HASH_FIELDS });
  return applyReimportSql(orm.em.fork(), {
    importId: crypto.randomUUID(),
    fetchId,
    testId: fx.testId,
    operationId: null,
    matching: options.matching ?? 'hash_code',
    minSeverity: options.minSeverity ?? 'Info',
    now: options.now ?? new Date(),
  });
}

async function findings(fx: ReimportTarget) {
  return orm.em.fork().execute<
    {
      id: number;
      title: string;
      severity: string;
      description: string | null;
      active: boolean;
      is_mitigated: boolean;
      mitigated_at: Date | null;
      false_p: boolean;
      risk_accepted: boolean;
      component_name: string;
      unique_id_from_tool: string;
      last_seen_at: Date;
    }[]
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
    const fetchId = await db.createFetch(fx);
    await db.stagePage({ fetchId, page: 0, findings: [item('1')], hashFields: HASH_FIELDS });
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

  it.each([
    ['a staged row is gone', `delete from staged_finding where id = (select min(id) from staged_finding where fetch_id = ?)`],
    ['every staged row is gone (unlogged staging after a crash)', `delete from staged_finding where fetch_id = ?`],
    ['a row sits on a page the fetch never committed', `update staged_finding set page = 7 where id = (select min(id) from staged_finding where fetch_id = ?)`],
  ])('never applies a fetch whose staging is not exactly its pages and items (%s): it is reset to fetch again', async (_case, damage) => {
    const fx = await newTest();
    await sync(fx, [item('1'), item('2'), item('3')]);
    const before = await findings(fx);
    const fetchId = await db.createFetch(fx);
    await db.stagePage({ fetchId, page: 0, findings: [item('1'), item('2'), item('3')], hashFields: HASH_FIELDS });
    await orm.em.fork().execute(damage, [fetchId]);

    const result = await sync(fx, [], { fetchId });
    expect(result.stagingIncomplete).toMatchObject({ expectedItems: 3, expectedPages: 1 });
    expect(await findings(fx)).toEqual(before);
    const em = orm.em.fork();
    expect(await em.execute('select 1 from finding_import where fetch_id = ?', [fetchId])).toHaveLength(0);
    const [fetch] = await em.execute('select status, pages, item_count, cursor from sync_fetch where id = ?', [fetchId]);
    expect(fetch).toEqual({ status: 'fetching', pages: 0, item_count: 0, cursor: null });
    expect(await em.execute('select 1 from staged_finding where fetch_id = ?', [fetchId])).toHaveLength(0);

    // Fetched again in full, it applies: nothing closed that the tool still reports.
    await db.stagePage({ fetchId, page: 0, findings: [item('1'), item('2'), item('3')], hashFields: HASH_FIELDS });
    expect((await sync(fx, [], { fetchId })).counts).toEqual(counts({ untouched: 3 }));
  });

  it("matches and closes only the findings of the fetch's own Record, in a Test other Records share", async () => {
    const fx = await newTest();
    const [other] = await orm.em.fork().execute<{ id: string }[]>(
      `insert into tool_record (id, connector_id, external_id, name, state, first_discovered_at, last_discovered_at)
       select gen_random_uuid(), connector_id, 'p2', 'p2', 'good', now(), now() from tool_record where id = ? returning id`,
      [fx.recordId],
    );
    const fy: ReimportTarget = { testId: fx.testId, recordId: other!.id };
    expect((await sync(fx, [item('1'), item('2')])).counts).toEqual(counts({ created: 2 }));
    expect((await sync(fy, [item('1')])).counts).toEqual(counts({ created: 1 }));
    expect((await sync(fx, [item('2')])).counts).toEqual(counts({ untouched: 1, closed: 1 }));
    expect((await sync(fy, [])).counts).toEqual(counts({ closed: 1 }));
    const rows = await orm.em.fork().execute<{ record_id: string; component_name: string; active: boolean }[]>(
      'select record_id, component_name, active from finding where test_id = ? order by id',
      [fx.testId],
    );
    expect(rows).toEqual([
      { record_id: fx.recordId, component_name: 'comp-1', active: false },
      { record_id: fx.recordId, component_name: 'comp-2', active: true },
      { record_id: fy.recordId, component_name: 'comp-1', active: false },
    ]);
  });

  it('cleans or clamps what PostgreSQL cannot hold, rejects only items it cannot keep, and syncs the rest of the record', async () => {
    const fx = await newTest();
    const nul = String.fromCharCode(0);
    const lone = '\uD800';
    const hostile: NormalizedFinding[] = [
      item('nul', { title: `a${nul}b`, componentName: `comp${nul}-nul`, raw: { [`k${nul}ey`]: `v${nul}al`, nested: [`x${lone}`] } }),
      item('surrogate', { title: `t${lone}itle`, description: `d${lone}`, raw: { s: `${lone}` } }),
      item('numbers', { cvssScore: 1e308, line: 2 ** 40, cwes: [79, 2 ** 40, -1, 1.5] }),
      item('long', { title: 'x'.repeat(1_000_000), uniqueIdFromTool: 'u'.repeat(5_000), cvssVector: 'C'.repeat(1_000), filePath: 'p'.repeat(10_000) }),
      item('untitled', { title: '  ' }),
      item('weird', { severity: 'Catastrophic' as Severity }),
    ];
    const result = await sync(fx, hostile, { matching: 'unique_id_from_tool' });
    expect(result.counts).toEqual(counts({ created: 4 }));
    const [imp] = await orm.em.fork().execute('select rejected, rejected_reasons from finding_import where id = ?', [result.importId]);
    expect(imp).toEqual({ rejected: 2, rejected_reasons: { 'no title': 1, 'unknown severity "Catastrophic"': 1 } });

    const rows = await orm.em.fork().execute<any[]>(
      'select title, description, component_name, cvss_score, line, cwes, cvss_vector, unique_id_from_tool, length(file_path) as path_length, raw from finding where test_id = ? order by id',
      [fx.testId],
    );
    expect(rows[0]).toMatchObject({ title: 'ab', component_name: 'comp-nul', raw: { key: 'val', nested: ['x\uFFFD'] } });
    expect(rows[1]).toMatchObject({ title: 't\uFFFDitle', description: 'd\uFFFD', raw: { s: '\uFFFD' } });
    expect(rows[2]).toMatchObject({ cvss_score: null, line: null, cwes: [79] });
    expect(rows[3].title).toHaveLength(1_000);
    expect(rows[3].cvss_vector).toHaveLength(255);
    expect(rows[3].path_length).toBe(4_096);
    expect(rows[3].unique_id_from_tool).toMatch(/^sha256:[0-9a-f]{64}$/);

    // The same hostile answer the next day: everything matches, nothing is created twice or closed.
    expect((await sync(fx, hostile, { matching: 'unique_id_from_tool' })).counts).toEqual(counts({ untouched: 4 }));
  });

  it('sweeps fetches and their staged rows once they are older than the retention, applied or not', async () => {
    const fx = await newTest();
    const old = await db.createFetch(fx);
    await db.stagePage({ fetchId: old, page: 0, findings: [item('1')], hashFields: HASH_FIELDS });
    const recent = await db.createFetch(fx);
    await db.stagePage({ fetchId: recent, page: 0, findings: [item('2')], hashFields: HASH_FIELDS });
    const em = orm.em.fork();
    await em.execute(`update sync_fetch set created_at = now() - interval '3 days', fetched_at = null where id = ?`, [old]);
    const pool = new pg.Pool({ connectionString: orm.config.get('clientUrl') });
    try {
      expect(await sweepFetches(pool, new Date(Date.now() - 48 * 3_600_000))).toBe(1);
    } finally {
      await pool.end();
    }
    expect(await em.execute('select id from sync_fetch where id in (?, ?)', [old, recent])).toEqual([{ id: recent }]);
    expect(await em.execute('select fetch_id from staged_finding where fetch_id in (?, ?)', [old, recent])).toEqual([{ fetch_id: recent }]);
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

  it('refreshes the fields a person did not edit and keeps the ones they did', async () => {
    const fx = await newTest();
    await sync(fx, [item('1', { description: 'from the tool' })]);
    const [finding] = await findings(fx);
    await orm.em.fork().execute(`update finding set severity = 'Low', person_edited_fields = '["severity"]' where id = ?`, [finding!.id]);
    const result = await sync(fx, [item('1', { severity: 'Critical', description: 'rewritten by the tool' })]);
    expect(result.counts).toEqual(counts({ updated: 1 }));
    expect((await findings(fx)).map((f) => [f.severity, f.description])).toEqual([['Low', 'rewritten by the tool']]);
    const again = await sync(fx, [item('1', { severity: 'Info', description: 'rewritten by the tool' })]);
    expect(again.counts).toEqual(counts({ untouched: 1 }));
  });

  it('shows as last sighting the last sync that reported the finding, also once it is closed or triaged', async () => {
    const fx = await newTest();
    const at = (day: number) => new Date(Date.UTC(2026, 0, day));
    await sync(fx, [item('1'), item('2')], { now: at(1) });
    const unchanged = await sync(fx, [item('1'), item('2')], { now: at(2) });
    expect(unchanged.counts).toEqual(counts({ untouched: 2 }));
    const lastSeen = async () => {
      const shown = await orm.em.fork().find(Finding, { test: fx.testId }, { populate: ['test'], orderBy: { id: 'asc' } });
      return shown.map((f) => toFindingView(f).lastSeenAt);
    };
    expect(await lastSeen()).toEqual([at(2).toISOString(), at(2).toISOString()]);

    const em = orm.em.fork();
    applyTriage(await em.findOneOrFail(Finding, { test: fx.testId, uniqueIdFromTool: 'uid-2' }, { populate: ['test'] }), { falsePositive: true });
    await em.flush();
    await sync(fx, [], { now: at(3) });
    // The first closed on day 3 and the second was triaged; both were last reported on day 2.
    expect({ 'after one closed and the other was triaged': await lastSeen() }).toEqual({
      'after one closed and the other was triaged': [at(2).toISOString(), at(2).toISOString()],
    });
  });

  it('of duplicate incoming items, the first fetched is the one kept', async () => {
    const fx = await newTest();
    await sync(fx, [item('1', { severity: 'Low', description: 'first' }), item('1', { severity: 'Critical', description: 'second' })]);
    expect((await findings(fx)).map((f) => [f.severity, f.description])).toEqual([['Low', 'first']]);
  });

  it('with hash_code, an incoming item without a hash code (a tool that hashes nothing) never matches', async () => {
    const fx = await newTest();
    await sync(fx, [item('1')], { hashFields: [] });
    const result = await sync(fx, [item('1')], { hashFields: [] });
    expect(result.counts).toEqual(counts({ created: 1, closed: 1 }));
  });

  it('makes a finding the tool had triaged active again when the tool reports it open (updated)', async () => {
    const fx = await newTest();
    await sync(fx, [item('1', { falseP: true })]);
    const result = await sync(fx, [item('1')]);
    expect(result.counts).toEqual(counts({ updated: 1 }));
    expect((await findings(fx)).map((f) => [f.active, f.false_p, f.is_mitigated])).toEqual([[true, false, false]]);
    const triagedAgain = await sync(fx, [item('1', { riskAccepted: true })]);
    expect(triagedAgain.counts).toEqual(counts({ updated: 1 }));
    expect((await findings(fx)).map((f) => [f.active, f.risk_accepted, f.is_mitigated])).toEqual([[false, true, false]]);
  });

  it('closes a finding the tool had triaged once the tool no longer reports it (SPEC §2: not current, so closed)', async () => {
    const fx = await newTest();
    await sync(fx, [item('1', { falseP: true }), item('2')]);
    const result = await sync(fx, [item('2')]);
    expect(result.counts).toEqual(counts({ closed: 1, untouched: 1 }));
    expect((await findings(fx)).map((f) => [f.component_name, f.active, f.is_mitigated, f.mitigated_at !== null, f.false_p])).toEqual([
      ['comp-1', false, true, true, true],
      ['comp-2', true, false, false, false],
    ]);
    const back = await sync(fx, [item('1'), item('2')]);
    expect(back.counts).toEqual(counts({ reactivated: 1, untouched: 1 }));
  });

  it("keeps a person's triage of a finding a sync had closed: reported again, it stays closed and untouched", async () => {
    const fx = await newTest();
    await sync(fx, [item('1')]);
    await sync(fx, []);
    const [closed] = await findings(fx);
    await orm.em.fork().execute('update finding set out_of_scope = true, triaged_by_person = true where id = ?', [closed!.id]);
    const result = await sync(fx, [item('1', { severity: 'Critical' })]);
    expect(result.counts).toEqual(counts({ untouched: 1 }));
    expect((await findings(fx)).map((f) => [f.severity, f.active, f.is_mitigated])).toEqual([['High', false, true]]);
  });

  it('with unique_id_or_hash, an item matching one finding by tool id and another by hash keeps the oldest and closes the other', async () => {
    const fx = await newTest();
    await sync(fx, [item('1', { uniqueIdFromTool: 'a' }), item('2', { uniqueIdFromTool: 'b' })], { matching: 'unique_id_or_hash' });
    // Tool id of the first finding, hash of the second.
    const result = await sync(fx, [item('2', { uniqueIdFromTool: 'a' })], { matching: 'unique_id_or_hash' });
    expect(result.counts).toEqual(counts({ updated: 1, closed: 1 }));
    expect((await findings(fx)).map((f) => [f.unique_id_from_tool, f.title, f.active])).toEqual([
      ['a', 'Finding 2', true],
      ['b', 'Finding 2', false],
    ]);
  });

  it('with unique_id_or_hash, two items that share nothing but their oldest match collapse into it: the first fetched takes it', async () => {
    const fx = await newTest();
    await sync(fx, [item('1', { uniqueIdFromTool: 'a' })], { matching: 'unique_id_or_hash' });
    // The first item matches by tool id, the second by hash; neither creates a finding.
    const result = await sync(fx, [item('9', { uniqueIdFromTool: 'a', severity: 'Low' }), item('1', { uniqueIdFromTool: 'z', severity: 'Critical' })], {
      matching: 'unique_id_or_hash',
    });
    expect(result.counts).toEqual(counts({ updated: 1 }));
    expect((await findings(fx)).map((f) => [f.unique_id_from_tool, f.component_name, f.severity, f.title, f.active])).toEqual([['a', 'comp-1', 'Low', 'Finding 9', true]]);
  });

  it('gives the tool its triage back once a person clears theirs: a finding the tool still reports as false positive is updated', async () => {
    const fx = await newTest();
    await sync(fx, [item('1', { falseP: true })]);
    const [finding] = await findings(fx);
    const em = orm.em.fork();
    const entity = await em.findOneOrFail(Finding, { id: String(finding!.id) }, { populate: ['test'] });
    applyTriage(entity, { riskAccepted: true });
    await em.flush();
    applyTriage(entity, { falsePositive: false, riskAccepted: false, outOfScope: false });
    await em.flush();
    expect((await findings(fx)).map((f) => [f.active, f.false_p, f.risk_accepted])).toEqual([[true, false, false]]);
    const result = await sync(fx, [item('1', { falseP: true })]);
    expect(result.counts).toEqual(counts({ updated: 1 }));
    expect((await findings(fx)).map((f) => [f.active, f.false_p, f.risk_accepted])).toEqual([[false, true, false]]);
  });

  it('stages text the tool sent with NUL characters and COPY-special characters intact but for the NUL', async () => {
    const fx = await newTest();
    const nul = String.fromCharCode(0);
    const tricky = `quote " comma , newline \n return \r tab \t backslash \\ \\N \\x41 \\. nul${nul}end`;
    await sync(fx, [item('1', { title: 'path C:\\temp\\n\tx', description: tricky, mitigation: '', references: '\\N', raw: { note: tricky, nested: [tricky] } })]);
    const [row] = await orm.em.fork().execute<{ title: string; description: string; mitigation: string | null; references: string | null; raw: unknown }[]>(
      'select title, description, mitigation, "references", raw from finding where test_id = ?',
      [fx.testId],
    );
    const expected = tricky.replace(nul, '');
    expect(row).toEqual({ title: 'path C:\\temp\\n\tx', description: expected, mitigation: '', references: '\\N', raw: { note: expected, nested: [expected] } });
  });

  it('an import into one Test waits for another import into the same Test, never for one into another Test', async () => {
    const [a, b] = [await newTest(), await newTest()];
    // Another import holds Test a (its transaction has locked the Test row).
    const em = orm.em.fork();
    let releaseA!: () => void;
    const heldA = new Promise<void>((resolve) => (releaseA = resolve));
    const lockTaken = new Promise<void>((taken) => {
      void em.transactional(async (tx) => {
        await tx.execute('select id from test where id = ? for update', [a.testId]);
        taken();
        await heldA;
      });
    });
    await lockTaken;

    const intoB = await sync(b, [item('1')]);
    expect(intoB.counts).toEqual(counts({ created: 1 }));

    let intoADone = false;
    const intoA = sync(a, [item('1')]).then((r) => {
      intoADone = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(intoADone).toBe(false);
    releaseA();
    expect((await intoA).counts).toEqual(counts({ created: 1 }));
  });
});

