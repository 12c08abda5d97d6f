import { raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { Finding, FindingAction, type TriageChanges } from '../../db/entities.js';
import { SEVERITIES } from '../../domain.js';
import { lastSightingOf, lastSightingSql, recordLastImportedAtSql } from '../../reimport/last-seen.js';
import { callerOf } from '../auth.js';
import { notFound } from '../errors.js';
import { answerPage, findPage, findPlainPage, keysetOf, orderedPageQuery, pageOf, pageQuery, type ListOrders } from '../pagination.js';
import { defineRoute, type Route } from '../route-table.js';
import { findingIdParams, instant, queryBoolean } from '../schemas.js';
import { FINDING_SHOWN_PROPERTIES, findingActionView, findingDetailView, findingView, toFindingActionView, toFindingDetailView, toFindingView } from '../views.js';

async function findingOr404(em: EntityManager, id: string, options: { withRaw?: boolean } = {}): Promise<Finding> {
  const finding = await em.findOne(Finding, { id }, { populate: options.withRaw ? ['test', 'raw'] : ['test'] });
  if (!finding) throw notFound('finding', id);
  return finding;
}

const triageBody = z
  .strictObject({
    falsePositive: z.boolean().optional(),
    riskAccepted: z.boolean().optional(),
    outOfScope: z.boolean().optional(),
    severity: z.enum(SEVERITIES).optional().describe("A person's severity: later syncs no longer change it"),
    description: z.string().max(100_000).nullable().optional().describe("A person's description: later syncs no longer change it"),
    mitigation: z.string().max(100_000).nullable().optional().describe("A person's mitigation: later syncs no longer change it"),
  })
  .refine(
    (body) => Object.values(body).some((value) => value !== undefined),
    'give at least one of falsePositive, riskAccepted, outOfScope, severity, description, mitigation',
  );


/**
 * A person's triage: the flags given are set; while any flag is set the finding is inactive and marked
 * `triagedByPerson`, so later syncs leave it alone (a person's decision wins, SPEC §4). Clearing every
 * flag hands the finding back to the sync, active again unless it is mitigated.
 */
export function applyTriage(finding: Finding, triage: z.output<typeof triageBody>, now: Date = new Date()): void {
  const sighting = lastSightingOf(finding);
  // An edited field is named by its column, which the reimport checks before refreshing it.
  const edited = new Set(finding.personEditedFields ?? []);
  if (triage.severity !== undefined) {
    finding.severity = triage.severity;
    edited.add('severity');
  }
  if (triage.description !== undefined) {
    finding.description = triage.description;
    edited.add('description');
  }
  if (triage.mitigation !== undefined) {
    finding.mitigation = triage.mitigation;
    edited.add('mitigation');
  }
  finding.personEditedFields = edited.size > 0 ? [...edited].sort() : null;
  if (triage.falsePositive !== undefined) finding.falseP = triage.falsePositive;
  if (triage.riskAccepted !== undefined) finding.riskAccepted = triage.riskAccepted;
  if (triage.outOfScope !== undefined) finding.outOfScope = triage.outOfScope;
  if (triage.falsePositive === undefined && triage.riskAccepted === undefined && triage.outOfScope === undefined) return;
  // Keep the last sighting (taken before the state it is derived from changes), and forget the digest of the
  // tool's flags: the flags now differ from what the tool said, so the next sync compares them field by field.
  finding.lastSeenAt = sighting;
  finding.personTriagedAt = now;
  finding.toolFieldsHash = null;
  const triaged = finding.falseP || finding.riskAccepted || finding.outOfScope;
  finding.triagedByPerson = triaged;
  finding.active = triaged ? false : !finding.isMitigated;
}

/** What a person's triage can change, by API name, with the property that holds it. */
const TRIAGED_FIELDS = [
  ['falsePositive', 'falseP'],
  ['riskAccepted', 'riskAccepted'],
  ['outOfScope', 'outOfScope'],
  ['severity', 'severity'],
  ['description', 'description'],
  ['mitigation', 'mitigation'],
  ['active', 'active'],
] as const;

type TriagedValues = Record<(typeof TRIAGED_FIELDS)[number][0], unknown>;
const triagedValuesOf = (finding: Finding) => Object.fromEntries(TRIAGED_FIELDS.map(([api, property]) => [api, finding[property] ?? null])) as TriagedValues;

/** The fields whose value differs between two snapshots of a finding, each from its value before to after. */
function changesBetween(before: TriagedValues, after: TriagedValues): TriageChanges {
  const changes: TriageChanges = {};
  for (const [api] of TRIAGED_FIELDS) if (before[api] !== after[api]) changes[api] = { from: before[api], to: after[api] };
  return changes;
}

// A contains filter is a LIKE pattern: the caller's %, _ and \ are matched as themselves.
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const searchText = z.string().min(1).max(255);

/** When the tool last reported a finding (reimport/last-seen.ts) as SQL over the row aliased `alias`. */
const lastSightingOfRow = (alias: string) => lastSightingSql(alias, recordLastImportedAtSql(alias));

const FINDING_ORDERS: ListOrders = {
  name: 'findings',
  fields: {
    id: 'bigint',
    firstSeenAt: 'timestamp',
    title: 'text',
  },
  idKind: 'bigint',
  default: 'id',
};

const findingsQuery = orderedPageQuery(FINDING_ORDERS).extend({
  productId: z.guid().optional(),
  testId: z.guid().optional(),
  connectorId: z.guid().optional(),
  recordId: z.guid().optional().describe('findings reported by this Record'),
  severity: z.enum(SEVERITIES).optional(),
  active: queryBoolean.optional(),
  falsePositive: queryBoolean.optional(),
  riskAccepted: queryBoolean.optional(),
  vulnerabilityId: searchText.optional().describe('findings whose vulnerability ids include exactly this one, e.g. CVE-2021-44228 or GHSA-jfh8-c2jp-5v3q'),
  title: searchText.optional().describe('findings whose title contains this text (case-insensitive)'),
  component: searchText.optional().describe('findings whose component name contains this text (case-insensitive)'),
  filePath: searchText.optional().describe('findings whose file path contains this text (case-insensitive)'),
  firstSeenAfter: instant.optional().describe('findings first seen at or after this time (UTC)'),
  firstSeenBefore: instant.optional().describe('findings first seen before this time (UTC)'),
  lastSeenAfter: instant.optional().describe('findings the tool last reported at or after this time (UTC)'),
  lastSeenBefore: instant.optional().describe('findings the tool last reported before this time (UTC)'),
});

/** The conditions of a findings list query (every filter given, all of them). */
function findingFilter(query: z.output<typeof findingsQuery>): Record<string, unknown> {
  const test = {
    ...(query.testId ? { id: query.testId } : {}),
    ...(query.connectorId ? { connector: query.connectorId } : {}),
    ...(query.productId ? { engagement: { product: query.productId } } : {}),
  };
  const firstSeenAt = {
    ...(query.firstSeenAfter ? { $gte: query.firstSeenAfter } : {}),
    ...(query.firstSeenBefore ? { $lt: query.firstSeenBefore } : {}),
  };
  const conditions: Record<string, unknown>[] = [];
  // Containment of a one-element array: an exact id among the finding's ids, answered by the GIN index.
  if (query.vulnerabilityId) conditions.push({ [raw((alias: string) => `${alias}."vulnerability_ids" @> ?::jsonb`, [JSON.stringify([query.vulnerabilityId])])]: [] });
  if (query.lastSeenAfter) conditions.push({ [raw((alias: string) => `${lastSightingOfRow(alias)} >= ?`, [query.lastSeenAfter])]: [] });
  if (query.lastSeenBefore) conditions.push({ [raw((alias: string) => `${lastSightingOfRow(alias)} < ?`, [query.lastSeenBefore])]: [] });
  return {
    ...(Object.keys(test).length > 0 ? { test } : {}),
    ...(query.recordId ? { recordId: query.recordId } : {}),
    ...(query.severity ? { severity: query.severity } : {}),
    ...(query.active !== undefined ? { active: query.active } : {}),
    ...(query.falsePositive !== undefined ? { falseP: query.falsePositive } : {}),
    ...(query.riskAccepted !== undefined ? { riskAccepted: query.riskAccepted } : {}),
    ...(query.title ? { title: { $ilike: containing(query.title) } } : {}),
    ...(query.component ? { componentName: { $ilike: containing(query.component) } } : {}),
    ...(query.filePath ? { filePath: { $ilike: containing(query.filePath) } } : {}),
    ...(Object.keys(firstSeenAt).length > 0 ? { firstSeenAt } : {}),
    ...(conditions.length > 0 ? { $and: conditions } : {}),
  };
}

/** The routes of findings: filtered lists, one finding with its raw item, a person's triage, and its history. */
export function findingRoutes(): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/findings',
      operationId: 'listFindings',
      scope: 'read',
      tag: 'Findings',
      summary: 'List findings (without their raw item)',
      description:
        'Every filter given must hold. Text filters (title, component, filePath) match a part of the value, case-insensitively; ' +
        'vulnerabilityId matches one of the ids exactly. Ordered by `ordering` (id by default); `count=true` adds the number of matches.',
      query: findingsQuery,
      responses: { 200: { description: 'a page of findings', schema: pageOf(findingView) } },
      async handle({ query, em }) {
        // Plain rows of just what the view shows: a managed entity per row cost more than the page's SQL, and
        // loading the Tests too had doubled the time a page took (bench:api, docs/scaling.md).
        const page = await findPlainPage(em, Finding, findingFilter(query), keysetOf(FINDING_ORDERS, query.ordering), query, FINDING_SHOWN_PROPERTIES);
        return { status: 200, body: answerPage(page, toFindingView) };
      },
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/findings/:id',
      operationId: 'getFinding',
      scope: 'read',
      tag: 'Findings',
      summary: "Get a finding with the tool's raw item",
      params: findingIdParams,
      responses: { 200: { description: 'the finding', schema: findingDetailView } },
      errors: [404],
      async handle({ params, em }) {
        return { status: 200, body: toFindingDetailView(await findingOr404(em, params.id, { withRaw: true })) };
      },
    }),

    defineRoute({
      method: 'patch',
      path: '/api/v1/findings/:id',
      operationId: 'triageFinding',
      scope: 'operate',
      audit: { action: 'finding.triage', target: 'finding' },
      tag: 'Findings',
      summary: "A person's triage (false positive, risk accepted, out of scope) and edits (severity, description, mitigation)",
      description:
        'Any flag set makes the finding inactive and protects it from later syncs. Clearing every flag makes it active again unless it is mitigated. ' +
        "A field a person edited is never refreshed by later syncs. A triage that changes anything adds a `triaged` entry to the finding's history: who, what changed, when.",
      params: findingIdParams,
      body: triageBody,
      responses: { 200: { description: 'the finding', schema: findingDetailView } },
      errors: [404],
      async handle({ params, body, em, res }) {
        const finding = await findingOr404(em, params.id, { withRaw: true });
        const before = triagedValuesOf(finding);
        const now = new Date();
        applyTriage(finding, body, now);
        const changes = changesBetween(before, triagedValuesOf(finding));
        const caller = callerOf(res);
        // Written in the same flush (one transaction) as the triage itself, so the history never misses one.
        if (Object.keys(changes).length > 0) {
          em.create(FindingAction, {
            finding,
            import: null,
            action: 'triaged',
            actorTokenId: caller?.id ?? null,
            actorName: caller?.name ?? null,
            changes,
            createdAt: now,
          });
        }
        await em.flush();
        return { status: 200, body: toFindingDetailView(finding) };
      },
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/findings/:id/history',
      operationId: 'getFindingHistory',
      scope: 'read',
      tag: 'Findings',
      summary: "What each reimport did to the finding and each person's triage, oldest first",
      params: findingIdParams,
      query: pageQuery,
      responses: { 200: { description: 'a page of finding actions', schema: pageOf(findingActionView) } },
      errors: [404],
      async handle({ params, query, em }) {
        if (!(await em.count(Finding, { id: params.id }))) throw notFound('finding', params.id);
        const page = await findPage(
          em,
          FindingAction,
          { finding: params.id },
          { name: 'finding-history', keys: [{ property: 'id', kind: 'bigint' }], direction: 'asc' },
          query,
        );
        return { status: 200, body: answerPage(page, toFindingActionView) };
      },
    }),
  ];
}
