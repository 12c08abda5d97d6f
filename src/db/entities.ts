import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import {
  AUDIT_ACTIONS,
  AUDIT_OUTCOMES,
  FINDING_HISTORY_ACTIONS,
  OPERATION_STATUSES,
  OPERATION_TRIGGERS,
  OPERATION_TYPES,
  RECORD_STATES,
  SEVERITIES,
  TOKEN_SCOPES,
  type ImportCounts,
  type SeverityCounts,
} from '../domain.js';
import { findingFieldProperties } from '../findings/fields.js';
import { recordLastImportedAtSql } from '../reimport/last-seen.js';

const now = () => new Date();


/** What findings belong to: an app, a service, a repository. */
export const Product = defineEntity({
  name: 'Product',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    name: p.string().length(255).unique(),
    description: p.text().nullable(),
    createdAt: p.datetime().onCreate(now),
  },
});
export type Product = InferEntity<typeof Product>;

/** A grouping under a Product; connectors write into the one named "Global Connectors". */
export const Engagement = defineEntity({
  name: 'Engagement',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    product: () => p.manyToOne(Product).deleteRule('cascade'),
    name: p.string().length(255),
    createdAt: p.datetime().onCreate(now),
  },
  uniques: [{ properties: ['product', 'name'] }],
});
export type Engagement = InferEntity<typeof Engagement>;

/** One configured tool connection. The secret is stored encrypted (see secrets.ts) and never serialised. */
export const Connector = defineEntity({
  name: 'Connector',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    tool: p.string().length(64),
    label: p.string().length(255),
    location: p.text(),
    secretEncrypted: p.text().hidden().lazy(),
    settings: p.json<Record<string, unknown>>(),
    minSeverity: p.enum(SEVERITIES).default('Info'),
    autoMap: p.boolean().default(false),
    enabled: p.boolean().default(true),
    scheduleHour: p.integer().default(3),
    scheduleMinute: p.integer().default(0),
    scheduleTimezone: p.string().length(64).default('UTC'),
    createdAt: p.datetime().onCreate(now),
    updatedAt: p.datetime().onCreate(now).onUpdate(now),
  },
  uniques: [{ properties: ['tool', 'label'] }],
});
export type Connector = InferEntity<typeof Connector>;

/** One per (Product, Connector): where that connector's findings for that product live. */
export const Test = defineEntity({
  name: 'Test',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    engagement: () => p.manyToOne(Engagement).deleteRule('cascade'),
    connector: () => p.manyToOne(Connector).nullable().deleteRule('set null'),
    tool: p.string().length(64),
    title: p.string().length(512),
    createdAt: p.datetime().onCreate(now),
  },
  uniques: [{ properties: ['engagement', 'connector'] }],
});
export type Test = InferEntity<typeof Test>;

/** A Record (SPEC §1): a vendor-equivalent product the tool has (repository, project, site, account). */
export const ToolRecord = defineEntity({
  name: 'ToolRecord',
  tableName: 'tool_record',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    connector: () => p.manyToOne(Connector).deleteRule('cascade'),
    externalId: p.string().length(512),
    name: p.string().length(512),
    state: p.enum(RECORD_STATES).default('new'),
    product: () => p.manyToOne(Product).nullable().deleteRule('set null'),
    metadata: p.json<Record<string, unknown>>().nullable(),
    firstDiscoveredAt: p.datetime().onCreate(now),
    lastDiscoveredAt: p.datetime().onCreate(now),
    finalizedAt: p.datetime().nullable(),
    lastSyncAt: p.datetime().nullable(),
    lastSyncStatus: p.string().length(32).nullable(),
  },
  uniques: [{ properties: ['connector', 'externalId'] }],
  indexes: [{ properties: ['connector', 'state'] }],
});
export type ToolRecord = InferEntity<typeof ToolRecord>;

/** Error detail kept on an Operation (per record for a connector sync). */
export interface OperationError {
  type: string;
  message: string;
  records?: { recordId: string; type: string; message: string }[];
}

