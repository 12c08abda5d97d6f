import { FINDING_API_FIELDS, findingApiShape, type FindingApiFieldName } from '../findings/fields.js';
import { lastSightingOf } from '../reimport/last-seen.js';
import { z } from 'zod';
import type { ApiToken, AuditEvent, Connector, Finding, FindingAction, Import, Operation, Product, Test, ToolRecord } from '../db/entities.js';
import {
  AUDIT_ACTIONS,
  AUDIT_OUTCOMES,
  FINDING_HISTORY_ACTIONS,
  MATCHING_ALGORITHMS,
  OPERATION_STATUSES,
  OPERATION_TRIGGERS,
  OPERATION_TYPES,
  RECORD_STATES,
  SEVERITIES,
  TOKEN_SCOPES,
} from '../domain.js';

/**
 * The JSON shapes the API answers with, as zod schemas (they feed the OpenAPI document) and the
 * functions that build them from entities. Every field is listed explicitly, so a column added to an
 * entity (a secret, say) never reaches a response by accident.
 */
const namedIds = new Set<string>();

/** Names a response schema: it becomes `#/components/schemas/<id>` in the OpenAPI document. */
function named<T extends z.ZodType>(schema: T, id: string): T {
  z.globalRegistry.add(schema, { ...z.globalRegistry.get(schema), id });
  namedIds.add(id);
  return schema;
}

/** The ids of the named response schemas (the OpenAPI components). */
export const apiSchemaIds: ReadonlySet<string> = namedIds;

const timestamp = z.iso.datetime();
const iso = (date: Date) => date.toISOString();
const isoOrNull = (date: Date | null | undefined) => (date ? date.toISOString() : null);
const idOf = (ref: { id: string } | null | undefined) => ref?.id ?? null;

const severityCounts = z.object(Object.fromEntries(SEVERITIES.map((s) => [s, z.number().int()])) as Record<(typeof SEVERITIES)[number], z.ZodNumber>);

export const scheduleView = z.object({
  hour: z.number().int().min(0).max(23),
  minute: z.number().int().min(0).max(59),
  timezone: z.string().describe('IANA time zone, e.g. Europe/Paris'),
});
named(scheduleView, 'DailySchedule');

export const connectorView = z.object({
  id: z.uuid(),
  tool: z.string(),
  label: z.string(),
  location: z.string(),
  settings: z.record(z.string(), z.unknown()),
  minSeverity: z.enum(SEVERITIES),
  autoMap: z.boolean(),
  enabled: z.boolean(),
  schedule: scheduleView,
  hasSecret: z.literal(true).describe('the secret is stored encrypted and never returned'),
  createdAt: timestamp,
  updatedAt: timestamp,
});
named(connectorView, 'Connector');

export function toConnectorView(connector: Connector): z.output<typeof connectorView> {
  return {
    id: connector.id,
    tool: connector.tool,
    label: connector.label,
    location: connector.location,
    settings: connector.settings,
    minSeverity: connector.minSeverity,
    autoMap: connector.autoMap,
    enabled: connector.enabled,
    schedule: { hour: connector.scheduleHour, minute: connector.scheduleMinute, timezone: connector.scheduleTimezone },
    hasSecret: true,
    createdAt: iso(connector.createdAt),
    updatedAt: iso(connector.updatedAt),
  };
}

export const toolView = z.object({
  tool: z.string(),
  displayName: z.string(),
  settingsSchema: z.record(z.string(), z.unknown()).describe('JSON Schema of the connector settings'),
  secretDescription: z.string(),
  minSecretLength: z.number().int().describe('shorter secrets are refused (400)'),
  locationDescription: z.string(),
  defaultLocation: z.string().nullable(),
  matching: z.enum(MATCHING_ALGORITHMS),
});
named(toolView, 'Tool');

export const connectorScheduleView = scheduleView.extend({
  scheduleId: z.string(),
  paused: z.boolean(),
  note: z.string().nullable(),
  jitter: z.string().nullable().describe('random delay added to each run, e.g. "10m"'),
  overlap: z.string().describe('what happens when a run is due while one is running (SKIP)'),
  catchupWindow: z.string().nullable(),
  nextRuns: z.array(timestamp),
  recentRuns: z.array(z.object({ workflowId: z.string(), runId: z.string(), scheduledAt: timestamp, startedAt: timestamp })),
  temporalUrl: z.string().describe('the schedule in the Temporal UI'),
});
named(connectorScheduleView, 'ConnectorSchedule');

