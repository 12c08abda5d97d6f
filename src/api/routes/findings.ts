import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { Finding, FindingAction } from '../../db/entities.js';
import { SEVERITIES } from '../../domain.js';
import { notFound } from '../errors.js';
import { findPage, pageOf, pageQuery } from '../pagination.js';
import { defineRoute, type Route } from '../route-table.js';
import { findingIdParams, queryBoolean } from '../schemas.js';
import { lastSightingOf } from '../../reimport/last-seen.js';
import { findingActionView, findingDetailView, findingView, toFindingActionView, toFindingDetailView, toFindingView } from '../views.js';

async function findingOr404(em: EntityManager, id: number, options: { withRaw?: boolean } = {}): Promise<Finding> {
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
      query: pageQuery.extend({
        productId: z.guid().optional(),
        testId: z.guid().optional(),
        connectorId: z.guid().optional(),
        recordId: z.guid().optional().describe('findings reported by this Record'),
        severity: z.enum(SEVERITIES).optional(),
        active: queryBoolean.optional(),
        falsePositive: queryBoolean.optional(),
        riskAccepted: queryBoolean.optional(),
      }),
      responses: { 200: { description: 'a page of findings', schema: pageOf(findingView) } },
      async handle({ query, em }) {
        const test = {
          ...(query.testId ? { id: query.testId } : {}),
          ...(query.connectorId ? { connector: query.connectorId } : {}),
          ...(query.productId ? { engagement: { product: query.productId } } : {}),
        };
        const page = await findPage(
          em,
          Finding,
          {
            ...(Object.keys(test).length > 0 ? { test } : {}),
            ...(query.recordId ? { recordId: query.recordId } : {}),
            ...(query.severity ? { severity: query.severity } : {}),
            ...(query.active !== undefined ? { active: query.active } : {}),
            ...(query.falsePositive !== undefined ? { falseP: query.falsePositive } : {}),
            ...(query.riskAccepted !== undefined ? { riskAccepted: query.riskAccepted } : {}),
          },
          { name: 'findings', keys: [{ property: 'id', kind: 'integer' }], direction: 'asc' },
          query,
          // The view needs only the Test's id, which the finding row holds: loading the Tests too doubled the
          // time a page took (bench:api, docs/scaling.md).
        );
        return { status: 200, body: { items: page.items.map(toFindingView), nextCursor: page.nextCursor } };
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
        'A field a person edited is never refreshed by later syncs.',
      params: findingIdParams,
      body: triageBody,
      responses: { 200: { description: 'the finding', schema: findingDetailView } },
      errors: [404],
      async handle({ params, body, em }) {
        const finding = await findingOr404(em, params.id, { withRaw: true });
        applyTriage(finding, body);
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
      summary: 'What each reimport did to the finding, oldest first',
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
          { name: 'finding-history', keys: [{ property: 'id', kind: 'integer' }], direction: 'asc' },
          query,
        );
        return { status: 200, body: { items: page.items.map(toFindingActionView), nextCursor: page.nextCursor } };
      },
    }),
  ];
}
