/**
 * A reference model of the reimport (SPEC §4): plain TypeScript over arrays, written to be read, not to be
 * fast. The property test (reimport.property.test.ts) runs the same fetches through this model and through
 * the set-based SQL engine (src/reimport/apply-reimport.ts) and requires identical results.
 *
 * Input: the findings of one Test as they are before the import, the fetched items in the order they were
 * fetched (each with the hash code staging computed for it), the Test's matching algorithm, the connector's
 * min severity and the sync time. Output: the findings after the import, one action per touched finding,
 * the counts, and the per-severity totals of active findings before and after.
 *
 * The rules, in the order they apply (SPEC §4; where the SPEC is silent, what apply-reimport.ts does):
 *
 * R1  Min severity. An item whose severity ranks below the connector's min severity is dropped before
 *     anything else, so the finding it would have matched is treated as absent (and closes, R7).
 * R2  Identity of an item. `unique_id_from_tool`: its tool id; `hash_code`: its hash code;
 *     `unique_id_or_hash`: its tool id when it has one, else its hash code. An item without the identity
 *     the algorithm needs is an identity of its own: it never collapses with another item (and, R4, never
 *     matches an existing finding on that key).
 * R3  Duplicates in one fetch collapse: of the items with the same identity the first fetched (page order,
 *     then order within the page) wins and the others are ignored entirely (their fields, triage and tool
 *     id change nothing). With `unique_id_or_hash`, a second pass then collapses, among the items left,
 *     those with the same hash code — again the first fetched wins. (One pass each, not a transitive
 *     closure: two items linked only through a third, already collapsed, item stay apart.)
 * R4  Matching. An item matches every finding of the Test — open, closed, triaged by the tool or by a
 *     person — with an equal non-null key: the tool id (`unique_id_from_tool`), the hash code
 *     (`hash_code`), or either (`unique_id_or_hash`). Matching uses the findings as they were before this
 *     import; the tool id and hash code a finding was created with are never refreshed.
 * R5  The oldest wins. Of the findings an item matches, the oldest (lowest id) is the item's match. Its
 *     other matches are not kept by this item (so, if open, they close by R7).
 * R6  One item per finding. When several items (that survived R3) have the same oldest match, the first
 *     fetched of them takes it; each later one collapses into it and is ignored entirely: it creates
 *     nothing and does not fall back on its other matches.
 * R7  Closing. Every finding that no item took (R5/R6), that is not closed already (`is_mitigated` false)
 *     and not triaged by a person closes: `active` false, `is_mitigated` true, `mitigated_at` = the sync
 *     time; action `closed`. That includes a finding the tool had triaged (inactive, not mitigated, its
 *     false_p/risk_accepted/out_of_scope kept): the tool no longer reports it, and SPEC §2 says what the
 *     tool no longer reports is closed — only a person's decision is exempt. apply-reimport.ts closes the
 *     same set (`not is_mitigated and not triaged_by_person`, docs/reimport.md R7), not only `active`
 *     findings. A finding a person triaged, and one already closed, get no action when absent.
 * R8  Outcome of a finding an item took, first rule that applies:
 *     a. triaged by a person (`triaged_by_person`) → `untouched`; only `last_seen_at` moves; severity,
 *        description, flags — everything else — stay as they are (a person's decision wins);
 *     b. closed by a previous sync (`is_mitigated`) → `reactivated`, and the finding takes the tool's view;
 *     c. any tool-owned field differs from the item (severity, title, description, mitigation, references,
 *        line, cvss vector, cvss score, cwes, vulnerability ids, endpoint — each only while no person edited
 *        it, i.e. it is not in `person_edited_fields`), or the tool's flags (verified, false_p, risk_accepted,
 *        out_of_scope) differ → `updated`, and the finding takes the tool's view. The comparison is with the
 *        finding as it is now — after whatever a person did to it since the last sync (a triage they
 *        cleared resets the flags) — not with what the tool reported last time;
 *     d. otherwise → `untouched`; only `last_seen_at` moves.
 *     In every case `last_seen_at` becomes the sync time (SPEC: "`last_seen_at` set"), whatever the finding
 *     later becomes.
 *     Values compare as SQL's `is distinct from` does: null equals null, lists compare element by element
 *     in order (so the same ids in another order are a change even when the hash code is equal).
 * R9  "The tool's view": the tool-owned fields a person did not edit take the item's values; verified,
 *     false_p, risk_accepted and out_of_scope take the item's flags; `active` = not (false_p or risk_accepted or
 *     out_of_scope); `is_mitigated` false; `mitigated_at` cleared; `last_seen_at` = the sync time. (So a
 *     closed finding the tool now reports as triaged is `reactivated` but stays inactive.) Component name
 *     and version, file path, tool ids and hash code are never refreshed.
 * R10 Creating. Every item that survived R1–R3 and matched nothing becomes a new finding, in fetch order
 *     (ids ascending): the item's fields and triage flags, `active` = not triaged by the tool, not
 *     mitigated, not triaged by a person, `first_seen_at` = `last_seen_at` = the sync time; action `created`.
 * R11 One action per touched finding; the counts are the number of actions of each kind. Severity totals
 *     count active findings per severity, before and after.
 *
 * And the two things a person does between syncs (applyTriage in src/api/routes/findings.ts, and a
 * person's edit of a tool-owned field), so the property test can apply them to the model too:
 *
 * P1  Triage: the given flag is set (or all three cleared); `triaged_by_person` = any flag set (a flag the
 *     tool had set counts too); `active` = not triaged and not mitigated. Clearing all three hands the
 *     finding back to the sync: the next one compares the tool's flags with the cleared ones (R8c).
 * P2  Edit: the field takes the person's value and is added to `person_edited_fields`.
 */
