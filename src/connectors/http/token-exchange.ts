import type { ConnectorContext } from '../types.js';
import type { Authenticator } from './auth.js';

/** A short-lived credential a tool issued in exchange for the long-lived one: the headers it goes in, and how long it lives. */
export interface IssuedToken {
  headers: Record<string, string>;
  /** Null when the tool does not say: kept until the tool answers 401. */
  expiresInMs: number | null;
}

/**
 * An authenticator for tools that trade the stored secret for a short-lived token (Black Duck's
 * `POST /api/tokens/authenticate`). The token is exchanged on first use, renewed before it expires (with a
 * margin of a minute, or a tenth of its life when shorter, so a request never leaves with a token that dies
 * on the way), and renewed once more when the tool answers 401 anyway (revoked early, clock skew): the
 * HTTP client calls `renewAfterRejection` and repeats the request once. Concurrent requests share one exchange.
 * `secret` (the long-lived credential) is redacted from messages like the token; `now` is for tests.
 */
export function exchangedTokenAuth(
  exchange: (ctx: ConnectorContext) => Promise<IssuedToken>,
  options: { secret?: string; now?: () => number } = {},
): Authenticator {
  const now = options.now ?? Date.now;
  let current: { headers: Record<string, string>; renewAt: number } | null = null;
  let pending: Promise<Record<string, string>> | null = null;

  const renew = (ctx: ConnectorContext): Promise<Record<string, string>> =>
    (pending ??= exchange(ctx)
      .then((issued) => {
        const life = issued.expiresInMs ?? Infinity;
        current = { headers: issued.headers, renewAt: now() + life - Math.min(60_000, life / 10) };
        return issued.headers;
      })
      .finally(() => (pending = null)));

  const authenticate: Authenticator = (_request, ctx) => {
    if (current && now() < current.renewAt) return current.headers;
    if (!ctx) throw new Error('a token exchange needs the calling request\'s context');
    return renew(ctx);
  };
  authenticate.renewAfterRejection = () => {
    current = null;
    return true;
  };
  if (options.secret) authenticate.secrets = [options.secret];
  return authenticate;
}
