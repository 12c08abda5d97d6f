import type { MikroORM } from '@mikro-orm/postgresql';
import fc from 'fast-check';
import { applyTriage } from '../../src/api/routes/findings.js';
import { toFindingView } from '../../src/api/views.js';
import type { NormalizedFinding } from '../../src/connectors/types.js';
import { Finding } from '../../src/db/entities.js';
import { MATCHING_ALGORITHMS, SEVERITIES, type MatchingAlgorithm, type Severity } from '../../src/domain.js';
import { applyReimportSql, type ReimportResult } from '../../src/reimport/apply-reimport.js';
import { canonicalHashInput, computeHashCode } from '../../src/reimport/hash.js';
import {
  applyPersonEdit,
  applyPersonTriage,
  reimportModel,
  TRACED_RULES,
  type IncomingItem,
  type ModelAction,
  type ModelFinding,
  type PersonTriage,
} from './reference-model.js';
import { createReimportDatabase, HASH_FIELDS, type ReimportDatabase, type ReimportTarget } from './reimport-target.js';

/**
 * The SQL reimport engine against the reference model (reference-model.ts): random sequences of fetches,
 * with a person's triage and edits in between, go through both — the fetches staged by the real staging
 * code, applied by applyReimportSql, the triage applied by the API's applyTriage — and after every step the
 * Test's findings (as the API shows them), the import's actions, its counts and severity totals must be the
 * same. Tool ids and hash inputs come from small pools, so duplicates within a fetch, several existing
 * matches and identity collisions are common; each property also checks that its scenarios exercised the
 * rules it is there for.
 *
 * A failure prints the seed and path; replay one property with
 * `REIMPORT_PROPERTY_SEED=<seed> REIMPORT_PROPERTY_PATH=<path> npm test -- test/reimport/reimport.property -t '<its name>'`.
 * REIMPORT_PROPERTY_RUNS=<n> runs more (or fewer) scenarios per property (default 100).
 */

let db: ReimportDatabase;
let orm: MikroORM;

beforeAll(async () => {
  db = await createReimportDatabase();
  orm = db.orm;
});
afterAll(async () => {
  await db?.drop();
});

// ---------------------------------------------------------------------------------------------------------
// Scenarios

type ToolTriage = 'none' | 'falseP' | 'riskAccepted' | 'outOfScope';

/** A finding the tool can report. `hashed: false` stands for a tool that hashes no fields (hash code null). */
interface ToolItem {
  uid: string | null;
  component: string;
  version: string;
  vulnIds: string[];
  hashed: boolean;
  title: string;
  severity: Severity;
  description: string | null;
  /** Whether the tool confirms it, until a fetch says otherwise. */
  verified: boolean;
  /** How the tool has triaged it, until a fetch says otherwise. */
  triage: ToolTriage;
}

/** One item of one fetch: the tool item `item` (modulo the pool), as usual or with this fetch's severity, description, verified, triage. */
interface Reported {
  item: number;
  severity: Severity | null;
  description: string | null | 'as usual';
  verified: boolean | 'as usual';
  triage: ToolTriage | 'as usual';
}

type Step =
  | { kind: 'fetch'; reported: Reported[]; matching: MatchingAlgorithm | null; minSeverity: Severity; pageSize: number }
  | { kind: 'retry the last fetch' }
  | { kind: 'person triage'; finding: number; triage: PersonTriage }
  | { kind: 'person edit'; finding: number; field: 'severity'; value: Severity }
  | { kind: 'person edit'; finding: number; field: 'description'; value: string | null };

interface Scenario {
  /** The Test's matching algorithm; a fetch with its own `matching` stands for a connector that changed algorithms. */
  matching: MatchingAlgorithm;
  tool: ToolItem[];
  steps: Step[];
}

const weighted = <T>(...choices: [number, fc.Arbitrary<T>][]) => fc.oneof(...choices.map(([weight, arbitrary]) => ({ weight, arbitrary })));

const severityArb = fc.constantFrom(...SEVERITIES);

const toolItemFields = {
  hashed: weighted([4, fc.constant(true)], [1, fc.constant(false)]),
  title: fc.constantFrom('Injection', 'Prototype pollution'),
  severity: severityArb,
  description: fc.constantFrom(null, 'first', 'second'),
  verified: weighted([4, fc.constant(false)], [1, fc.constant(true)]),
  triage: weighted<ToolTriage>([5, fc.constant('none')], [1, fc.constantFrom('falseP', 'riskAccepted', 'outOfScope')]),
};

