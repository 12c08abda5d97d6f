import { z } from 'zod';
import { Operation } from '../../db/entities.js';
import { OPERATION_STATUSES, OPERATION_TYPES } from '../../domain.js';
import type { ApiDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { answerPage, findPage, keysetOf, orderedPageQuery, pageOf, type ListOrders } from '../pagination.js';
import { defineRoute, type Route } from '../route-table.js';
import { idParams } from '../schemas.js';
import { operationView, toOperationView } from '../views.js';

const OPERATION_ORDERS: ListOrders = {
  name: 'operations',
  fields: { createdAt: 'timestamp', status: 'text', type: 'text' },
  idKind: 'uuid',
  default: '-createdAt',
};

/** The routes of Operations: every discover and sync run, newest first; a caller polls one until it is final. */
export function operationRoutes(deps: ApiDeps): Route[] {
  const view = (op: Operation) => toOperationView(op, deps.runs.temporalUrl);
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/operations',
      operationId: 'listOperations',
      scope: 'read',
      tag: 'Runs',
      summary: 'List discover and sync runs, newest first unless ordered otherwise',
      query: orderedPageQuery(OPERATION_ORDERS).extend({
        connectorId: z.guid().optional(),
        recordId: z.guid().optional(),
        status: z.enum(OPERATION_STATUSES).optional(),
        type: z.enum(OPERATION_TYPES).optional(),
      }),
      responses: { 200: { description: 'a page of operations', schema: pageOf(operationView) } },
      async handle({ query, em }) {
        const page = await findPage(
          em,
          Operation,
          {
            ...(query.connectorId ? { connector: query.connectorId } : {}),
            ...(query.recordId ? { record: query.recordId } : {}),
            ...(query.status ? { status: query.status } : {}),
            ...(query.type ? { type: query.type } : {}),
          },
          keysetOf(OPERATION_ORDERS, query.ordering),
          query,
        );
        return { status: 200, body: answerPage(page, view) };
      },
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/operations/:id',
      operationId: 'getOperation',
      scope: 'read',
      tag: 'Runs',
      summary: 'Get one run: status (pending, running, succeeded, failed, partial), counts, error and Temporal link',
      params: idParams,
      responses: { 200: { description: 'the operation', schema: operationView } },
      errors: [404],
      async handle({ params, em }) {
        const op = await em.findOne(Operation, { id: params.id });
        if (!op) throw notFound('operation', params.id);
        return { status: 200, body: view(op) };
      },
    }),
  ];
}
