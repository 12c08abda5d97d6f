import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiToken } from '../db/entities.js';
import type { TokenScope } from '../domain.js';

/** The stored form of an API token: its SHA-256, hex. A database leak does not leak usable tokens. */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random token: `vs_` and 32 random bytes, base64url. */
export function generateApiToken(): string {
  return `vs_${randomBytes(32).toString('base64url')}`;
}

export interface NewApiToken {
  name: string;
  scope: TokenScope;
  /** When the token stops working; null or absent for a token that does not expire. */
  expiresAt?: Date | null;
}

/**
 * Creates an API token and returns it. The token itself is only ever in this return value (the database
 * keeps its hash), so the caller must hand it to the person now or it is lost.
 */
export async function createApiToken(em: EntityManager, options: NewApiToken): Promise<{ id: string; name: string; scope: TokenScope; token: string; row: ApiToken }> {
  const token = generateApiToken();
  const row = em.create(ApiToken, { name: options.name, scope: options.scope, expiresAt: options.expiresAt ?? null, tokenHash: hashApiToken(token) });
  await em.flush();
  return { id: row.id, name: row.name, scope: row.scope, token, row };
}

/**
 * The scope `token:create` gives when none is asked for: the first token of a database is `admin` (someone
 * has to be able to make the others), every later one `read` (the least that is useful).
 */
export async function defaultTokenScope(em: EntityManager): Promise<TokenScope> {
  return (await em.count(ApiToken, {})) === 0 ? 'admin' : 'read';
}

/**
 * Parses how long a new token lives: `90d`, `12h`, `4w`, or a date/time (ISO 8601). Answers the instant
 * it expires, or throws with a sentence for the person who typed it.
 */
export function parseTokenExpiry(text: string, now: Date = new Date()): Date {
  const relative = /^(\d{1,5})([hdw])$/.exec(text.trim());
  if (relative) {
    const hours = Number(relative[1]) * { h: 1, d: 24, w: 24 * 7 }[relative[2] as 'h' | 'd' | 'w'];
    if (hours === 0) throw new Error('--expires must be longer than zero');
    return new Date(now.getTime() + hours * 3_600_000);
  }
  const absolute = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d))?$/.test(text.trim()) ? new Date(text.trim()) : null;
  if (!absolute || Number.isNaN(absolute.getTime())) throw new Error(`--expires takes a duration such as 90d, 12h or 4w, or an ISO date; got "${text}"`);
  if (absolute <= now) throw new Error('--expires must be in the future');
  return absolute;
}

export type TokenCheck =
  | { status: 'valid'; id: string; name: string; scope: TokenScope }
  | { status: 'unknown' | 'revoked' | 'expired' };

/**
 * Looks a presented token up by its SHA-256 and says whether it may be used. A usable token's
 * `last_used_at` is refreshed at most once a minute, in the same statement, so a busy script does not turn
 * every read into a write; a revoked or expired one is never touched.
 */
export async function checkApiToken(em: EntityManager, token: string): Promise<TokenCheck> {
  const [found] = await em.execute<{ id: string; name: string; scope: TokenScope; revoked: boolean; expired: boolean }[]>(
    `with token as (select id, name, scope, last_used_at, revoked_at is not null as revoked,
                           coalesce(expires_at <= now(), false) as expired
                    from api_token where token_hash = ?),
          touched as (update api_token set last_used_at = now()
                      where id in (select id from token where not revoked and not expired
                                   and (last_used_at is null or last_used_at < now() - interval '1 minute')))
     select id, name, scope, revoked, expired from token`,
    [hashApiToken(token)],
  );
  if (!found) return { status: 'unknown' };
  if (found.revoked) return { status: 'revoked' };
  if (found.expired) return { status: 'expired' };
  return { status: 'valid', id: found.id, name: found.name, scope: found.scope };
}

/** Revokes a token: the row stays (the audit log names it), it just stops working. Revoking twice keeps the first time. */
export async function revokeApiToken(em: EntityManager, id: string): Promise<ApiToken | null> {
  const token = await em.findOne(ApiToken, { id });
  if (!token) return null;
  token.revokedAt ??= new Date();
  await em.flush();
  return token;
}
