import { RequestContext } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestHandler, Response } from 'express';
import type { TokenScope } from '../domain.js';
import { ApiError, unauthorized } from './errors.js';
import { scopeAllows } from './route-table.js';
import { checkApiToken } from './tokens.js';

const BEARER = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i;

/** The token a request was made with, as the request log and the audit log name it (never its value). */
export interface Caller {
  id: string;
  name: string;
  scope: TokenScope;
}

export const callerOf = (res: Response): Caller | undefined => res.locals.caller as Caller | undefined;

/**
 * Counts failed authentications per client address in fixed windows; once an address reaches `max` in a
 * window, every request from it that needs a token is answered 429 until the window ends. It refuses
 * before looking at the token, so a blocked client cannot tell a good guess from a bad one.
 *
 * In memory and per process: it slows guessing down, it is not an account lockout. The number of tracked
 * addresses is capped so that many clients cannot grow it without bound.
 */
export class AuthFailureLimiter {
  private readonly windows = new Map<string, { started: number; failures: number }>();

  constructor(
    readonly max = 20,
    readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Seconds until `address` may try again, or 0 when it may try now. */
  retryAfter(address: string): number {
    const window = this.current(address);
    if (!window || window.failures < this.max) return 0;
    return Math.max(1, Math.ceil((window.started + this.windowMs - this.now()) / 1000));
  }

  fail(address: string): void {
    const window = this.current(address);
    if (window) {
      window.failures += 1;
      return;
    }
    if (this.windows.size >= this.maxAddresses) this.forgetOldest();
    this.windows.set(address, { started: this.now(), failures: 1 });
  }

  private current(address: string) {
    const window = this.windows.get(address);
    if (window && this.now() - window.started >= this.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }

  private forgetOldest(): void {
    const now = this.now();
    for (const [address, window] of this.windows) if (now - window.started >= this.windowMs) this.windows.delete(address);
    const oldest = this.windows.keys().next();
    if (this.windows.size >= this.maxAddresses && !oldest.done) this.windows.delete(oldest.value);
  }
}

const REFUSALS = {
  unknown: 'the API token is not valid',
  revoked: 'the API token has been revoked',
  expired: 'the API token has expired',
} as const;

/**
 * Requires `Authorization: Bearer <token>` naming a stored token that is neither revoked nor expired
 * (401 otherwise), with at least `scope` (403 otherwise, naming the scope needed). Failed authentications
 * count against the client's address in `limiter`.
 */
export function requireApiToken(limiter: AuthFailureLimiter): (scope: TokenScope) => RequestHandler {
  return (scope) => async (req, res, next) => {
    const address = req.socket.remoteAddress ?? 'unknown';
    const wait = limiter.retryAfter(address);
    if (wait > 0) {
      res.setHeader('Retry-After', String(wait));
      throw new ApiError(429, 'TOO_MANY_FAILED_AUTHENTICATIONS', `too many failed authentications from this address; try again in ${wait}s`);
    }
    const refuse = (message: string) => {
      limiter.fail(address);
      return unauthorized(message);
    };
    const header = req.headers.authorization;
    if (!header) throw refuse('an API token is required: send "Authorization: Bearer <token>"');
    const token = BEARER.exec(header)?.[1];
    if (!token) throw refuse('the Authorization header must be "Bearer <token>"');
    const checked = await checkApiToken(RequestContext.getEntityManager() as EntityManager, token);
    if (checked.status !== 'valid') throw refuse(REFUSALS[checked.status]);
    const caller: Caller = { id: checked.id, name: checked.name, scope: checked.scope };
    res.locals.caller = caller;
    if (!scopeAllows(caller.scope, scope)) {
      throw new ApiError(403, 'FORBIDDEN', `this request needs a token with the "${scope}" scope; this token has "${caller.scope}"`, {
        requiredScope: scope,
        tokenScope: caller.scope,
      });
    }
    next();
  };
}
