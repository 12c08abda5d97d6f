import type { EntityManager } from '@mikro-orm/postgresql';
import {
  SEVERITIES,
  SEVERITY_RANK,
  type ImportCounts,
  type MatchingAlgorithm,
  type Severity,
  type SeverityCounts,
} from '../domain.js';
import { columnOf, FINDING_FIELD_NAMES, FINDING_FIELDS, REFRESHED_FIELDS, TOOL_VERDICT_FIELDS, TOOL_VIEW_FIELDS } from '../findings/fields.js';
import { lastSightingSql } from './last-seen.js';
import { STAGED_EXTENT_SQL, stagingComplete, type StagedExtent } from './staging.js';

export interface ReimportInput {
  importId: string;
  fetchId: string;
  testId: string;
  operationId: string | null;
  matching: MatchingAlgorithm;
  minSeverity: Severity;
  /** The sync time: `mitigated_at` of what closes, `last_seen_at` of what matched. */
  now: Date;
}

export interface ReimportResult {
  importId: string;
  /** Set when the fetch's staged rows were not all there: the fetch was reset and nothing was applied. */
  stagingIncomplete?: { expectedItems: number; stagedItems: number; expectedPages: number };
  counts: ImportCounts;
  severityBefore: SeverityCounts;
  severityAfter: SeverityCounts;
  /** True when this fetch had already been applied: nothing changed this time. */
  alreadyApplied: boolean;
}

/** Columns of the tool-owned fields a sync refreshes on a match, unless a person edited that field. */
const REFRESHED_COLUMNS = REFRESHED_FIELDS.map((name) => FINDING_FIELDS[name].column);

const severityRankSql = (column: string) =>
  `(case ${column} ${SEVERITIES.map((s) => `when '${s}' then ${SEVERITY_RANK[s]}`).join(' ')} end)`;

/** A field is the tool's to refresh unless a person edited it. */
const toolOwns = (field: string) => `not coalesce(f.person_edited_fields @> '["${field}"]', false)`;

const fieldChanged = (field: string) => `(${toolOwns(field)} and f."${field}" is distinct from s."${field}")`;

/** New value of a refreshed field: the tool's, unless a person edited it. */
const refreshedValue = (field: string) => `"${field}" = case when ${toolOwns(field)} then s."${field}" else f."${field}" end`;

/** Tool-reported triage decides `active` for what a person has not triaged. */
const toolTriaged = (alias: string) => `(${alias}.false_p or ${alias}.risk_accepted or ${alias}.out_of_scope)`;

function identitySql(matching: MatchingAlgorithm): string {
  switch (matching) {
    case 'unique_id_from_tool':
      return `coalesce('u:' || s.unique_id_from_tool, 'row:' || s.id)`;
    case 'hash_code':
      return `coalesce('h:' || s.hash_code, 'row:' || s.id)`;
    case 'unique_id_or_hash':
      return `coalesce('u:' || s.unique_id_from_tool, 'h:' || s.hash_code, 'row:' || s.id)`;
  }
}

function candidatesSql(matching: MatchingAlgorithm): string {
  const found =
    'i.incoming_id, i.tool_fields_hash as incoming_hash, f.id as finding_id, f.active, f.is_mitigated, f.triaged_by_person, f.tool_fields_hash';
  // Only the Record's own findings match: other Records mapped to the same Product keep theirs.
  const byUid = `select ${found} from incoming i
      join finding f on f.test_id = ? and f.record_id = ? and f.unique_id_from_tool = i.unique_id_from_tool`;
  const byHash = `select ${found} from incoming i
      join finding f on f.test_id = ? and f.record_id = ? and f.hash_code = i.hash_code`;
  switch (matching) {
    case 'unique_id_from_tool':
      return byUid;
    case 'hash_code':
      return byHash;
    case 'unique_id_or_hash':
      return `${byUid} union ${byHash}`;
  }
}

/** Severity counts as read back from jsonb (which orders keys its own way), in the order of SEVERITIES. */
const inSeverityOrder = (counts: Partial<SeverityCounts>): SeverityCounts => Object.fromEntries(SEVERITIES.map((s) => [s, Number(counts[s] ?? 0)])) as SeverityCounts;

const emptySeverityCounts = () => inSeverityOrder({});

