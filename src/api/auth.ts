import { RequestContext } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestHandler } from 'express';
import { unauthorized } from './errors.js';
import { hashApiToken } from './tokens.js';

const BEARER = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i;

/**
 * Requires `Authorization: Bearer <token>` naming a stored token (looked up by its SHA-256). The token's
 * `last_used_at` is refreshed at most once a minute, in the same statement, so a busy script does not
 * turn every read into a write.
 */
export function requireApiToken(): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization;
    if (!header) throw unauthorized('an API token is required: send "Authorization: Bearer <token>"');
    const token = BEARER.exec(header)?.[1];
    if (!token) throw unauthorized('the Authorization header must be "Bearer <token>"');
    const em = RequestContext.getEntityManager() as EntityManager;
    const [found] = await em.execute<{ id: string; name: string }[]>(
      `with token as (select id, name, last_used_at from api_token where token_hash = ?),
            touched as (update api_token set last_used_at = now()
                        where id in (select id from token where last_used_at is null or last_used_at < now() - interval '1 minute'))
       select id, name from token`,
      [hashApiToken(token)],
    );
    if (!found) throw unauthorized('the API token is not valid');
    res.locals.tokenName = found.name;
    next();
  };
}