import type { NormalizedFinding } from '../../src/connectors/types.js';
import type { FindingActionType, ImportCounts, MatchingAlgorithm, Severity, SeverityCounts } from '../../src/domain.js';

const SEVERITY_ORDER: Severity[] = ['Info', 'Low', 'Medium', 'High', 'Critical'];
const rank = (severity: Severity) => SEVERITY_ORDER.indexOf(severity);

export interface ModelFinding {
  id: number;
  uniqueIdFromTool: string | null;
  hashCode: string | null;
  title: string;
  severity: Severity;
  description: string | null;
  mitigation: string | null;
  references: string | null;
  cwes: number[] | null;
  vulnerabilityIds: string[] | null;
  cvssVector: string | null;
  cvssScore: number | null;
  componentName: string | null;
  componentVersion: string | null;
  filePath: string | null;
  line: number | null;
  endpoint: string | null;
  vulnIdFromTool: string | null;
  verified: boolean;
  falseP: boolean;
  riskAccepted: boolean;
  outOfScope: boolean;
  active: boolean;
  isMitigated: boolean;
  mitigatedAt: Date | null;
  triagedByPerson: boolean;
  /** Column names of the fields a person edited (as the `person_edited_fields` column holds them). */
  personEditedFields: string[];
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/** One fetched item with the hash code staging computed for it (null when the tool hashes no fields). */
export interface IncomingItem {
  finding: NormalizedFinding;
  hashCode: string | null;
}

export interface ModelInput {
  existing: readonly ModelFinding[];
  incoming: readonly IncomingItem[];
  matching: MatchingAlgorithm;
  minSeverity: Severity;
  now: Date;
}

export interface ModelAction {
  findingId: number;
  action: FindingActionType;
}

/** The rules whose application the model counts, so a test can check its scenarios exercise each. */
export const TRACED_RULES = [
  'R1 item below min severity dropped',
  'R3 duplicate item collapsed',
  'R5 item matching several findings',
  'R6 item collapsed into a match another item took',
  'R7 finding closed',
  'R7 finding the tool had triaged closed',
  'R8a person-triaged finding reported',
  'R8b finding reactivated',
  'R8c finding updated',
  'R8c finding the tool had triaged reported open again',
  'R8c finding the tool now reports verified or no longer verified',
  'R8c person-edited field kept though the tool reports another value',
  'R8d finding untouched',
  'R10 finding created',
  'R10 finding created triaged by the tool',
] as const;
export type TracedRule = (typeof TRACED_RULES)[number];

export interface ModelResult {
  findings: ModelFinding[];
  actions: ModelAction[];
  counts: ImportCounts;
  severityBefore: SeverityCounts;
  severityAfter: SeverityCounts;
  /** How often each traced rule applied in this import. */
  applied: Record<TracedRule, number>;
}

/** The tool-owned fields a sync refreshes (R8c, R9): the item's key and the finding's column name. */
const TOOL_OWNED_FIELDS = [
  ['severity', 'severity'],
  ['title', 'title'],
  ['description', 'description'],
  ['mitigation', 'mitigation'],
  ['references', 'references'],
  ['line', 'line'],
  ['cvssVector', 'cvss_vector'],
  ['cvssScore', 'cvss_score'],
  ['cwes', 'cwes'],
  ['vulnerabilityIds', 'vulnerability_ids'],
  ['endpoint', 'endpoint'],
] as const;

type ToolOwnedKey = (typeof TOOL_OWNED_FIELDS)[number][0];

/** An item's fields as the finding would hold them: absent optional values are null, absent flags false. */
function itemValues(item: IncomingItem) {
  const f = item.finding;
  return {
    uniqueIdFromTool: f.uniqueIdFromTool ?? null,
    hashCode: item.hashCode,
    title: f.title,
    severity: f.severity,
    description: f.description ?? null,
    mitigation: f.mitigation ?? null,
    references: f.references ?? null,
    cwes: f.cwes ?? null,
    vulnerabilityIds: f.vulnerabilityIds ?? null,
    cvssVector: f.cvssVector ?? null,
    cvssScore: f.cvssScore ?? null,
    componentName: f.componentName ?? null,
    componentVersion: f.componentVersion ?? null,
    filePath: f.filePath ?? null,
    line: f.line ?? null,
    endpoint: f.endpoint ?? null,
    vulnIdFromTool: f.vulnIdFromTool ?? null,
    verified: f.verified ?? false,
    falseP: f.falseP ?? false,
    riskAccepted: f.riskAccepted ?? false,
    outOfScope: f.outOfScope ?? false,
  };
}

const triagedByTool = (flags: { falseP: boolean; riskAccepted: boolean; outOfScope: boolean }) =>
  flags.falseP || flags.riskAccepted || flags.outOfScope;

/** SQL's `is distinct from`, for the values findings hold (null, strings, numbers, lists). */
function distinct(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) !== JSON.stringify(b ?? null);
}

