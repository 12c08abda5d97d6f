/**
 * Domain vocabulary shared by every layer (and safe to import from workflows: no Node, no I/O).
 */
export const SEVERITIES = ['Critical', 'High', 'Medium', 'Low', 'Info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Higher is more severe; used to apply a connector's `min_severity`. */
export const SEVERITY_RANK: Record<Severity, number> = { Critical: 4, High: 3, Medium: 2, Low: 1, Info: 0 };

export const RECORD_STATES = ['new', 'good', 'missing', 'stale', 'ignored'] as const;
export type RecordState = (typeof RECORD_STATES)[number];

export const OPERATION_TYPES = ['discover', 'sync'] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];

export const OPERATION_TRIGGERS = ['scheduled', 'manual'] as const;
export type OperationTrigger = (typeof OPERATION_TRIGGERS)[number];

export const OPERATION_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'partial'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export const FINDING_ACTIONS = ['created', 'closed', 'reactivated', 'untouched', 'updated'] as const;
export type FindingActionType = (typeof FINDING_ACTIONS)[number];

/** A finding's history: what each reimport did to it, and a person's triage (`triaged`), which no import counts. */
export const FINDING_HISTORY_ACTIONS = [...FINDING_ACTIONS, 'triaged'] as const;
export type FindingHistoryAction = (typeof FINDING_HISTORY_ACTIONS)[number];

export const MATCHING_ALGORITHMS = ['unique_id_from_tool', 'hash_code', 'unique_id_or_hash'] as const;
export type MatchingAlgorithm = (typeof MATCHING_ALGORITHMS)[number];

/** The engagement every connector writes into (SPEC §1). */
export const GLOBAL_CONNECTORS_ENGAGEMENT = 'Global Connectors';

/** Per-severity totals of active findings, as stored on an Import. */
export type SeverityCounts = Record<Severity, number>;

export interface ImportCounts {
  created: number;
  closed: number;
  reactivated: number;
  untouched: number;
  updated: number;
}

/** What an API token may do, each including the ones before it: read (GET), operate (runs, mappings, triage), admin. */
export const TOKEN_SCOPES = ['read', 'operate', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** Every change the API writes to the audit log, named `<target>.<verb>`. */
export const AUDIT_ACTIONS = [
  'connector.create',
  'connector.update',
  'connector.delete',
  'connector.check',
  'connector.discover',
  'connector.sync',
  'schedule.update',
  'schedule.pause',
  'schedule.unpause',
  'record.map',
  'record.unmap',
  'record.ignore',
  'record.restore',
  'record.delete',
  'record.sync',
  'finding.triage',
  'token.create',
  'token.revoke',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_OUTCOMES = ['succeeded', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];
