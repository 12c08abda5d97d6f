import type { Finding } from '../db/entities.js';

type Sighting = Pick<Finding, 'active' | 'triagedByPerson' | 'personTriagedAt' | 'lastSeenAt' | 'recordLastImportedAt'>;

/**
 * When the tool last reported a finding. The reimport does not rewrite unchanged open findings: a finding
 * that was open for the tool (active, not a person's decision) at its Record's latest import into its Test
 * was reported by it — anything unreported was closed — so that import is its last sighting. A person's
 * triage changed after that import says nothing about it, so then the stored `last_seen_at` is the answer.
 */
export function lastSightingOf(finding: Sighting): Date {
  const lastImportedAt = finding.recordLastImportedAt;
  const openAtLastImport =
    finding.active &&
    !finding.triagedByPerson &&
    lastImportedAt != null &&
    (finding.personTriagedAt == null || finding.personTriagedAt < lastImportedAt);
  return openAtLastImport && lastImportedAt > finding.lastSeenAt ? lastImportedAt : finding.lastSeenAt;
}

/** SQL: when the latest import of the Record of finding row `f` into its Test ran (null before any). */
export const recordLastImportedAtSql = (f: string) =>
  `(select max(i.created_at) from finding_import i where i.test_id = ${f}.test_id and i.record_id = ${f}.record_id)`;

/**
 * The SQL form of lastSightingOf for finding `f`, given its Record's latest import into its Test as an SQL
 * expression; used where the reimport must keep the sighting before it changes the finding (closing it).
 */
export const lastSightingSql = (f: string, lastImportedAt: string) => `case when ${f}.active and not ${f}.triaged_by_person and ${lastImportedAt} is not null
    and (${f}.person_triaged_at is null or ${f}.person_triaged_at < ${lastImportedAt})
  then greatest(${f}.last_seen_at, ${lastImportedAt}) else ${f}.last_seen_at end`;