/** Empties a fetch so it starts over: its staged rows go and its cursor returns to the start, together. */
async function resetFetch(tx: EntityManager, fetchId: string): Promise<void> {
  await tx.execute('delete from staged_finding where fetch_id = ?', [fetchId]);
  await tx.execute(
    `update sync_fetch set status = 'fetching', cursor = null, pages = 0, item_count = 0, rejected = 0, rejected_reasons = null, fetched_at = null where id = ?`,
    [fetchId],
  );
}

/** SQL: the Test's active findings by severity, as a JSON object with every severity (one parameter: the Test). */
const SEVERITY_COUNTS_SQL = `select jsonb_build_object(${SEVERITIES.map((s) => `'${s}', count(*) filter (where severity = '${s}')`).join(', ')})
  from finding where test_id = ? and active`;

/**
 * The reimport (SPEC §4) of one staged fetch into one Test, as set-based SQL in one transaction. The fetch
 * names its Record, which owns what it reports: matching and closing stay within (Test, Record), so Records
 * mapped to one Product never close each other's findings.
 * incoming items below `minSeverity` are dropped, duplicates collapse, each incoming item matches the
 * oldest existing finding with its identity (other matches close), and then every finding gets exactly
 * one outcome — created, updated/untouched, reactivated, or closed — recorded as a FindingAction.
 * A person's triage (false positive, risk accepted, out of scope) is never changed.
 *
 * Built for large records: the working tables hold ids and digests only, an unchanged finding is
 * recognised by its tool-fields digest, and unchanged open rows are not rewritten (their last sighting is
 * the Test's `last_imported_at`).
 *
 * A fetch whose staged rows are not exactly its pages and item count (rows lost to a crash, a promoted
 * standby, a stray delete) is never applied: it is reset to start over, and the result says so, because a
 * lost row would otherwise close its finding.
 *
 * Idempotent: the Import row is keyed by the fetch, so applying the same fetch again returns the first
 * result and changes nothing. The Test row is locked for the transaction, so two imports into one Test
 * run one after the other while imports into different Tests never wait on each other.
 */
