/**
 * When to retry a request inside one activity attempt, and for how long to wait. In-process retries are
 * kept few and short: a longer outage or a long rate-limit window is handed to Temporal's activity retry
 * (the thrown ConnectorError carries `retryAfterMs`), so a worker never sleeps for minutes holding a slot.
 */
export interface RetryPolicy {
  /** Attempts per request, the first included. */
  maxAttempts: number;
  /** First backoff for 5xx, 408, network errors and timeouts; doubled on each further attempt. */
  baseDelayMs: number;
  /** Longest single wait in process. A server asking for longer makes the request fail at once with that delay. */
  maxDelayMs: number;
  /** Wait when a rate-limit answer names no delay (GitHub asks for at least a minute for its secondary limits). */
  rateLimitFallbackMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  rateLimitFallbackMs: 60_000,
};

/** Statuses a later attempt can succeed on. 429 and rate-limit 403s are decided by `isRateLimited`. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status >= 500;
}

/**
 * A rate-limit answer: 429, or a 403 that says so (GitHub answers its primary limit with
 * `x-ratelimit-remaining: 0` and its secondary limits with `retry-after` or a "rate limit" message).
 */
export function isRateLimited(status: number, headers: Headers, message: string | null): boolean {
  if (status === 429) return true;
  if (status !== 403) return false;
  return (
    headers.get('x-ratelimit-remaining') === '0' ||
    headers.has('retry-after') ||
    (message !== null && /rate limit/i.test(message))
  );
}

/**
 * The delay the server asked for, in ms, or null when it named none: `Retry-After` (seconds or an HTTP
 * date), else — when the answer is a rate limit — `RateLimit-Reset` / `X-RateLimit-Reset` (delta seconds,
 * or epoch seconds as GitHub sends them).
 */
export function serverDelayMs(headers: Headers, rateLimited: boolean, now = Date.now()): number | null {
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds * 1000));
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  if (!rateLimited) return null;
  const reset = (headers.get('ratelimit-reset') ?? headers.get('x-ratelimit-reset'))?.trim();
  if (reset) {
    const value = Number(reset);
    if (Number.isFinite(value)) {
      const looksLikeEpochSeconds = value > 1_000_000_000;
      return Math.max(0, Math.ceil(looksLikeEpochSeconds ? value * 1000 - now : value * 1000));
    }
  }
  return null;
}

/** Exponential backoff with jitter for attempt n (1-based) that failed: base·2^(n-1), scaled by 0.5–1. */
export function backoffDelayMs(policy: RetryPolicy, failedAttempt: number, random = Math.random): number {
  const exponential = policy.baseDelayMs * 2 ** (failedAttempt - 1);
  return Math.round(exponential * (0.5 + random() / 2));
}
