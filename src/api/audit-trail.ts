import type { MikroORM } from '@mikro-orm/postgresql';
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from 'pino';
import { auditSummary, recordAuditEvent } from '../audit/audit-log.js';
import { callerOf } from './auth.js';
import { toApiError } from './errors.js';
import { stringProblem } from './input.js';
import type { Reply, Route } from './route-table.js';

/** What a request carried once validated; kept on `res.locals` so a failure later on can still be described. */
interface Validated {
  params?: unknown;
  body?: unknown;
}

export const rememberValidated = (res: Response, validated: Validated) => {
  res.locals.validated = validated;
};

const field = (value: unknown, key: string): unknown => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined);

/** The target's id: the validated `:id`, else a raw one that is safe to store, else the id of what a create answered. */
function targetId(req: Request, validated: Validated, reply?: Reply): string | null {
  const id = field(validated.params, 'id') ?? field(reply?.body, 'id') ?? req.params.id;
  if (typeof id === 'number') return String(id);
  return typeof id === 'string' && id.length <= 64 && stringProblem(id) === null ? id : null;
}

/**
 * The audit log as the app writes it, in one place for every route that declares `audit`: after the
 * handler answered (succeeded) or after anything refused or failed the request once the token was known
 * (failed: a missing scope, a bad body, a conflict, a tool that said no). A request without a valid token
 * is not an actor's attempt and is left to the request log.
 */
export function auditTrail(orm: MikroORM, logger: Logger) {
  async function write(route: Route, req: Request, res: Response, outcome: 'succeeded' | 'failed', status: number, reply?: Reply, errorCode?: string) {
    const caller = callerOf(res);
    if (!route.audit || !caller) return;
    const validated = (res.locals.validated ?? {}) as Validated;
    const operationId = field(reply?.body, 'operationId');
    const details = {
      ...(validated.body !== undefined ? { request: auditSummary(validated.body) } : {}),
      ...(typeof operationId === 'string' ? { operationId } : {}),
      ...(errorCode ? { error: errorCode } : {}),
    };
    try {
      await recordAuditEvent(orm.em.fork(), {
        actor: { tokenId: caller.id, name: caller.name },
        action: route.audit.action,
        target: { type: route.audit.target, id: targetId(req, validated, reply) },
        outcome,
        status,
        details: Object.keys(details).length > 0 ? details : null,
      });
    } catch (err) {
      // The change itself is done (or refused) either way; answering 500 for it would mislead the caller.
      logger.error({ requestId: res.locals.requestId, action: route.audit.action, err }, 'could not write the audit event');
    }
  }

  return {
    succeeded: (route: Route, req: Request, res: Response, reply: Reply) => write(route, req, res, 'succeeded', reply.status, reply),
    /** Route-level error middleware: records the failed attempt, then hands the error on to the one error middleware. */
    failed(route: Route): ErrorRequestHandler {
      return (err: unknown, req, res, next) => {
        const known = toApiError(err);
        write(route, req, res, 'failed', known?.status ?? 500, undefined, known?.code ?? 'INTERNAL').then(
          () => next(err),
          () => next(err),
        );
      };
    },
  };
}