/** Counts kept on an Operation. */
export interface OperationSummary extends Partial<ImportCounts> {
  records?: number;
  recordsSucceeded?: number;
  recordsFailed?: number;
  recordsSkipped?: number;
  /** Why records were skipped (the first 100). */
  skippedRecords?: { recordId: string; reason: string }[];
  discovered?: number;
  /** Of a discover: Records auto-mapped, and mapped Records the tool no longer lists (`created` counts new Records). */
  mapped?: number;
  missing?: number;
  fetched?: number;
  /** Of a connector sync: how many records it synced at once. */
  window?: number;
}

/** One run of Discover or Sync, as the operations table shows it. */
export const Operation = defineEntity({
  name: 'Operation',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    connector: () => p.manyToOne(Connector).nullable().deleteRule('set null'),
    record: () => p.manyToOne(ToolRecord).nullable().deleteRule('set null'),
    type: p.enum(OPERATION_TYPES),
    trigger: p.enum(OPERATION_TRIGGERS),
    status: p.enum(OPERATION_STATUSES).default('pending'),
    createdAt: p.datetime().onCreate(now),
    startedAt: p.datetime().nullable(),
    endedAt: p.datetime().nullable(),
    durationMs: p.integer().nullable(),
    workflowId: p.string().length(512),
    runId: p.string().length(64).nullable(),
    error: p.json<OperationError>().nullable(),
    summary: p.json<OperationSummary>().nullable(),
  },
  uniques: [{ properties: ['workflowId', 'runId'] }],
  indexes: [{ properties: ['connector', 'status'] }, { properties: ['createdAt'] }, { properties: ['workflowId'] }],
});
export type Operation = InferEntity<typeof Operation>;

/** One fetch of one record's findings into the staging table (the claim check of a sync). */
export const SyncFetch = defineEntity({
  name: 'SyncFetch',
  properties: {
    id: p.uuid().primary(),
    record: () => p.manyToOne(ToolRecord).deleteRule('cascade'),
    operation: () => p.manyToOne(Operation).nullable().deleteRule('set null'),
    status: p.enum(['fetching', 'fetched', 'applied'] as const).default('fetching'),
    cursor: p.json<unknown>().nullable(),
    pages: p.integer().default(0),
    itemCount: p.integer().default(0),
    /** Items the tool sent that could not be kept (reimport/clean.ts), with how many per reason; not staged. */
    rejected: p.integer().default(0),
    rejectedReasons: p.json<Record<string, number>>().nullable(),
    createdAt: p.datetime().onCreate(now),
    fetchedAt: p.datetime().nullable(),
  },
  // Staged rows carry no foreign key (bulk COPY skips per-row checks); they go with their fetch.
  triggers: [{ name: 'sync_fetch_discard_staged', timing: 'after', events: ['delete'], forEach: 'row', body: 'delete from staged_finding where fetch_id = OLD.id; return null' }],
});
export type SyncFetch = InferEntity<typeof SyncFetch>;

/** One reimport into one Test (DefectDojo's Test_Import). */
export const Import = defineEntity({
  name: 'Import',
  tableName: 'finding_import',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    test: () => p.manyToOne(Test).deleteRule('cascade'),
    operation: () => p.manyToOne(Operation).nullable().deleteRule('set null'),
    /** The Record whose fetch this import applied (no foreign key: the fact outlives a deleted Record). */
    recordId: p.uuid().nullable(),
    fetchId: p.uuid().unique(),
    created: p.integer().default(0),
    closed: p.integer().default(0),
    reactivated: p.integer().default(0),
    untouched: p.integer().default(0),
    updated: p.integer().default(0),
    /** Items of the fetch that could not be kept, with how many per reason (the rest of the record synced). */
    rejected: p.integer().default(0),
    rejectedReasons: p.json<Record<string, number>>().nullable(),
    severityBefore: p.json<SeverityCounts>(),
    severityAfter: p.json<SeverityCounts>(),
    settings: p.json<Record<string, unknown>>(),
    createdAt: p.datetime().onCreate(now),
  },
  // The latest import of a (Test, Record) tells its open findings' last sighting (reimport/last-seen.ts).
  // createdAt alone: the API's /metrics reads the last day's imports.
  indexes: [{ properties: ['test', 'createdAt'] }, { properties: ['test', 'recordId', 'createdAt'] }, { properties: ['createdAt'] }],
  // Actions carry no foreign keys (checking 100,000 of them costs more than the reimport); they go with their import.
  triggers: [{ name: 'finding_import_discard_actions', timing: 'after', events: ['delete'], forEach: 'row', body: 'delete from finding_action where import_id = OLD.id; return null' }],
});
export type Import = InferEntity<typeof Import>;