/**
 * Up to ten tool items from small pools: tool ids and hash codes collide across items, 'alpha' and 'Alpha '
 * hash the same, and the two last vulnerability id lists hash the same but are stored differently.
 */
const collidingToolItems: fc.Arbitrary<ToolItem[]> = fc.array(
  fc.record({
    uid: fc.constantFrom('u1', 'u2', 'u3', null),
    component: fc.constantFrom('alpha', 'Alpha ', 'beta'),
    version: fc.constantFrom('1.0', '2.0'),
    vulnIds: fc.constantFrom(['CVE-1'], ['CVE-1', 'GHSA-1'], ['ghsa-1', 'CVE-1']),
    ...toolItemFields,
  }),
  { minLength: 1, maxLength: 10 },
);

/**
 * The four combinations of two tool ids and two hash codes, so that under unique_id_or_hash an item can
 * match one finding by tool id and another by hash, and two items that share nothing can share a match.
 */
const overlappingToolItems: fc.Arbitrary<ToolItem[]> = fc.tuple(
  ...['u1', 'u2'].flatMap((uid) =>
    ['alpha', 'beta'].map((component) =>
      fc.record({ ...toolItemFields, uid: fc.constant(uid), component: fc.constant(component), version: fc.constant('1.0'), vulnIds: fc.constant<string[]>(['CVE-1']), hashed: fc.constant(true) }),
    ),
  ),
);

const reportedArb: fc.Arbitrary<Reported> = fc.record({
  item: fc.nat({ max: 9 }),
  severity: weighted<Severity | null>([5, fc.constant(null)], [1, severityArb]),
  description: weighted<string | null>([5, fc.constant('as usual')], [1, fc.constantFrom(null, 'first', 'changed')]),
  verified: weighted<boolean | 'as usual'>([6, fc.constant('as usual')], [1, fc.boolean()]),
  triage: weighted<ToolTriage | 'as usual'>([6, fc.constant('as usual')], [1, fc.constantFrom('none', 'falseP', 'riskAccepted', 'outOfScope')]),
});

const fetchArb = (fetchSize: { min: number; max: number }): fc.Arbitrary<Step> =>
  fc.record({
    kind: fc.constant('fetch' as const),
    reported: weighted([1, fc.constant([])], [6, fc.array(reportedArb, { minLength: fetchSize.min, maxLength: fetchSize.max, size: 'max' })]),
    matching: weighted<MatchingAlgorithm | null>([3, fc.constant(null)], [1, fc.constantFrom(...MATCHING_ALGORITHMS)]),
    minSeverity: weighted<Severity>([4, fc.constant('Info')], [1, fc.constantFrom('Low', 'Medium', 'High')]),
    pageSize: fc.integer({ min: 1, max: 15 }),
  });

const stepArb = (fetchSize: { min: number; max: number }): fc.Arbitrary<Step> =>
  weighted<Step>(
    [8, fetchArb(fetchSize)],
    [1, fc.constant({ kind: 'retry the last fetch' as const })],
    [2, fc.record({ kind: fc.constant('person triage' as const), finding: fc.nat(), triage: fc.constantFrom<PersonTriage>('falsePositive', 'riskAccepted', 'outOfScope', 'clear') })],
    [1, fc.record({ kind: fc.constant('person edit' as const), finding: fc.nat(), field: fc.constant('severity' as const), value: severityArb })],
    [1, fc.record({ kind: fc.constant('person edit' as const), finding: fc.nat(), field: fc.constant('description' as const), value: fc.constantFrom(null, 'by a person') })],
  );

/** Two to eight steps; a fetch that is not empty reports `fetchSize` items. */
const scenarioArb = (options: {
  matching: fc.Arbitrary<MatchingAlgorithm>;
  tool: fc.Arbitrary<ToolItem[]>;
  fetchSize: { min: number; max: number };
}): fc.Arbitrary<Scenario> =>
  fc.record({
    matching: options.matching,
    tool: options.tool,
    steps: fc.array(stepArb(options.fetchSize), { minLength: 2, maxLength: 8, size: 'max' }),
  });

// ---------------------------------------------------------------------------------------------------------
// Running a step through both engines