export const runStartedView = z.object({
  operationId: z.uuid(),
  workflowId: z.string(),
  runId: z.string(),
  temporalUrl: z.string(),
});
named(runStartedView, 'RunStarted');

export const syncStartedView = runStartedView.extend({
  attached: z.boolean().describe('true when a sync already running was joined instead of starting a second'),
});
named(syncStartedView, 'SyncStarted');

export const recordView = z.object({
  id: z.uuid(),
  connectorId: z.uuid(),
  externalId: z.string(),
  name: z.string(),
  state: z.enum(RECORD_STATES),
  productId: z.uuid().nullable(),
  productName: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  firstDiscoveredAt: timestamp,
  lastDiscoveredAt: timestamp,
  finalizedAt: timestamp.nullable(),
  lastSyncAt: timestamp.nullable(),
  lastSyncStatus: z.string().nullable(),
});
named(recordView, 'Record');

/** The record; its product must be populated for `productName`. */
export function toRecordView(record: ToolRecord): z.output<typeof recordView> {
  return {
    id: record.id,
    connectorId: record.connector.id,
    externalId: record.externalId,
    name: record.name,
    state: record.state,
    productId: idOf(record.product),
    productName: record.product?.name ?? null,
    metadata: record.metadata ?? null,
    firstDiscoveredAt: iso(record.firstDiscoveredAt),
    lastDiscoveredAt: iso(record.lastDiscoveredAt),
    finalizedAt: isoOrNull(record.finalizedAt),
    lastSyncAt: isoOrNull(record.lastSyncAt),
    lastSyncStatus: record.lastSyncStatus ?? null,
  };
}

export const operationView = z.object({
  id: z.uuid(),
  connectorId: z.uuid().nullable(),
  recordId: z.uuid().nullable(),
  type: z.enum(OPERATION_TYPES),
  trigger: z.enum(OPERATION_TRIGGERS),
  status: z.enum(OPERATION_STATUSES),
  createdAt: timestamp,
  startedAt: timestamp.nullable(),
  endedAt: timestamp.nullable(),
  durationMs: z.number().int().nullable(),
  workflowId: z.string(),
  runId: z.string().nullable(),
  temporalUrl: z.string(),
  summary: z.record(z.string(), z.unknown()).nullable().describe('counts: records, created, closed, reactivated, untouched, updated, …'),
  error: z
    .object({
      type: z.string(),
      message: z.string(),
      records: z.array(z.object({ recordId: z.string(), type: z.string(), message: z.string() })).optional(),
    })
    .nullable(),
});
named(operationView, 'Operation');

export function toOperationView(op: Operation, temporalUrl: (workflowId: string, runId: string | null) => string): z.output<typeof operationView> {
  return {
    id: op.id,
    connectorId: idOf(op.connector),
    recordId: idOf(op.record),
    type: op.type,
    trigger: op.trigger,
    status: op.status,
    createdAt: iso(op.createdAt),
    startedAt: isoOrNull(op.startedAt),
    endedAt: isoOrNull(op.endedAt),
    durationMs: op.durationMs ?? (op.startedAt && op.endedAt ? op.endedAt.getTime() - op.startedAt.getTime() : null),
    workflowId: op.workflowId,
    runId: op.runId ?? null,
    temporalUrl: temporalUrl(op.workflowId, op.runId ?? null),
    summary: (op.summary as Record<string, unknown> | null | undefined) ?? null,
    error: op.error ?? null,
  };
}

export const productView = z.object({ id: z.uuid(), name: z.string(), description: z.string().nullable(), createdAt: timestamp });
named(productView, 'Product');

export function toProductView(product: Product): z.output<typeof productView> {
  return { id: product.id, name: product.name, description: product.description ?? null, createdAt: iso(product.createdAt) };
}

export const testView = z.object({
  id: z.uuid(),
  productId: z.uuid(),
  engagementId: z.uuid(),
  engagementName: z.string().describe('"Global Connectors" for the tests connectors write'),
  connectorId: z.uuid().nullable().describe('null once the connector was deleted (the findings stay)'),
  tool: z.string(),
  title: z.string(),
  createdAt: timestamp,
});
named(testView, 'Test');