/**
 * One vulnerability in one Test, owned by the Record that reported it: a Record's reimport matches and
 * closes only its own findings, so Records mapped to one Product never close each other's.
 */
export const Finding = defineEntity({
  name: 'Finding',
  properties: {
    // A string, so ids beyond 2^53 keep their precision in JavaScript and in JSON.
    id: p.bigint('string').primary().autoincrement(),
    test: () => p.manyToOne(Test).deleteRule('cascade'),
    /**
     * The Record that reported it. No foreign key: a deleted Record's findings stay as they were, still
     * saying who reported them; null only for findings whose reporter the ownership migration could not tell.
     */
    recordId: p.uuid().nullable(),
    ...findingFieldProperties,
    active: p.boolean().default(true),
    isMitigated: p.boolean().default(false),
    mitigatedAt: p.datetime().nullable(),
    triagedByPerson: p.boolean().default(false),
    /** When a person last set or cleared a triage flag (see reimport/last-seen.ts). */
    personTriagedAt: p.datetime().nullable(),
    personEditedFields: p.json<string[]>().nullable(),
    firstSeenAt: p.datetime().onCreate(now),
    lastSeenAt: p.datetime().onCreate(now),
    /**
     * When the latest reimport of its Record into its Test ran. A finding open for the tool then was
     * reported by that import (anything unreported was closed), so the reimport does not rewrite unchanged
     * open rows to record their sighting (see reimport/last-seen.ts).
     */
    recordLastImportedAt: p
      .datetime()
      .formula((_cols, table) => recordLastImportedAtSql(table.alias))
      .persist(false)
      .nullable(),
    createdAt: p.datetime().onCreate(now),
  },
  // The match indexes cover what the reimport's outcome needs, so matching reads no finding rows.
  indexes: [
    { properties: ['test', 'recordId', 'uniqueIdFromTool'], include: ['active', 'isMitigated', 'triagedByPerson', 'toolFieldsHash'] },
    { properties: ['test', 'recordId', 'hashCode'], include: ['active', 'isMitigated', 'triagedByPerson', 'toolFieldsHash'] },
    // What a Record's fetch did not report closes: its findings not yet mitigated, without reading other rows.
    { properties: ['test', 'recordId', 'isMitigated'], include: ['id', 'triagedByPerson'] },
    // Severity totals of a Test before and after an import, without reading finding rows.
    { properties: ['test', 'active'], include: ['severity'] },
    { properties: ['severity'] },
    // The API's finding filters: an exact vulnerability id (jsonb containment), and first-seen ranges and
    // ordering (keyset on first_seen_at, id). "Contains" filters have no trigram index: on every created
    // finding it cost the reimport more than the whole insert (docs/api.md).
    { name: 'finding_vulnerability_ids_index', expression: 'create index "finding_vulnerability_ids_index" on "finding" using gin ("vulnerability_ids" jsonb_path_ops)' },
    { properties: ['firstSeenAt', 'id'] },
  ],
});
export type Finding = InferEntity<typeof Finding>;

