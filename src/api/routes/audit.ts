import { z } from 'zod';
import { AuditEvent } from '../../db/entities.js';
import { AUDIT_ACTIONS } from '../../domain.js';
import { answerPage, findPage, keysetOf, orderedPageQuery, pageOf, type ListOrders } from '../pagination.js';
import { defineRoute, type Route } from '../route-table.js';
import { instant } from '../schemas.js';
import { auditEventView, toAuditEventView } from '../views.js';

const AUDIT_ORDERS: ListOrders = {
  name: 'audit',
  fields: { at: 'timestamp' },
  idKind: 'uuid',
  default: '-at',
};

const auditQuery = orderedPageQuery(AUDIT_ORDERS).extend({
  actor: z.string().min(1).max(255).optional().describe("a token's id or name"),
  action: z.enum(AUDIT_ACTIONS).optional(),
  since: instant.optional().describe('only events at or after this time (UTC)'),
});

/** The audit log (admin only): every change made through the API and every refused attempt at one, newest first. */
export function auditRoutes(): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/audit',
      operationId: 'listAuditEvents',
      scope: 'admin',
      tag: 'Tokens',
      summary: 'The audit log, newest first: who changed what, when, and how it ended',
      query: auditQuery,
      responses: { 200: { description: 'a page of audit events', schema: pageOf(auditEventView) } },
      async handle({ query, em }) {
        const actor = query.actor === undefined ? {} : z.guid().safeParse(query.actor).success ? { actorTokenId: query.actor } : { actorName: query.actor };
        const page = await findPage(
          em,
          AuditEvent,
          { ...actor, ...(query.action ? { action: query.action } : {}), ...(query.since ? { at: { $gte: query.since } } : {}) },
          keysetOf(AUDIT_ORDERS, query.ordering),
          query,
        );
        return { status: 200, body: answerPage(page, toAuditEventView) };
      },
    }),
  ];
}