/** The test; its engagement must be populated for `productId` and `engagementName`. */
export function toTestView(test: Test): z.output<typeof testView> {
  return {
    id: test.id,
    productId: test.engagement.product.id,
    engagementId: test.engagement.id,
    engagementName: test.engagement.name,
    connectorId: idOf(test.connector),
    tool: test.tool,
    title: test.title,
    createdAt: iso(test.createdAt),
  };
}

export const importView = z.object({
  id: z.uuid(),
  testId: z.uuid(),
  operationId: z.uuid().nullable(),
  created: z.number().int(),
  closed: z.number().int(),
  reactivated: z.number().int(),
  untouched: z.number().int(),
  updated: z.number().int(),
  recordId: z.uuid().nullable().describe('the Record whose fetch this import applied'),
  rejected: z.number().int().describe('items the tool sent that could not be kept (the rest synced)'),
  rejectedReasons: z.record(z.string(), z.number().int()).nullable().describe('how many items were rejected for each reason'),
  severityBefore: severityCounts.describe('active findings per severity before the import'),
  severityAfter: severityCounts.describe('active findings per severity after the import'),
  settings: z.record(z.string(), z.unknown()),
  createdAt: timestamp,
});
named(importView, 'Import');

export function toImportView(imp: Import): z.output<typeof importView> {
  return {
    id: imp.id,
    testId: imp.test.id,
    operationId: idOf(imp.operation),
    created: imp.created,
    closed: imp.closed,
    reactivated: imp.reactivated,
    untouched: imp.untouched,
    updated: imp.updated,
    recordId: imp.recordId ?? null,
    rejected: imp.rejected,
    rejectedReasons: imp.rejectedReasons ?? null,
    severityBefore: imp.severityBefore,
    severityAfter: imp.severityAfter,
    settings: imp.settings,
    createdAt: iso(imp.createdAt),
  };
}

/** A finding id in JSON: a decimal string, because ids are bigints and a JSON number beyond 2^53 loses digits. */
const findingIdView = z.string().regex(/^[1-9]\d*$/).describe('the finding id: a decimal string (a bigint, which may exceed 2^53)');

export const findingActionView = z.object({
  findingId: findingIdView,
  importId: z.uuid().nullable().describe('the import that acted; null for a triage'),
  action: z.enum(FINDING_HISTORY_ACTIONS).describe("what an import did (created, closed, reactivated, untouched, updated), or `triaged`: a person's triage"),
  actor: z
    .object({ tokenId: z.uuid(), name: z.string().describe("the token's name when it acted") })
    .nullable()
    .describe('who triaged; null for an import'),
  changes: z
    .record(z.string(), z.object({ from: z.unknown().describe('the value before'), to: z.unknown().describe('the value after') }))
    .nullable()
    .describe('the fields a triage changed (API names), each from its value before to after; null for an import'),
  createdAt: timestamp,
});
named(findingActionView, 'FindingAction');

export function toFindingActionView(action: FindingAction): z.output<typeof findingActionView> {
  return {
    findingId: action.finding.id,
    importId: idOf(action.import),
    action: action.action,
    actor: action.actorTokenId ? { tokenId: action.actorTokenId, name: action.actorName ?? '' } : null,
    changes: action.changes ?? null,
    createdAt: iso(action.createdAt),
  };
}

export const findingView = z.object({
  id: findingIdView,
  testId: z.uuid(),
  recordId: z.uuid().nullable().describe('the Record that reported it (it owns the finding; other Records never close it)'),
  ...findingApiShape,
  active: z.boolean(),
  isMitigated: z.boolean(),
  mitigatedAt: timestamp.nullable(),
  triagedByPerson: z.boolean().describe('a person set the triage flags; the sync never overrides them'),
  firstSeenAt: timestamp,
  lastSeenAt: timestamp,
  createdAt: timestamp,
});
named(findingView, 'Finding');

export const findingDetailView = findingView.extend({ raw: z.unknown().describe("the tool's item as fetched, for audit") });
named(findingDetailView, 'FindingDetail');