export async function applyReimportSql(em: EntityManager, input: ReimportInput): Promise<ReimportResult> {
  return em.transactional(async (tx) => {
    // Both rows are locked before anything is read: what the statements below see is what the import before
    // this one committed. The working sets of a large record are sorted and hashed in memory, not on disk.
    const [fetch] = await tx.execute<{ record_id: string; status: string; pages: number; item_count: number }[]>(
      `select f.record_id, f.status, f.pages, f.item_count, set_config('work_mem', '64MB', true) as work_mem
       from test t join sync_fetch f on f.id = ? where t.id = ? for update of t, f`,
      [input.fetchId, input.testId],
    );
    if (!fetch) {
      const [test] = await tx.execute('select 1 from test where id = ?', [input.testId]);
      throw new Error(test ? `fetch ${input.fetchId} does not exist` : `test ${input.testId} does not exist`);
    }
    const recordId = fetch.record_id;

    const [state] = await tx.execute<
      {
        previous: { id: string; created: number; closed: number; reactivated: number; untouched: number; updated: number; severity_before: SeverityCounts; severity_after: SeverityCounts } | null;
        extent: StagedExtent;
        severity_before: SeverityCounts;
        previous_import_at: Date | null;
      }[]
    >(
      `select (select row_to_json(i) from finding_import i where i.fetch_id = ?) as previous,
              (select row_to_json(e) from (${STAGED_EXTENT_SQL}) e) as extent,
              (${SEVERITY_COUNTS_SQL}) as severity_before,
              (select max(created_at) from finding_import where test_id = ? and record_id = ?) as previous_import_at`,
      // The Record's previous import into this Test: the last sighting of its findings open until now.
      [input.fetchId, input.fetchId, input.testId, input.testId, recordId],
    );
    const { previous: p, extent } = state!;
    const severityBefore = inSeverityOrder(state!.severity_before);
    if (p) {
      return {
        importId: p.id,
        counts: { created: p.created, closed: p.closed, reactivated: p.reactivated, untouched: p.untouched, updated: p.updated },
        severityBefore: inSeverityOrder(p.severity_before),
        severityAfter: inSeverityOrder(p.severity_after),
        alreadyApplied: true,
      };
    }

    if (fetch.status === 'fetching') throw new Error(`fetch ${input.fetchId} has not completed; a partial fetch is never applied`);
    if (!stagingComplete(extent, { pages: fetch.pages, itemCount: fetch.item_count })) {
      await resetFetch(tx, input.fetchId);
      return {
        importId: input.importId,
        counts: { created: 0, closed: 0, reactivated: 0, untouched: 0, updated: 0 },
        severityBefore: emptySeverityCounts(),
        severityAfter: emptySeverityCounts(),
        alreadyApplied: false,
        stagingIncomplete: { expectedItems: fetch.item_count, stagedItems: Number(extent?.n ?? 0), expectedPages: fetch.pages },
      };
    }

    const now = input.now.toISOString();
    await tx.execute(
      `insert into finding_import (id, test_id, record_id, operation_id, fetch_id, rejected, rejected_reasons, severity_before, severity_after, settings, created_at)
       select ?, ?, ?, ?, ?, f.rejected, f.rejected_reasons, ?::jsonb, ?::jsonb, ?::jsonb, ? from sync_fetch f where f.id = ?`,
      [
        input.importId,
        input.testId,
        recordId,
        input.operationId,
        input.fetchId,
        JSON.stringify(severityBefore),
        JSON.stringify(severityBefore),
        JSON.stringify({ matching: input.matching, minSeverity: input.minSeverity }),
        now,
        input.fetchId,
      ],
    );

    // Every finding gets its outcome in one statement. Its parts all read the findings as they were before
    // it, and each finding is written by at most one of them: the matched (`outcome`), the unreported
    // (`closed`: not matched) and the new rows (`created`).
    const changed = [
      ...REFRESHED_COLUMNS.map(fieldChanged),
      ...TOOL_VERDICT_FIELDS.map((name) => `f.${columnOf(name)} is distinct from s.${columnOf(name)}`),
    ].join(' or ');
    const rows = await tx.execute<{ action: keyof ImportCounts; n: string }[]>(
      // Incoming items at or above min_severity, one per identity (the first fetched wins): ids and keys only.
      `with previous as (select ?::timestamptz as imported_at),
       ${input.matching === 'unique_id_or_hash' ? 'identified' : 'incoming'} as (
         select distinct on (identity) s.id as incoming_id, s.unique_id_from_tool, s.hash_code, s.tool_fields_hash
         from (select s.id, s.unique_id_from_tool, s.hash_code, s.tool_fields_hash, ${identitySql(input.matching)} as identity
               from staged_finding s
               where s.fetch_id = ? and ${severityRankSql('s.severity')} >= ?) s
         order by identity, s.id),
       ${
         input.matching === 'unique_id_or_hash'
           ? // Items with different tool ids but the same hash are the same finding too.
             `incoming as (
         select * from identified i
         where i.hash_code is null or not exists (select 1 from identified j where j.hash_code = i.hash_code and j.incoming_id < i.incoming_id)),`
           : ''
       }
       -- Every existing finding that matches an incoming item, with what the outcome needs of it (read from the
       -- covering match index, not from the finding rows); per incoming item the oldest is the winner.
       candidate as (
         select incoming_id, incoming_hash, finding_id, active, is_mitigated, triaged_by_person, tool_fields_hash,
                row_number() over (partition by incoming_id order by finding_id) as rank
         from (${candidatesSql(input.matching)}) c),
       -- One outcome per matched finding: a finding wins for at most one incoming item (an item whose winner was
       -- taken collapses into it: it has a candidate, so it is not created either). Equal digests settle most
       -- outcomes; only the rest are compared field by field (a person may own a field the tool changed).
       outcome as (
         select distinct on (w.finding_id) w.finding_id, w.incoming_id, w.active as was_active, w.incoming_hash,
                w.tool_fields_hash is distinct from w.incoming_hash and not w.triaged_by_person as digest_differs,
                case when w.triaged_by_person then 'untouched'
                     when w.is_mitigated then 'reactivated'
                     when w.tool_fields_hash = w.incoming_hash then 'untouched'
                     when exists (select 1 from finding f join staged_finding s on s.id = w.incoming_id
                                  where f.id = w.finding_id and (${changed})) then 'updated'
                     else 'untouched' end as action
         from candidate w where w.rank = 1 order by w.finding_id, w.incoming_id),
       -- Reactivated and updated findings take the tool's view (a person's triage never reaches here).
       refreshed as (
         update finding f set
           active = not ${toolTriaged('s')}, is_mitigated = false, mitigated_at = null, last_seen_at = ?,
           ${TOOL_VIEW_FIELDS.map((name) => `${columnOf(name)} = s.${columnOf(name)}`).join(', ')},
           tool_fields_hash = s.tool_fields_hash, ${REFRESHED_COLUMNS.map(refreshedValue).join(', ')}
         from outcome o join staged_finding s on s.id = o.incoming_id
         where f.id = o.finding_id and o.action in ('reactivated', 'updated')),
       -- Of the unchanged findings only inactive ones (a person's or the tool's triage) and those whose digest
       -- changed in fields a person owns are written: an open one's last sighting is its Record's latest import.
       seen as (
         update finding f set last_seen_at = ?,
           tool_fields_hash = case when o.digest_differs then o.incoming_hash else f.tool_fields_hash end
         from outcome o where f.id = o.finding_id and o.action = 'untouched' and (not o.was_active or o.digest_differs)),
       -- What this fetch did not report closes: the Record's open findings, findings the tool had triaged, losing
       -- duplicate matches — all but a person's decisions. Their last sighting is kept before they change.
       closed as (
         update finding f set active = false, is_mitigated = true, mitigated_at = ?,
           last_seen_at = ${lastSightingSql('f', 'previous.imported_at')}
         from previous
         where f.test_id = ? and f.record_id = ? and not f.is_mitigated and not f.triaged_by_person
           and not exists (select 1 from outcome o where o.finding_id = f.id)
         returning f.id),
       -- Incoming items with no match are new findings.
       created as (
         insert into finding (test_id, record_id, ${FINDING_FIELD_NAMES.map(columnOf).join(', ')},
           active, is_mitigated, triaged_by_person, first_seen_at, last_seen_at, created_at)
         select ?, ?, ${FINDING_FIELD_NAMES.map((name) => `s.${columnOf(name)}`).join(', ')},
           not ${toolTriaged('s')}, false, false, ?, ?, ?
         from incoming i join staged_finding s on s.id = i.incoming_id
         where not exists (select 1 from candidate c where c.incoming_id = i.incoming_id)
         order by i.incoming_id
         returning id),
       actions as (
         insert into finding_action (import_id, finding_id, action, created_at)
         select ?::uuid, finding_id, action, ?::timestamptz from outcome
         union all select ?::uuid, id, 'closed', ?::timestamptz from closed
         union all select ?::uuid, id, 'created', ?::timestamptz from created)
       select action, count(*) as n from outcome group by action
       union all select 'closed', count(*) from closed
       union all select 'created', count(*) from created`,
      [
        state!.previous_import_at,
        input.fetchId,
        SEVERITY_RANK[input.minSeverity],
        ...(input.matching === 'unique_id_or_hash' ? [input.testId, recordId, input.testId, recordId] : [input.testId, recordId]),
        now, // refreshed
        now, // seen
        now, // closed
        input.testId,
        recordId,
        input.testId, // created
        recordId,
        now,
        now,
        now,
        ...[1, 2, 3].flatMap(() => [input.importId, now]), // actions
      ],
    );
    const counts: ImportCounts = { created: 0, closed: 0, reactivated: 0, untouched: 0, updated: 0 };
    for (const row of rows) counts[row.action] = Number(row.n);

    // The import's counts and the Test's severities after it; the fetch is done with and its staged rows go.
    const [finished] = await tx.execute<{ severity_after: SeverityCounts }[]>(
      `with applied as (update sync_fetch set status = 'applied' where id = ?),
       cleared as (delete from staged_finding where fetch_id = ?)
       update finding_import set created = ?, closed = ?, reactivated = ?, untouched = ?, updated = ?, severity_after = (${SEVERITY_COUNTS_SQL})
       where id = ? returning severity_after`,
      [input.fetchId, input.fetchId, counts.created, counts.closed, counts.reactivated, counts.untouched, counts.updated, input.testId, input.importId],
    );

    return { importId: input.importId, counts, severityBefore, severityAfter: inSeverityOrder(finished!.severity_after), alreadyApplied: false };
  });
}
