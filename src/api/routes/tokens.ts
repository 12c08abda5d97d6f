import { z } from 'zod';
import { callerOf } from '../auth.js';
import { ApiToken } from '../../db/entities.js';
import { TOKEN_SCOPES } from '../../domain.js';
import { notFound } from '../errors.js';
import { answerPage, findPage, keysetOf, orderedPageQuery, pageOf, type ListOrders } from '../pagination.js';
import { defineRoute, type Route } from '../route-table.js';
import { idParams, instant } from '../schemas.js';
import { createApiToken, revokeApiToken } from '../tokens.js';
import { apiTokenView, createdApiTokenView, toApiTokenView } from '../views.js';

const TOKEN_ORDERS: ListOrders = {
  name: 'tokens',
  fields: { createdAt: 'timestamp', name: 'text' },
  idKind: 'uuid',
  default: 'createdAt',
};

const createBody = z.strictObject({
  name: z.string().trim().min(1).max(255).describe('who or what will use the token'),
  scope: z.enum(TOKEN_SCOPES).describe('read (GET), operate (runs, mappings, triage) or admin (connectors, schedules, tokens, audit)'),
  expiresAt: instant
    .refine((date) => date > new Date(), 'must be in the future')
    .optional()
    .describe('when the token stops working (UTC); absent for a token that does not expire'),
});

/** The routes of API tokens (admin only): list them without their secret, create one (answered once), revoke one. */
export function tokenRoutes(): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/tokens/self',
      operationId: 'getOwnToken',
      scope: 'read',
      tag: 'Tokens',
      summary: 'The token this request was made with (never its value): what it may do, so a client shows only that',
      responses: { 200: { description: 'the calling token', schema: apiTokenView } },
      async handle({ res, em }) {
        const caller = callerOf(res);
        const token = caller ? await em.findOne(ApiToken, { id: caller.id }) : null;
        if (!token) throw notFound('token', caller?.id ?? 'self');
        return { status: 200, body: toApiTokenView(token) };
      },
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/tokens',
      operationId: 'listTokens',
      scope: 'admin',
      tag: 'Tokens',
      summary: 'List API tokens, revoked ones included (never their value)',
      query: orderedPageQuery(TOKEN_ORDERS),
      responses: { 200: { description: 'a page of tokens', schema: pageOf(apiTokenView) } },
      async handle({ query, em }) {
        const page = await findPage(
          em,
          ApiToken,
          {},
          keysetOf(TOKEN_ORDERS, query.ordering),
          query,
          { exclude: ['tokenHash'] },
        );
        return { status: 200, body: answerPage(page, toApiTokenView) };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/v1/tokens',
      operationId: 'createToken',
      scope: 'admin',
      audit: { action: 'token.create', target: 'token' },
      tag: 'Tokens',
      summary: 'Create an API token; the answer is the only time its value is shown',
      body: createBody,
      responses: { 201: { description: 'the token, with its value', schema: createdApiTokenView } },
      async handle({ body, em }) {
        const created = await createApiToken(em, body);
        return { status: 201, body: { ...toApiTokenView(created.row), token: created.token } };
      },
    }),

    defineRoute({
      method: 'delete',
      path: '/api/v1/tokens/:id',
      operationId: 'revokeToken',
      scope: 'admin',
      audit: { action: 'token.revoke', target: 'token' },
      tag: 'Tokens',
      summary: 'Revoke an API token: it stops working at once; its row stays for the audit log',
      params: idParams,
      responses: { 204: { description: 'revoked' } },
      errors: [404],
      async handle({ params, em }) {
        if (!(await revokeApiToken(em, params.id))) throw notFound('token', params.id);
        return { status: 204 };
      },
    }),
  ];
}