/** One fetched item, waiting in PostgreSQL for applyReimport (never travels through Temporal). */
export const StagedFinding = defineEntity({
  name: 'StagedFinding',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    // No per-row foreign-key check on bulk staging; a trigger removes the rows of a deleted fetch.
    fetch: () => p.manyToOne(SyncFetch).createForeignKeyConstraint(false),
    page: p.integer(),
    ...findingFieldProperties,
  },
  indexes: [{ properties: ['fetch', 'page'] }],
});
export type StagedFinding = InferEntity<typeof StagedFinding>;

/** Finding fields a person's triage changed: each with its value before and after. */
export type TriageChanges = Record<string, { from: unknown; to: unknown }>;

/**
 * One entry of a finding's history: what one import did to it, or a person's triage (`triaged`: no import,
 * but who did it and what changed). Ordered by id, the history reads oldest first.
 */
export const FindingAction = defineEntity({
  name: 'FindingAction',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    // No foreign keys: applyReimport writes actions for rows it just created or locked (see Import's trigger),
    // and a triage for the row it just updated.
    import: () => p.manyToOne(Import).createForeignKeyConstraint(false).nullable(),
    finding: () => p.manyToOne(Finding).createForeignKeyConstraint(false),
    action: p.enum(FINDING_HISTORY_ACTIONS),
    /** Of a triage: the token that made it, by id and by name as it was then. */
    actorTokenId: p.uuid().nullable(),
    actorName: p.string().length(255).nullable(),
    changes: p.json<TriageChanges>().nullable(),
    createdAt: p.datetime().onCreate(now),
  },
  indexes: [{ properties: ['import'] }, { properties: ['finding'] }],
});
export type FindingAction = InferEntity<typeof FindingAction>;

/** An API token; only its SHA-256 is stored. */
export const ApiToken = defineEntity({
  name: 'ApiToken',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    name: p.string().length(255),
    tokenHash: p.string().length(64).unique(),
    scope: p.enum(TOKEN_SCOPES),
    createdAt: p.datetime().onCreate(now),
    lastUsedAt: p.datetime().nullable(),
    expiresAt: p.datetime().nullable(),
    /** A revoked token keeps its row, so the audit log still names who acted with it. */
    revokedAt: p.datetime().nullable(),
  },
});
export type ApiToken = InferEntity<typeof ApiToken>;

/**
 * One change made through the API, or an attempt at one: who (the token, by id and by name, as it was
 * then), what, on which target, when, and how it ended. No foreign keys, so an event outlives its target.
 * `details` holds a summary of the request without secrets.
 */
export const AuditEvent = defineEntity({
  name: 'AuditEvent',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    at: p.datetime().onCreate(now),
    actorTokenId: p.uuid(),
    actorName: p.string().length(255),
    action: p.enum(AUDIT_ACTIONS),
    targetType: p.string().length(32),
    targetId: p.string().length(64).nullable(),
    outcome: p.enum(AUDIT_OUTCOMES),
    status: p.smallint(),
    details: p.json<Record<string, unknown>>().nullable(),
  },
  indexes: [{ properties: ['at', 'id'] }, { properties: ['actorTokenId', 'at'] }, { properties: ['action', 'at'] }],
});
export type AuditEvent = InferEntity<typeof AuditEvent>;

/**
 * Requests the workers sent to each tool's API, by error type ('' for answered ones), added up by every
 * worker every few seconds: the API's /metrics reports them for all workers, and they survive restarts.
 */
export const ToolApiCall = defineEntity({
  name: 'ToolApiCall',
  properties: {
    tool: p.string().length(64).primary(),
    errorType: p.string().length(32).primary(),
    calls: p.bigint('number'),
  },
});
export type ToolApiCall = InferEntity<typeof ToolApiCall>;

export const entities = [
  Product,
  Engagement,
  Connector,
  Test,
  ToolRecord,
  Operation,
  SyncFetch,
  Import,
  Finding,
  StagedFinding,
  FindingAction,
  ApiToken,
  AuditEvent,
  ToolApiCall,
];