/** R2: the key duplicates collapse on; an item lacking it is its own identity. */
function identityOf(item: IncomingItem, position: number, matching: MatchingAlgorithm): string {
  const uid = item.finding.uniqueIdFromTool ?? null;
  const hash = item.hashCode;
  const own = `item #${position}`;
  switch (matching) {
    case 'unique_id_from_tool':
      return uid !== null ? `uid ${uid}` : own;
    case 'hash_code':
      return hash !== null ? `hash ${hash}` : own;
    case 'unique_id_or_hash':
      return uid !== null ? `uid ${uid}` : hash !== null ? `hash ${hash}` : own;
  }
}

/** R3: the first fetched item of each identity (then, for unique_id_or_hash, of each hash code). */
function collapseDuplicates(items: readonly IncomingItem[], matching: MatchingAlgorithm): IncomingItem[] {
  const seen = new Set<string>();
  let kept = items.filter((item, position) => {
    const identity = identityOf(item, position, matching);
    if (seen.has(identity)) return false;
    seen.add(identity);
    return true;
  });
  if (matching === 'unique_id_or_hash') {
    const seenHashes = new Set<string>();
    kept = kept.filter((item) => {
      if (item.hashCode === null) return true;
      if (seenHashes.has(item.hashCode)) return false;
      seenHashes.add(item.hashCode);
      return true;
    });
  }
  return kept;
}