function normalized(tool: ToolItem, reported: Reported, position: number): NormalizedFinding {
  const triage = reported.triage === 'as usual' ? tool.triage : reported.triage;
  return {
    title: tool.title,
    severity: reported.severity ?? tool.severity,
    description: reported.description === 'as usual' ? tool.description : reported.description,
    verified: reported.verified === 'as usual' ? tool.verified : reported.verified,
    componentName: tool.component,
    componentVersion: tool.version,
    vulnerabilityIds: tool.vulnIds,
    uniqueIdFromTool: tool.uid,
    falseP: triage === 'falseP',
    riskAccepted: triage === 'riskAccepted',
    outOfScope: triage === 'outOfScope',
    raw: { position },
  };
}

/** Readable names for hash codes in failure messages: the canonical values, e.g. `alpha/1.0/cve-1+ghsa-1`. */
class HashNames {
  private readonly names = new Map<string, string>();

  hashOf(finding: NormalizedFinding, hashed: boolean): string | null {
    const hash = computeHashCode(finding, hashed ? HASH_FIELDS : []);
    if (hash !== null && !this.names.has(hash)) {
      const canonical = JSON.parse(canonicalHashInput(finding, HASH_FIELDS)) as [string, unknown][];
      this.names.set(hash, canonical.map(([, value]) => (Array.isArray(value) ? value.join('+') : String(value))).join('/'));
    }
    return hash;
  }

  nameOf(hash: string | null): string | null {
    return hash === null ? null : (this.names.get(hash) ?? `unknown hash ${hash.slice(0, 8)}`);
  }
}

const START = Date.UTC(2026, 0, 1);
/** Step n runs at START + n minutes, so a timestamp tells which step wrote it. */
const timeOfStep = (step: number) => new Date(START + step * 60_000);
const stepAt = (date: Date) => `step ${(date.getTime() - START) / 60_000 + 1}`;

/** What the property compares of a finding. */
interface Observed {
  uid: string | null;
  hash: string | null;
  title: string;
  severity: string;
  description: string | null;
  vulnerabilityIds: string[] | null;
  verified: boolean;
  active: boolean;
  isMitigated: boolean;
  mitigatedAtSet: boolean;
  falseP: boolean;
  riskAccepted: boolean;
  outOfScope: boolean;
  triagedByPerson: boolean;
  firstSeenAt: string;
  lastSeenAt: string;
}

type FindingView = ReturnType<typeof toFindingView>;

/** The Test's findings as the API shows them (GET /api/v1/findings), in id order. */
async function sqlFindings(target: ReimportTarget): Promise<FindingView[]> {
  const found = await orm.em.fork().find(Finding, { test: target.testId }, { populate: ['test'], orderBy: { id: 'asc' } });
  return found.map(toFindingView);
}

const observeView = (view: FindingView, names: HashNames): Observed => ({
  uid: view.uniqueIdFromTool,
  hash: names.nameOf(view.hashCode),
  title: view.title,
  severity: view.severity,
  description: view.description,
  vulnerabilityIds: view.vulnerabilityIds,
  verified: view.verified,
  active: view.active,
  isMitigated: view.isMitigated,
  mitigatedAtSet: view.mitigatedAt !== null,
  falseP: view.falsePositive,
  riskAccepted: view.riskAccepted,
  outOfScope: view.outOfScope,
  triagedByPerson: view.triagedByPerson,
  firstSeenAt: stepAt(new Date(view.firstSeenAt)),
  lastSeenAt: stepAt(new Date(view.lastSeenAt)),
});

const observeModel = (f: ModelFinding, names: HashNames): Observed => ({
  uid: f.uniqueIdFromTool,
  hash: names.nameOf(f.hashCode),
  title: f.title,
  severity: f.severity,
  description: f.description,
  vulnerabilityIds: f.vulnerabilityIds,
  verified: f.verified,
  active: f.active,
  isMitigated: f.isMitigated,
  mitigatedAtSet: f.mitigatedAt !== null,
  falseP: f.falseP,
  riskAccepted: f.riskAccepted,
  outOfScope: f.outOfScope,
  triagedByPerson: f.triagedByPerson,
  firstSeenAt: stepAt(f.firstSeenAt),
  lastSeenAt: stepAt(f.lastSeenAt),
});

