import type { Finding } from '../db/entities.js';

type Sighting = Pick<Finding, 'active' | 'triagedByPerson' | 'personTriagedAt' | 'lastSeenAt'>;

/**
 * When the tool last reported a finding. The reimport does not rewrite unchanged open findings: a finding
 * that was open for the tool (active, not a person's decision) at its Test's latest import was reported by
 * it — anything unreported was closed — so that import is its last sighting. A person's triage changed
 * after that import says nothing about it, so then the stored `last_seen_at` is the answer.
 */
export function lastSightingOf(finding: Sighting, testLastImportedAt: Date | null | undefined): Date {
  const openAtLastImport =
    finding.active &&
    !finding.triagedByPerson &&
    testLastImportedAt != null &&
    (finding.personTriagedAt == null || finding.personTriagedAt < testLastImportedAt);
  return openAtLastImport && testLastImportedAt > finding.lastSeenAt ? testLastImportedAt : finding.lastSeenAt;
}

/**
 * The SQL form of lastSightingOf for finding `f` of test `t`, used where the reimport must keep the sighting
 * before it changes the finding (closing it).
 */
export const LAST_SIGHTING_SQL = `case when f.active and not f.triaged_by_person and t.last_imported_at is not null
    and (f.person_triaged_at is null or f.person_triaged_at < t.last_imported_at)
  then greatest(f.last_seen_at, t.last_imported_at) else f.last_seen_at end`;
