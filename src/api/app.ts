import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RequestContext } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import express, { type Express, type Request, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import { connectors as shippedConnectors } from '../connectors/index.js';
import { auditTrail, rememberValidated } from './audit-trail.js';
import { AuthFailureLimiter, callerOf, requireApiToken } from './auth.js';
import type { ApiDeps } from './deps.js';
import { swaggerUi } from './docs.js';
import { ApiError, errorMiddleware, validationFailed } from './errors.js';
import { refuseIllFormedStrings } from './input.js';
import { openApiDocument } from './openapi.js';
import { operatorPage } from './operator-page.js';
import { defineRoute, type Route } from './route-table.js';
import { catalogRoutes } from './routes/catalog.js';
import { connectorRoutes } from './routes/connectors.js';
import { findingRoutes } from './routes/findings.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { operationRoutes } from './routes/operations.js';
import { recordRoutes } from './routes/records.js';
import { auditRoutes } from './routes/audit.js';
import { tokenRoutes } from './routes/tokens.js';

export type { ApiDeps } from './deps.js';

const DEFAULT_BODY_LIMIT = '1mb';
/** Paths an orchestrator or a scraper polls; their successes are logged at debug only. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/** The Express app, plus `settle()`: resolves once no Temporal call the app started on its own is pending. */
export type ApiApp = Express & {
  /** Call after the HTTP server has closed and before closing the Temporal connection. */
  settle(): Promise<void>;
};

function packageInfo(): { version: string; license: string } {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string; license?: string };
    return { version: manifest.version ?? '0.0.0', license: manifest.license ?? 'UNLICENSED' };
  } catch {
    return { version: '0.0.0', license: 'UNLICENSED' };
  }
}

/**
 * Logs one line per request: method, path, status, duration, and the caller's token by id and name.
 * Never headers, query values, bodies or a token's value.
 */
function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const caller = callerOf(res);
      // Not under a key named `token`: the logger censors that path, which would hide who made the call.
      const line = { requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10, tokenId: caller?.id, tokenName: caller?.name };
      // A probe's 503 is its verdict (the readiness check that failed is logged on its own), not a server error.
      if (PROBES.has(req.path) && (res.statusCode < 400 || res.statusCode === 503)) logger.debug(line, 'request');
      else if (res.statusCode >= 500) logger.error(line, 'request');
      else logger.info(line, 'request');
    });
    next();
  };
}

const hasBody = (req: Request) => req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';

/**
 * Validates params, query and body with the route's schemas (after refusing strings PostgreSQL cannot
 * store), runs the handler with the request's EntityManager, writes the audit event, answers.
 */
function handlerFor(route: Route, audit: ReturnType<typeof auditTrail>): RequestHandler {
  return async (req, res) => {
    const parse = (location: 'params' | 'query' | 'body', schema: Route['params'], value: unknown) => {
      if (!schema) return undefined;
      refuseIllFormedStrings(location, value);
      const parsed = schema.safeParse(value);
      if (!parsed.success) throw validationFailed(location, parsed.error);
      return parsed.data;
    };
    const params = parse('params', route.params, req.params);
    rememberValidated(res, { params });
    const query = parse('query', route.query, req.query);
    if (route.body && req.body === undefined && hasBody(req) && !req.is('application/json')) {
      throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    }
    const body = parse('body', route.body, req.body);
    rememberValidated(res, { params, body });
    const em = RequestContext.getEntityManager() as EntityManager | undefined;
    if (!em) throw new Error('no RequestContext for this request');
    const reply = await route.handle({ params, query, body, em, req, res });
    await audit.succeeded(route, req, res, reply);
    res.status(reply.status);
    if (reply.body === undefined) res.end();
    else if (reply.contentType) res.type(reply.contentType).send(reply.body);
    else res.json(reply.body);
  };
}

/** The OpenAPI document the API serves for `routes` (also written to a file by `npm run lint:openapi`). */
export function apiDocument(routes: readonly Route[]): Record<string, unknown> {
  const { version, license } = packageInfo();
  return openApiDocument(routes, { title: 'vulnsync API', version, license });
}

/** The OpenAPI document of `routes`, generated once on first request. */
function openApiRoute(routes: () => readonly Route[]): Route {
  let document: Record<string, unknown> | undefined;
  return defineRoute({
    method: 'get',
    path: '/api/v1/openapi.json',
    operationId: 'openApiDocument',
    tag: 'Health',
    summary: 'This OpenAPI 3.1 document',
    public: true,
    responses: { 200: { description: 'the OpenAPI document' } },
    async handle() {
      document ??= apiDocument(routes());
      return { status: 200, body: document };
    },
  });
}

/** Every route of the API, health and the OpenAPI document included (the document describes this very list). */
export function apiRoutes(deps: ApiDeps, health: ReturnType<typeof healthRoutes> = healthRoutes(deps)): Route[] {
  const tools = deps.connectors ?? shippedConnectors;
  const routes: Route[] = [
    ...health.routes,
    ...metricsRoutes(deps),
    openApiRoute(() => routes),
    ...connectorRoutes(deps, tools),
    ...recordRoutes(deps),
    ...operationRoutes(deps),
    ...catalogRoutes(),
    ...findingRoutes(),
    ...tokenRoutes(),
    ...auditRoutes(),
  ];
  return routes;
}

/**
 * The HTTP API (SPEC §6) as an Express app, built from its dependencies only. Every request runs in its
 * own MikroORM RequestContext; every route but health, the OpenAPI document and the operator page's static files needs an API token with
 * the route's scope, checked before the body is read; every change is written to the audit log; params,
 * query and body are validated with zod; one error middleware answers `{ error: { code, message,
 * details } }` and never a stack trace or a secret.
 */
export function createApp(deps: ApiDeps): ApiApp {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', false);

  const authenticate = requireApiToken(deps.authFailures ?? new AuthFailureLimiter());
  const audit = auditTrail(deps.orm, deps.logger);
  const json = express.json({ limit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT, strict: true });

  app.use(requestLog(deps.logger));
  app.use((_req, _res, next) => RequestContext.create(deps.orm.em, next));

  app.use(swaggerUi());

  const health = healthRoutes(deps);
  const routes = apiRoutes(deps, health);
  const methodsByPath = new Map<string, Set<string>>();
  for (const route of routes) {
    const chain = [
      ...(route.public ? [] : [authenticate(route.scope)]),
      ...(route.body ? [json] : []),
      handlerFor(route, audit),
      ...(route.audit ? [audit.failed(route)] : []),
    ];
    app[route.method](route.path, ...chain);
    (methodsByPath.get(route.path) ?? methodsByPath.set(route.path, new Set()).get(route.path)!).add(route.method.toUpperCase());
  }
  for (const [path, methods] of methodsByPath) {
    const allow = [...methods].join(', ');
    app.all(path, (_req, res) => {
      res.setHeader('Allow', allow);
      throw new ApiError(405, 'METHOD_NOT_ALLOWED', `use ${allow}`);
    });
  }
  app.use(operatorPage());
  app.use(() => {
    throw new ApiError(404, 'NOT_FOUND', 'no such route');
  });
  app.use(errorMiddleware(deps.logger));
  return Object.assign(app, { settle: health.settle });
}