const show = (o: Observed) =>
  `uid=${o.uid ?? '-'} hash=${o.hash ?? '-'} ${o.severity} "${o.title}" desc=${o.description ?? '-'} ids=${JSON.stringify(o.vulnerabilityIds)} ` +
  `${o.active ? 'active' : 'inactive'}${o.verified ? ' verified' : ''}${o.isMitigated ? ' mitigated' : ''}${o.mitigatedAtSet ? ' mitigated_at' : ''}` +
  `${o.falseP ? ' false_p' : ''}${o.riskAccepted ? ' risk_accepted' : ''}${o.outOfScope ? ' out_of_scope' : ''}${o.triagedByPerson ? ' by-person' : ''} seen ${o.firstSeenAt}..${o.lastSeenAt}`;

/** Findings are compared by position (ascending id): both engines create findings in fetch order. */
function findingDifferences(sql: Observed[], model: Observed[]): string[] {
  const differences: string[] = [];
  for (let i = 0; i < Math.max(sql.length, model.length); i++) {
    const s = sql[i];
    const m = model[i];
    if (!s || !m) {
      differences.push(`finding #${i}: SQL has ${s ? show(s) : 'nothing'}, model has ${m ? show(m) : 'nothing'}`);
      continue;
    }
    for (const key of Object.keys(s) as (keyof Observed)[]) {
      if (JSON.stringify(s[key]) !== JSON.stringify(m[key])) {
        differences.push(`finding #${i} (uid=${m.uid ?? '-'} hash=${m.hash ?? '-'}): ${key} is ${JSON.stringify(s[key])} in SQL, ${JSON.stringify(m[key])} in the model`);
      }
    }
  }
  return differences;
}

const renderActions = (actions: { position: number; action: string }[]) =>
  actions
    .map((a) => `#${a.position} ${a.action}`)
    .sort()
    .join(', ') || '(none)';

/** How often the scenarios of one property exercised each rule of the model and each kind of step. */
type Exercised = Map<string, number>;
const count = (exercised: Exercised, what: string, n = 1) => exercised.set(what, (exercised.get(what) ?? 0) + n);

