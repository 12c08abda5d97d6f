import type { EntityManager } from '@mikro-orm/postgresql';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { TOKEN_SCOPES, type AuditAction, type TokenScope } from '../domain.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a handler gets: validated params, query and body, and the request's own EntityManager. */
export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The EntityManager of this request's RequestContext (never the global one). */
  em: EntityManager;
  req: Request;
  res: Response;
}

/** A handler's answer; `body` undefined answers with no content. */
export interface Reply {
  status: number;
  body?: unknown;
  /** Answers a string body as it is with this media type instead of as JSON (e.g. Prometheus' text format). */
  contentType?: string;
}

/** A documented response: its JSON schema, when it has a body. */
export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** The body's media type when it is not JSON. */
  mediaType?: string;
}

/** What a change is about in the audit log; its id is the route's `:id`, or the `id` of what a create answers. */
export type AuditTarget = 'connector' | 'schedule' | 'record' | 'finding' | 'token';

/**
 * Who may call a route. A public route needs no token; every other route must name the least scope it
 * needs (a route without one does not compile), and may name the audit action it writes.
 */
export type RouteAccess =
  | { public: true; scope?: never; audit?: never }
  | {
      public?: false;
      /** The least scope a token needs: scopes are ordered read < operate < admin. */
      scope: TokenScope;
      /** Set on every route that changes something: the app writes an audit event for each attempt. */
      audit?: { action: AuditAction; target: AuditTarget };
    };

/** Whether a token of scope `has` may call a route that needs `needs`. */
export function scopeAllows(has: TokenScope, needs: TokenScope): boolean {
  return TOKEN_SCOPES.indexOf(has) >= TOKEN_SCOPES.indexOf(needs);
}

interface RouteFields<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined> {
  method: HttpMethod;
  /** Express path, e.g. `/api/v1/connectors/:id`. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  params?: P;
  query?: Q;
  body?: B;
  responses: Record<number, ResponseSpec>;
  /** Error statuses this route can answer besides 400/401/500, documented with the error body. */
  errors?: number[];
  handle(ctx: RouteContext<Out<P>, Out<Q>, Out<B>>): Promise<Reply>;
}

export type RouteDefinition<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined> = RouteFields<P, Q, B> &
  RouteAccess;

/** A route of the API as the app registers it and the OpenAPI document describes it. */
export type Route = RouteDefinition<z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>;

/**
 * A route's query schema that refuses any parameter it does not name (400 naming it): a mistyped filter
 * must not silently answer the unfiltered list. A route without a query takes no parameter at all.
 */
export function strictQuery(query: z.ZodType | undefined): z.ZodType {
  if (query === undefined) return z.strictObject({});
  if (!(query instanceof z.ZodObject)) throw new Error('a query schema must be a zod object');
  return query.strict();
}

/**
 * Declares one route. The route table is the single source of truth: the app registers the handlers
 * from it and the OpenAPI document is generated from the same schemas, so the two cannot drift apart.
 */
export function defineRoute<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(definition: RouteDefinition<P, Q, B>): Route {
  return { ...definition, query: strictQuery(definition.query) } as unknown as Route;
}