/** The properties toFindingView reads besides the shown tool fields: `lastSeenAt` is worked out from the last four. */
const FINDING_VIEW_PROPERTIES = [
  'id',
  'test',
  'recordId',
  'active',
  'isMitigated',
  'mitigatedAt',
  'triagedByPerson',
  'firstSeenAt',
  'createdAt',
  'lastSeenAt',
  'personTriagedAt',
  'recordLastImportedAt',
] as const;
type FindingShownProperty = (typeof FINDING_VIEW_PROPERTIES)[number] | FindingApiFieldName;

/** Every property toFindingView reads, so a list can read just these as plain rows. */
export const FINDING_SHOWN_PROPERTIES: readonly FindingShownProperty[] = [...FINDING_VIEW_PROPERTIES, ...FINDING_API_FIELDS.map((f) => f.name)];

/** What toFindingView reads: a managed Finding, or a plain row of those properties, whose `test` is the Test's id. */
export type FindingShown = Omit<Pick<Finding, FindingShownProperty>, 'test'> & { test: string | { id: string } };

export function toFindingView(finding: FindingShown): z.output<typeof findingView> {
  const fields = Object.fromEntries(FINDING_API_FIELDS.map((f) => [f.apiName, finding[f.name] ?? null])) as z.output<z.ZodObject<typeof findingApiShape>>;
  return {
    id: finding.id,
    testId: typeof finding.test === 'string' ? finding.test : finding.test.id,
    recordId: finding.recordId ?? null,
    ...fields,
    // A double PostgreSQL answers as text stays a number in the API.
    cvssScore: finding.cvssScore == null ? null : Number(finding.cvssScore),
    active: finding.active,
    isMitigated: finding.isMitigated,
    mitigatedAt: isoOrNull(finding.mitigatedAt),
    triagedByPerson: finding.triagedByPerson,
    firstSeenAt: iso(finding.firstSeenAt),
    lastSeenAt: iso(lastSightingOf(finding)),
    createdAt: iso(finding.createdAt),
  };
}

/** The finding with its raw item; `raw` (lazy) must be populated. */
export function toFindingDetailView(finding: Finding): z.output<typeof findingDetailView> {
  return { ...toFindingView(finding), raw: finding.raw ?? null };
}

export const apiTokenView = z.object({
  id: z.uuid(),
  name: z.string(),
  scope: z.enum(TOKEN_SCOPES),
  createdAt: timestamp,
  lastUsedAt: timestamp.nullable(),
  expiresAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
});
named(apiTokenView, 'ApiToken');

/** A token as it is answered once, when it is created: the only time its value leaves the server. */
export const createdApiTokenView = apiTokenView.extend({
  token: z.string().describe('the token itself; shown only in this answer, only its hash is stored'),
});
named(createdApiTokenView, 'CreatedApiToken');

export function toApiTokenView(token: ApiToken): z.output<typeof apiTokenView> {
  return {
    id: token.id,
    name: token.name,
    scope: token.scope,
    createdAt: iso(token.createdAt),
    lastUsedAt: isoOrNull(token.lastUsedAt),
    expiresAt: isoOrNull(token.expiresAt),
    revokedAt: isoOrNull(token.revokedAt),
  };
}

export const auditEventView = z.object({
  id: z.uuid(),
  at: timestamp,
  actor: z.object({ tokenId: z.uuid(), name: z.string().describe("the token's name when it acted") }),
  action: z.enum(AUDIT_ACTIONS),
  target: z.object({ type: z.string(), id: z.string().nullable() }),
  outcome: z.enum(AUDIT_OUTCOMES),
  status: z.number().int().describe('the HTTP status the caller was answered'),
  details: z.record(z.string(), z.unknown()).nullable().describe('what was asked for (secret values left out) and, on failure, the error code'),
});
named(auditEventView, 'AuditEvent');

export function toAuditEventView(event: AuditEvent): z.output<typeof auditEventView> {
  return {
    id: event.id,
    at: iso(event.at),
    actor: { tokenId: event.actorTokenId, name: event.actorName },
    action: event.action,
    target: { type: event.targetType, id: event.targetId ?? null },
    outcome: event.outcome,
    status: event.status,
    details: event.details ?? null,
  };
}