/** R4: does this existing finding match this item? */
function matches(finding: ModelFinding, item: IncomingItem, matching: MatchingAlgorithm): boolean {
  const uid = item.finding.uniqueIdFromTool ?? null;
  const byUid = uid !== null && finding.uniqueIdFromTool === uid;
  const byHash = item.hashCode !== null && finding.hashCode === item.hashCode;
  switch (matching) {
    case 'unique_id_from_tool':
      return byUid;
    case 'hash_code':
      return byHash;
    case 'unique_id_or_hash':
      return byUid || byHash;
  }
}

const isEditedByPerson = (finding: ModelFinding, column: string) => finding.personEditedFields.includes(column);

/** R8c: a tool-owned field (not edited by a person) or a tool triage flag differs from the item. */
function toolViewChanged(finding: ModelFinding, item: IncomingItem): boolean {
  const incoming = itemValues(item);
  const fieldChanged = TOOL_OWNED_FIELDS.some(
    ([key, column]) => !isEditedByPerson(finding, column) && distinct(finding[key], incoming[key]),
  );
  return (
    fieldChanged ||
    finding.verified !== incoming.verified ||
    finding.falseP !== incoming.falseP ||
    finding.riskAccepted !== incoming.riskAccepted ||
    finding.outOfScope !== incoming.outOfScope
  );
}

/** For the trace: a field a person edited (so R9 keeps it) on which the tool reports another value. */
function keepsPersonEditedField(finding: ModelFinding, item: IncomingItem): boolean {
  const incoming = itemValues(item);
  return TOOL_OWNED_FIELDS.some(([key, column]) => isEditedByPerson(finding, column) && distinct(finding[key], incoming[key]));
}

/** R9: the finding takes the tool's view of it. */
function takeToolView(finding: ModelFinding, item: IncomingItem, now: Date): void {
  const incoming = itemValues(item);
  for (const [key, column] of TOOL_OWNED_FIELDS) {
    if (!isEditedByPerson(finding, column)) setToolOwned(finding, key, incoming[key]);
  }
  finding.verified = incoming.verified;
  finding.falseP = incoming.falseP;
  finding.riskAccepted = incoming.riskAccepted;
  finding.outOfScope = incoming.outOfScope;
  finding.active = !triagedByTool(incoming);
  finding.isMitigated = false;
  finding.mitigatedAt = null;
  finding.lastSeenAt = now;
}

function setToolOwned<K extends ToolOwnedKey>(finding: ModelFinding, key: K, value: ModelFinding[K]): void {
  finding[key] = value;
}

function severityTotals(findings: readonly ModelFinding[]): SeverityCounts {
  const totals: SeverityCounts = { Critical: 0, High: 0, Medium: 0, Low: 0, Info: 0 };
  for (const f of findings) if (f.active) totals[f.severity]++;
  return totals;
}

const copy = (f: ModelFinding): ModelFinding => ({
  ...f,
  cwes: f.cwes && [...f.cwes],
  vulnerabilityIds: f.vulnerabilityIds && [...f.vulnerabilityIds],
  personEditedFields: [...f.personEditedFields],
});

