import { z } from 'zod';
import { FindingAction, Import, Product, Test } from '../../db/entities.js';
import { notFound } from '../errors.js';
import { answerPage, findPage, keysetOf, orderedPageQuery, pageOf, pageQuery, type ListOrders } from '../pagination.js';
import { defineRoute, type Route } from '../route-table.js';
import { idParams } from '../schemas.js';
import { findingActionView, importView, productView, testView, toFindingActionView, toImportView, toProductView, toTestView } from '../views.js';

const PRODUCT_ORDERS: ListOrders = {
  name: 'products',
  fields: { name: 'text', createdAt: 'timestamp' },
  idKind: 'uuid',
  default: 'name',
};

const TEST_ORDERS: ListOrders = {
  name: 'tests',
  fields: { createdAt: 'timestamp', title: 'text' },
  idKind: 'uuid',
  default: 'createdAt',
};

const IMPORT_ORDERS: ListOrders = {
  name: 'imports',
  fields: { createdAt: 'timestamp' },
  idKind: 'uuid',
  default: '-createdAt',
};

/** The routes of where findings live (products, tests) and of what each reimport did (imports, actions). */
export function catalogRoutes(): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/products',
      operationId: 'listProducts',
      scope: 'read',
      tag: 'Findings',
      summary: 'List products, by name unless ordered otherwise',
      query: orderedPageQuery(PRODUCT_ORDERS),
      responses: { 200: { description: 'a page of products', schema: pageOf(productView) } },
      async handle({ query, em }) {
        const page = await findPage(
          em,
          Product,
          {},
          keysetOf(PRODUCT_ORDERS, query.ordering),
          query,
        );
        return { status: 200, body: answerPage(page, toProductView) };
      },
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/tests',
      operationId: 'listTests',
      scope: 'read',
      tag: 'Findings',
      summary: "List tests (one per product and connector: where that connector's findings for the product live)",
      query: orderedPageQuery(TEST_ORDERS).extend({ productId: z.guid().optional(), connectorId: z.guid().optional() }),
      responses: { 200: { description: 'a page of tests', schema: pageOf(testView) } },
      async handle({ query, em }) {
        const page = await findPage(
          em,
          Test,
          {
            ...(query.productId ? { engagement: { product: query.productId } } : {}),
            ...(query.connectorId ? { connector: query.connectorId } : {}),
          },
          keysetOf(TEST_ORDERS, query.ordering),
          query,
          { populate: ['engagement'] },
        );
        return { status: 200, body: answerPage(page, toTestView) };
      },
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/tests/:id/imports',
      operationId: 'listTestImports',
      scope: 'read',
      tag: 'Findings',
      summary: 'The reimports into a test, newest first, with their counts and severity totals before and after',
      params: idParams,
      query: orderedPageQuery(IMPORT_ORDERS),
      responses: { 200: { description: 'a page of imports', schema: pageOf(importView) } },
      errors: [404],
      async handle({ params, query, em }) {
        if (!(await em.count(Test, { id: params.id }))) throw notFound('test', params.id);
        const page = await findPage(
          em,
          Import,
          { test: params.id },
          keysetOf(IMPORT_ORDERS, query.ordering),
          query,
        );
        return { status: 200, body: answerPage(page, toImportView) };
      },
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/imports/:id/actions',
      operationId: 'listImportActions',
      scope: 'read',
      tag: 'Findings',
      summary: 'What one reimport did to each finding (created, closed, reactivated, untouched, updated)',
      params: idParams,
      query: pageQuery,
      responses: { 200: { description: 'a page of finding actions', schema: pageOf(findingActionView) } },
      errors: [404],
      async handle({ params, query, em }) {
        if (!(await em.count(Import, { id: params.id }))) throw notFound('import', params.id);
        const page = await findPage(
          em,
          FindingAction,
          { import: params.id },
          { name: 'import-actions', keys: [{ property: 'id', kind: 'bigint' }], direction: 'asc' },
          query,
        );
        return { status: 200, body: answerPage(page, toFindingActionView) };
      },
    }),
  ];
}