/** One scenario, run through both engines in a fresh Test, checking after every step. */
async function runScenario(scenario: Scenario, exercised: Exercised): Promise<void> {
  const target = await db.createTarget();
  const names = new HashNames();
  let model: ModelFinding[] = [];
  let lastFetch: { fetchId: string; result: ReimportResult } | null = null;
  const history: string[] = [];

  const fail = async (problems: string[]): Promise<never> => {
    const sql = (await sqlFindings(target)).map((view) => show(observeView(view, names)));
    throw new Error(
      [
        `SQL engine and reference model disagree after step ${history.length}:`,
        ...problems.map((p) => `  - ${p}`),
        'steps:',
        ...history.map((h, i) => `  ${i + 1}. ${h}`),
        'findings in SQL:',
        ...sql.map((line, i) => `  #${i} ${line}`),
        'findings in the model:',
        ...model.map((f, i) => `  #${i} ${show(observeModel(f, names))}`),
      ].join('\n'),
    );
  };

  const compareFindings = async (problems: string[] = []): Promise<FindingView[]> => {
    const rows = await sqlFindings(target);
    const differences = findingDifferences(
      rows.map((view) => observeView(view, names)),
      model.map((f) => observeModel(f, names)),
    );
    if (problems.length + differences.length > 0) await fail([...problems, ...differences]);
    return rows;
  };

  for (const [index, step] of scenario.steps.entries()) {
    const now = timeOfStep(index);

    if (step.kind === 'fetch') {
      const matching = step.matching ?? scenario.matching;
      const fetched = step.reported.map((reported, position) => {
        const tool = scenario.tool[reported.item % scenario.tool.length]!;
        const finding = normalized(tool, reported, position);
        return { finding, hashed: tool.hashed, hashCode: names.hashOf(finding, tool.hashed) };
      });
      const shown = fetched.map(
        (f) =>
          `[uid=${f.finding.uniqueIdFromTool ?? '-'} hash=${names.nameOf(f.hashCode) ?? '-'} ${f.finding.severity} desc=${f.finding.description ?? '-'}` +
          `${f.finding.verified ? ' verified' : ''}${f.finding.falseP ? ' fp' : ''}${f.finding.riskAccepted ? ' ra' : ''}${f.finding.outOfScope ? ' oos' : ''}]`,
      );
      history.push(`fetch of ${fetched.length}, ${matching}, min ${step.minSeverity}: ${shown.join(' ') || '(nothing)'}`);

      // Staged as the fetch activity does: pages in fetch order, each hashed with its tool's fields.
      const fetchId = await db.createFetch(target);
      const pages: (typeof fetched)[] = [];
      for (const item of fetched) {
        const page = pages.at(-1);
        if (page && page.length < step.pageSize && page[0]!.hashed === item.hashed) page.push(item);
        else pages.push([item]);
      }
      for (const [page, items] of pages.entries()) {
        await db.stagePage({ fetchId, page, findings: items.map((i) => i.finding), hashFields: items[0]!.hashed ? HASH_FIELDS : [] });
      }

      const expected = reimportModel({
        existing: model,
        incoming: fetched.map((f): IncomingItem => ({ finding: f.finding, hashCode: f.hashCode })),
        matching,
        minSeverity: step.minSeverity,
        now,
      });
      const result = await applyReimportSql(orm.em.fork(), {
        importId: crypto.randomUUID(),
        fetchId,
        testId: target.testId,
        operationId: null,
        matching,
        minSeverity: step.minSeverity,
        now,
      });
      lastFetch = { fetchId, result };
      model = expected.findings;
      for (const rule of TRACED_RULES) count(exercised, rule, expected.applied[rule]);

      const problems: string[] = [];
      for (const which of ['counts', 'severityBefore', 'severityAfter'] as const) {
        if (JSON.stringify(result[which]) !== JSON.stringify(expected[which])) {
          problems.push(`${which} are ${JSON.stringify(result[which])} in SQL, ${JSON.stringify(expected[which])} in the model`);
        }
      }
      const rows = await compareFindings(problems);

      const positionInSql = new Map(rows.map((view, i) => [String(view.id), i]));
      const positionInModel = new Map(model.map((f, i) => [f.id, i]));
      const sqlActions = await orm.em.fork().execute<{ finding_id: string; action: string }[]>(
        'select finding_id, action from finding_action where import_id = ?',
        [result.importId],
      );
      const actual = renderActions(sqlActions.map((a) => ({ position: positionInSql.get(String(a.finding_id)) ?? -1, action: a.action })));
      const wanted = renderActions(expected.actions.map((a: ModelAction) => ({ position: positionInModel.get(a.findingId)!, action: a.action })));
      if (actual !== wanted) await fail([`actions are ${actual} in SQL, ${wanted} in the model`]);
      continue;
    }

    if (step.kind === 'retry the last fetch') {
      if (!lastFetch) {
        history.push('(no fetch to apply again yet)');
        continue;
      }
      history.push('the last fetch applied again');
      const again = await applyReimportSql(orm.em.fork(), {
        importId: crypto.randomUUID(),
        fetchId: lastFetch.fetchId,
        testId: target.testId,
        operationId: null,
        matching: scenario.matching,
        minSeverity: 'Info',
        now,
      });
      const problems: string[] = [];
      if (!again.alreadyApplied) problems.push('applying a fetch a second time was not recognised as already applied');
      if (again.importId !== lastFetch.result.importId) problems.push('applying a fetch a second time did not answer with the first import');
      if (JSON.stringify(again.counts) !== JSON.stringify(lastFetch.result.counts)) {
        problems.push(`applying a fetch a second time answered counts ${JSON.stringify(again.counts)}, the first time ${JSON.stringify(lastFetch.result.counts)}`);
      }
      await compareFindings(problems);
      count(exercised, 'a fetch applied again');
      continue;
    }

    // A person acts on one finding (chosen by position) between syncs.
    if (model.length === 0) {
      history.push(`(${step.kind}: no finding yet)`);
      continue;
    }
    const position = step.finding % model.length;
    const chosen = (await sqlFindings(target))[position];
    if (step.kind === 'person triage') {
      history.push(`a person triages finding #${position}: ${step.triage}`);
      if (!chosen) await fail([`SQL has no finding #${position}`]);
      const em = orm.em.fork();
      const finding = await em.findOneOrFail(Finding, { id: String(chosen!.id) }, { populate: ['test'] });
      // A person acts between the syncs of the previous step and the next.
      applyTriage(finding, step.triage === 'clear' ? { falsePositive: false, riskAccepted: false, outOfScope: false } : { [step.triage]: true }, now);
      await em.flush();
      applyPersonTriage(model[position]!, step.triage);
    } else {
      history.push(`a person sets ${step.field} of finding #${position} to ${JSON.stringify(step.value)}`);
      if (!chosen) await fail([`SQL has no finding #${position}`]);
      await orm.em.fork().execute(
        `update finding set "${step.field}" = ?,
           person_edited_fields = case when coalesce(person_edited_fields @> ?::jsonb, false) then person_edited_fields
                                       else coalesce(person_edited_fields, '[]'::jsonb) || ?::jsonb end
         where id = ?`,
        [step.value, JSON.stringify([step.field]), JSON.stringify([step.field]), chosen!.id],
      );
      if (step.field === 'severity') applyPersonEdit(model[position]!, { field: 'severity', value: step.value });
      else applyPersonEdit(model[position]!, { field: 'description', value: step.value });
    }
    await compareFindings();
    count(exercised, step.kind);
  }
}

