import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { productNamed } from '../../records/index.js';
import { Product, ToolRecord } from '../../db/entities.js';
import { RECORD_STATES } from '../../domain.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, conflict, notFound, requireEnabled } from '../errors.js';
import { answerPage, findPage, keysetOf, orderedPageQuery, pageOf, type ListOrders } from '../pagination.js';
import { defineRoute, type Route } from '../route-table.js';
import { idParams } from '../schemas.js';
import { recordView, syncStartedView, toRecordView } from '../views.js';

async function recordOr404(em: EntityManager, id: string): Promise<ToolRecord> {
  const record = await em.findOne(ToolRecord, { id }, { populate: ['product', 'connector'] });
  if (!record) throw notFound('record', id);
  return record;
}

const RECORD_ORDERS: ListOrders = {
  name: 'records',
  fields: {
    firstDiscoveredAt: 'timestamp',
    lastDiscoveredAt: 'timestamp',
    name: 'text',
    state: 'text',
  },
  idKind: 'uuid',
  default: 'firstDiscoveredAt',
};

const mapBody = z.union([
  z.strictObject({ productId: z.guid().describe('an existing product') }),
  z.strictObject({
    productName: z.string().trim().min(1).max(255).describe('the product of that name, created when missing'),
    productDescription: z.string().trim().min(1).max(10_000).optional().describe('the description of the product, if it is created (an existing product keeps its own)'),
  }),
]);

/**
 * The routes of Records (SPEC §3): a person maps a record to a product, unmaps it, ignores it (ignored
 * records are never synced and stay ignored across discovers), restores it, deletes it (discover finds
 * it again unless ignored), or syncs one mapped record now.
 */
export function recordRoutes(deps: ApiDeps): Route[] {
  const transition = (
    operationId: string,
    action: 'unmap' | 'ignore' | 'restore',
    summary: string,
    apply: (record: ToolRecord) => void,
  ) =>
    defineRoute({
      method: 'post',
      path: `/api/v1/records/:id/${action}`,
      operationId,
      scope: 'operate',
      audit: { action: `record.${action}`, target: 'record' },
      tag: 'Records',
      summary,
      params: idParams,
      responses: { 200: { description: 'the record', schema: recordView } },
      errors: [404, 409],
      async handle({ params, em }) {
        const record = await recordOr404(em, params.id);
        apply(record);
        await em.flush();
        return { status: 200, body: toRecordView(record) };
      },
    });

  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/records',
      operationId: 'listRecords',
      scope: 'read',
      tag: 'Records',
      summary: 'List records (the projects, repositories, … the tools have)',
      query: orderedPageQuery(RECORD_ORDERS).extend({
        connectorId: z.guid().optional(),
        state: z.enum(RECORD_STATES).optional(),
        productId: z.guid().optional(),
      }),
      responses: { 200: { description: 'a page of records', schema: pageOf(recordView) } },
      async handle({ query, em }) {
        const page = await findPage(
          em,
          ToolRecord,
          {
            ...(query.connectorId ? { connector: query.connectorId } : {}),
            ...(query.state ? { state: query.state } : {}),
            ...(query.productId ? { product: query.productId } : {}),
          },
          keysetOf(RECORD_ORDERS, query.ordering),
          query,
          { populate: ['product'] },
        );
        return { status: 200, body: answerPage(page, toRecordView) };
      },
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/records/:id',
      operationId: 'getRecord',
      scope: 'read',
      tag: 'Records',
      summary: 'Get a record, with its mapping and the outcome of its last sync',
      params: idParams,
      responses: { 200: { description: 'the record', schema: recordView } },
      errors: [404],
      async handle({ params, em }) {
        return { status: 200, body: toRecordView(await recordOr404(em, params.id)) };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/v1/records/:id/map',
      operationId: 'mapRecord',
      scope: 'operate',
      audit: { action: 'record.map', target: 'record' },
      tag: 'Records',
      summary: 'Map the record to a product (an existing one, or one created by name); the record becomes good',
      params: idParams,
      body: mapBody,
      responses: { 200: { description: 'the record', schema: recordView } },
      errors: [404, 422],
      async handle({ params, body, em }) {
        const record = await recordOr404(em, params.id);
        let product: Product | null;
        if ('productId' in body) {
          product = await em.findOne(Product, { id: body.productId });
          if (!product) throw new ApiError(422, 'UNKNOWN_PRODUCT', `product ${body.productId} does not exist`, { productId: body.productId });
        } else {
          product = await productNamed(em, body.productName, body.productDescription ?? null);
        }
        record.product = product;
        record.state = 'good';
        record.finalizedAt = new Date();
        await em.flush();
        return { status: 200, body: toRecordView(record) };
      },
    }),

    transition('unmapRecord', 'unmap', 'Unmap the record from its product; the record becomes new', (record) => {
      if (record.state === 'ignored') throw conflict('RECORD_IGNORED', 'the record is ignored; restore it instead');
      record.product = null;
      record.state = 'new';
      record.finalizedAt = null;
    }),

    transition('ignoreRecord', 'ignore', 'Ignore the record: it is never synced and stays ignored across discovers', (record) => {
      record.state = 'ignored';
    }),

    transition('restoreRecord', 'restore', 'Take an ignored record back; it becomes new (unmapped)', (record) => {
      if (record.state !== 'ignored') throw conflict('RECORD_NOT_IGNORED', `only an ignored record can be restored (this one is ${record.state})`);
      record.product = null;
      record.state = 'new';
      record.finalizedAt = null;
    }),

    defineRoute({
      method: 'delete',
      path: '/api/v1/records/:id',
      operationId: 'deleteRecord',
      scope: 'operate',
      audit: { action: 'record.delete', target: 'record' },
      tag: 'Records',
      summary: 'Delete the record (discover finds it again); its findings stay',
      params: idParams,
      responses: { 204: { description: 'deleted' } },
      errors: [404],
      async handle({ params, em }) {
        const deleted = await em.nativeDelete(ToolRecord, { id: params.id });
        if (deleted === 0) throw notFound('record', params.id);
        return { status: 204 };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/v1/records/:id/sync',
      operationId: 'syncRecord',
      scope: 'operate',
      audit: { action: 'record.sync', target: 'record' },
      tag: 'Runs',
      summary: "Start a sync of this record's findings, or join the one running",
      description: 'Only a mapped (good) record of an enabled connector can be synced. Poll GET /api/v1/operations/{operationId}.',
      params: idParams,
      responses: { 202: { description: 'the run started or joined', schema: syncStartedView } },
      errors: [404, 409],
      async handle({ params, em }) {
        const record = await recordOr404(em, params.id);
        if (record.state !== 'good' || !record.product) {
          throw conflict('RECORD_NOT_MAPPED', `only a mapped (good) record can be synced (this one is ${record.state})`);
        }
        const connector = record.connector;
        requireEnabled(connector);
        const started = await deps.runs.syncRecord(em, connector, { id: record.id, name: record.name, productId: record.product.id });
        const { operationId, workflowId, runId, temporalUrl, attached } = started;
        return { status: 202, body: { operationId, workflowId, runId, temporalUrl, attached } };
      },
    }),
  ];
}