/** The reimport of one fetch into one Test (rules R1–R11 above). Pure: the input is not modified. */
export function reimportModel(input: ModelInput): ModelResult {
  const findings = input.existing.map(copy).sort((a, b) => a.id - b.id);
  const severityBefore = severityTotals(findings);
  const actions: ModelAction[] = [];
  const applied = Object.fromEntries(TRACED_RULES.map((rule) => [rule, 0])) as Record<TracedRule, number>;

  // R1, R2, R3
  const considered = input.incoming.filter((item) => rank(item.finding.severity) >= rank(input.minSeverity));
  const items = collapseDuplicates(considered, input.matching);
  applied['R1 item below min severity dropped'] = input.incoming.length - considered.length;
  applied['R3 duplicate item collapsed'] = considered.length - items.length;

  // R4, R5, R6 — decided on the findings as they are before the import.
  const takenBy = new Map<ModelFinding, IncomingItem>();
  const toCreate: IncomingItem[] = [];
  for (const item of items) {
    const allMatches = findings.filter((f) => matches(f, item, input.matching));
    const oldestMatch = allMatches[0];
    if (allMatches.length > 1) applied['R5 item matching several findings']++;
    if (oldestMatch === undefined) toCreate.push(item);
    else if (!takenBy.has(oldestMatch)) takenBy.set(oldestMatch, item);
    else applied['R6 item collapsed into a match another item took']++; // ignored: collapses into the first taker
  }

  // R8, R9
  for (const [finding, item] of takenBy) {
    let action: FindingActionType;
    if (finding.triagedByPerson) {
      action = 'untouched';
      applied['R8a person-triaged finding reported']++;
      finding.lastSeenAt = input.now;
    } else {
      if (keepsPersonEditedField(finding, item)) applied['R8c person-edited field kept though the tool reports another value']++;
      if (finding.isMitigated) {
        action = 'reactivated';
        applied['R8b finding reactivated']++;
        takeToolView(finding, item, input.now);
      } else if (toolViewChanged(finding, item)) {
        action = 'updated';
        applied['R8c finding updated']++;
        if (!finding.active && !triagedByTool(itemValues(item))) applied['R8c finding the tool had triaged reported open again']++;
        if (finding.verified !== itemValues(item).verified) applied['R8c finding the tool now reports verified or no longer verified']++;
        takeToolView(finding, item, input.now);
      } else {
        action = 'untouched';
        applied['R8d finding untouched']++;
        finding.lastSeenAt = input.now;
      }
    }
    actions.push({ findingId: finding.id, action });
  }

  // R7
  for (const finding of findings) {
    if (takenBy.has(finding)) continue;
    if (!finding.isMitigated && !finding.triagedByPerson) {
      if (!finding.active) applied['R7 finding the tool had triaged closed']++;
      finding.active = false;
      finding.isMitigated = true;
      finding.mitigatedAt = input.now;
      applied['R7 finding closed']++;
      actions.push({ findingId: finding.id, action: 'closed' });
    }
  }

  // R10
  let nextId = findings.reduce((max, f) => Math.max(max, f.id), 0) + 1;
  for (const item of toCreate) {
    const values = itemValues(item);
    const created: ModelFinding = {
      id: nextId++,
      ...values,
      active: !triagedByTool(values),
      isMitigated: false,
      mitigatedAt: null,
      triagedByPerson: false,
      personEditedFields: [],
      firstSeenAt: input.now,
      lastSeenAt: input.now,
    };
    findings.push(created);
    applied['R10 finding created']++;
    if (!created.active) applied['R10 finding created triaged by the tool']++;
    actions.push({ findingId: created.id, action: 'created' });
  }

  // R11
  const counts: ImportCounts = { created: 0, closed: 0, reactivated: 0, untouched: 0, updated: 0 };
  for (const { action } of actions) counts[action]++;
  return { findings, actions, counts, severityBefore, severityAfter: severityTotals(findings), applied };
}

export type PersonTriage = 'falsePositive' | 'riskAccepted' | 'outOfScope' | 'clear';

/** P1: a person's triage, as PATCH /api/v1/findings/:id applies it. Modifies the finding. */
export function applyPersonTriage(finding: ModelFinding, triage: PersonTriage): void {
  if (triage === 'clear') {
    finding.falseP = false;
    finding.riskAccepted = false;
    finding.outOfScope = false;
  } else if (triage === 'falsePositive') finding.falseP = true;
  else if (triage === 'riskAccepted') finding.riskAccepted = true;
  else finding.outOfScope = true;
  const triaged = finding.falseP || finding.riskAccepted || finding.outOfScope;
  finding.triagedByPerson = triaged;
  finding.active = triaged ? false : !finding.isMitigated;
}

/** P2: a person's edit of a tool-owned field; later syncs no longer refresh that field. Modifies the finding. */
export function applyPersonEdit(
  finding: ModelFinding,
  edit: { field: 'severity'; value: Severity } | { field: 'description'; value: string | null },
): void {
  if (edit.field === 'severity') finding.severity = edit.value;
  else finding.description = edit.value;
  if (!finding.personEditedFields.includes(edit.field)) finding.personEditedFields.push(edit.field);
}