const runs = Number(process.env.REIMPORT_PROPERTY_RUNS ?? 100);
const seed = process.env.REIMPORT_PROPERTY_SEED === undefined ? undefined : Number(process.env.REIMPORT_PROPERTY_SEED);
const path = process.env.REIMPORT_PROPERTY_PATH;

/**
 * Runs the scenarios through both engines; then, unless replaying one counterexample, checks that they
 * exercised what this property is there for (so a weakened generator cannot pass unnoticed).
 */
async function agreeOn(scenarios: fc.Arbitrary<Scenario>, mustExercise: readonly string[]): Promise<void> {
  const exercised: Exercised = new Map();
  await fc.assert(
    fc.asyncProperty(scenarios, (scenario) => runScenario(scenario, exercised)),
    { numRuns: runs, ...(seed !== undefined ? { seed } : {}), ...(path ? { path } : {}) },
  );
  if (runs >= 50 && !path) {
    const missed = mustExercise.filter((what) => !exercised.get(what));
    expect({ 'never exercised by the scenarios': missed }).toEqual({ 'never exercised by the scenarios': [] });
  }
}

describe('the SQL reimport engine and the reference model (SPEC §4)', () => {
  it('agree on findings, actions and counts after every step of random syncs, triages and edits', async () => {
    await agreeOn(
      scenarioArb({
        matching: weighted([2, fc.constant('unique_id_or_hash')], [1, fc.constantFrom('unique_id_from_tool', 'hash_code')]),
        tool: collidingToolItems,
        fetchSize: { min: 1, max: 15 },
      }),
      [
        ...TRACED_RULES.filter((rule) => rule !== 'R6 item collapsed into a match another item took'),
        'a fetch applied again',
        'person triage',
        'person edit',
      ],
    );
  }, 300_000);

  it('agree where tool ids and hash codes overlap in every way (unique_id_or_hash)', async () => {
    await agreeOn(scenarioArb({ matching: fc.constant('unique_id_or_hash'), tool: overlappingToolItems, fetchSize: { min: 2, max: 2 } }), [
      'R3 duplicate item collapsed',
      'R5 item matching several findings',
      'R6 item collapsed into a match another item took',
      'R8a person-triaged finding reported',
    ]);
  }, 300_000);
});

describe('the canonical hash (SPEC §4)', () => {
  const value = fc.oneof(fc.constant(null), fc.constantFrom('a', 'b', 'None', 'null', 'a|b', ''));
  const list = fc.oneof(fc.constant(null), fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'None'), { maxLength: 3 }));
  const canonicalOf = (v: string | null) => (v === null ? null : v.trim().toLowerCase());

  it('ignores case, surrounding space and list order', () => {
    fc.assert(
      fc.property(value, list, fc.boolean(), (name, ids, reverse) => {
        const dressed = { componentName: name === null ? null : ` ${name.toUpperCase()}\t`, vulnerabilityIds: ids && (reverse ? [...ids].reverse() : ids).map((v) => v.toUpperCase()) };
        expect(computeHashCode(dressed, HASH_FIELDS)).toBe(computeHashCode({ componentName: name, vulnerabilityIds: ids }, HASH_FIELDS));
      }),
    );
  });

  it('gives two findings the same hash exactly when every hashed field has the same canonical value', () => {
    fc.assert(
      fc.property(value, value, list, list, (nameA, nameB, idsA, idsB) => {
        const sameName = canonicalOf(nameA) === canonicalOf(nameB);
        const sameIds = JSON.stringify(idsA && [...idsA].sort()) === JSON.stringify(idsB && [...idsB].sort());
        const a = computeHashCode({ componentName: nameA, componentVersion: null, vulnerabilityIds: idsA }, HASH_FIELDS);
        const b = computeHashCode({ componentName: nameB, componentVersion: null, vulnerabilityIds: idsB }, HASH_FIELDS);
        expect(a === b).toBe(sameName && sameIds);
      }),
    );
  });
});
