import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { ConnectorError } from '../../errors.js';
import type { ConnectorContext } from '../types.js';
import { redactSecrets } from './auth.js';
import { defaultOutbound, outboundRefusalOf } from './outbound.js';
import { backoffDelayMs, DEFAULT_RETRY_POLICY, serverDelayMs, type RetryPolicy } from './retry-policy.js';

/**
 * Shared parts for tools reached through an AWS SDK v3 client (Security Hub): the SDK signs (SigV4), pages
 * and runs the retry loop; these parts give it the project's outbound address check, the project's retry
 * waits (announced through `ctx.onWait`, the server's `Retry-After` honoured, long waits handed to Temporal),
 * and turn what it throws into ConnectorErrors.
 */

/** What an SDK error carries (`$metadata` and `$response` are set by the SDK's deserialisers). */
interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number; headers?: Record<string, string> };
}

const asSdkError = (error: unknown): SdkError => (typeof error === 'object' && error !== null ? (error as SdkError) : {});

/** The delay the answer behind an SDK error asked for (`Retry-After`, `X-RateLimit-Reset`), or null. */
function serverDelayOf(error: SdkError, rateLimited: boolean): number | null {
  return serverDelayMs(new Headers(Object.entries(error.$response?.headers ?? {})), rateLimited);
}

const statusOf = (error: SdkError): number | undefined => error.$metadata?.httpStatusCode ?? error.$response?.statusCode;

/** Error names (codes) AWS answers when it does not accept the credentials themselves. */
const CREDENTIALS_REJECTED = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'ExpiredToken',
  'ExpiredTokenException',
]);
const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied']);
const THROTTLED = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling', 'LimitExceededException', 'RequestLimitExceeded']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The retry strategy (SDK's RetryStrategyV2 shape) the SDK's retry middleware drives. */
export interface SdkRetryStrategy {
  mode: string;
  acquireInitialRetryToken(scope: string): Promise<SdkRetryToken>;
  refreshRetryTokenForRetry(token: SdkRetryToken, info: { errorType: string; error?: unknown }): Promise<SdkRetryToken>;
  recordSuccess(token: SdkRetryToken): void;
}
interface SdkRetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
  getRetryCost(): number | undefined;
}

const tokenOf = (count: number, delay: number): SdkRetryToken => ({ getRetryCount: () => count, getRetryDelay: () => delay, getRetryCost: () => undefined });

/**
 * The SDK's retry loop with the project's waits: throttling, 5xx and network errors are retried up to
 * `policy.maxAttempts`, waiting what the server asked for or an exponential backoff; a wait longer than
 * `policy.maxDelayMs` is not taken in process (the error is raised, RATE_LIMITED with that delay).
 */
export function awsRetryStrategy(toolName: string, policy: RetryPolicy, ctx: ConnectorContext): SdkRetryStrategy {
  return {
    mode: 'standard',
    acquireInitialRetryToken: async () => tokenOf(0, 0),
    async refreshRetryTokenForRetry(token, info) {
      const error = asSdkError(info.error);
      const attempt = token.getRetryCount() + 1;
      const retryable = ['THROTTLING', 'TRANSIENT', 'SERVER_ERROR'].includes(info.errorType);
      if (!retryable || attempt >= policy.maxAttempts || ctx.signal?.aborted) throw info.error;
      const delay = serverDelayOf(error, info.errorType === 'THROTTLING') ?? backoffDelayMs(policy, attempt);
      if (delay > Math.min(policy.maxDelayMs, ctx.maxWaitMs ?? Infinity)) throw info.error;
      ctx.onWait?.(delay, `${toolName} answered ${statusOf(error) ?? error.code ?? error.name ?? 'an error'}${error.name ? ` (${error.name})` : ''}`);
      return tokenOf(attempt, delay);
    },
    recordSuccess: () => undefined,
  };
}

/**
 * The location that stands for AWS's own endpoint of each region: the API stores a URL for every connector
 * (and seals the secret to its origin), and the SDK picks `<service>.<region>.amazonaws.com` itself.
 */
export const AWS_PUBLIC_ENDPOINTS = 'https://amazonaws.com';

/** The SDK client options that route requests through the outbound check, with the project's timeout and retries. */
export function awsClientOptions(toolName: string, location: string, ctx: ConnectorContext, tuning: { timeoutMs?: number; retry?: Partial<RetryPolicy> }) {
  const outbound = ctx.outbound ?? defaultOutbound();
  const policy = { ...DEFAULT_RETRY_POLICY, ...tuning.retry };
  let endpoint: string | undefined;
  if (location.trim() && location.trim().replace(/\/$/, '') !== AWS_PUBLIC_ENDPOINTS) {
    const url = parseLocation(toolName, location);
    if (url.protocol === 'http:' && !outbound.allowHttp) throw new ConnectorError('CONFIG_INVALID', `The ${toolName} location must use https (plain http is switched off on this server)`);
    const refused = outbound.literalRefusal(url.hostname);
    if (refused) throw new ConnectorError('CONFIG_INVALID', refused.message);
    endpoint = url.toString().replace(/\/$/, '');
  }
  const timeoutMs = tuning.timeoutMs ?? 30_000;
  const lookup = outbound.nodeLookup;
  return {
    endpoint,
    maxAttempts: policy.maxAttempts,
    retryStrategy: awsRetryStrategy(toolName, policy, ctx),
    requestHandler: { requestTimeout: timeoutMs, connectionTimeout: timeoutMs, httpAgent: new HttpAgent({ lookup }), httpsAgent: new HttpsAgent({ lookup }) },
  };
}

function parseLocation(toolName: string, location: string): URL {
  try {
    const url = new URL(location);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // falls through to the error below
  }
  throw new ConnectorError('CONFIG_INVALID', `The ${toolName} location is not an http(s) URL: leave it empty for AWS's own endpoint of each region`);
}

export interface AwsErrorHints {
  /** What the credentials' IAM identity needs (said on a 403). */
  permissionHint: string;
  /** Credential parts never to repeat in a message. */
  secrets: readonly string[];
}

/**
 * The ConnectorError for what an SDK call threw. AWS answers unknown or badly signed credentials with a 403
 * like a missing permission; they are told apart by error code, and reported as 401 (credentials) and 403
 * (permission) the way every other tool's are.
 */
export function connectorErrorOfAws(toolName: string, thrown: unknown, hints: AwsErrorHints): ConnectorError {
  if (thrown instanceof ConnectorError) return thrown;
  const refused = outboundRefusalOf(thrown);
  if (refused) return new ConnectorError('CONFIG_INVALID', refused.message);
  const error = asSdkError(thrown);
  const name = error.name ?? 'Error';
  const status = statusOf(error);
  const said = redactSecrets(`${name}: ${error.message ?? ''}`.slice(0, 300), hints.secrets);
  const details = (extra: Partial<ConnectorError['details']> = {}) => ({ ...(status === undefined ? {} : { status }), ...extra });
  if (CREDENTIALS_REJECTED.has(name)) return new ConnectorError('AUTH_REJECTED', `${toolName} rejected the credentials (${said}): check the access key`, { status: 401 });
  if (ACCESS_DENIED.has(name) || status === 403) return new ConnectorError('AUTH_REJECTED', `${toolName} denied the request (${said}): ${hints.permissionHint}`, { status: 403 });
  if (THROTTLED.has(name) || status === 429) {
    const retryAfterMs = serverDelayOf(error, true) ?? DEFAULT_RETRY_POLICY.rateLimitFallbackMs;
    return new ConnectorError('RATE_LIMITED', `${toolName} is rate limiting requests (${said})`, details({ retryAfterMs }));
  }
  if (status !== undefined && status >= 500) return new ConnectorError('TOOL_UNAVAILABLE', `${toolName} answered ${status} (${said})`, details());
  if (status === 404) return new ConnectorError('CONFIG_INVALID', `${toolName} answered 404: this is not its API, check the location`, details());
  if (status !== undefined && status >= 200 && status < 300) return new ConnectorError('BAD_TOOL_DATA', `${toolName} sent an answer this connector cannot read (${said})`, details());
  if (status !== undefined && status >= 400) return new ConnectorError('CONFIG_INVALID', `${toolName} refused the request as invalid (${said})`, details());
  // The SDK wraps a body the connection broke off in a "Deserialization error" too: "Error: aborted".
  if (/wrapper for Error: aborted|ECONNRESET|premature close/i.test(error.message ?? '')) {
    return new ConnectorError('TOOL_UNAVAILABLE', `${toolName} broke off its answer (${said})`);
  }
  if (name === 'SyntaxError' || /deserializ/i.test(error.message ?? '')) return new ConnectorError('BAD_TOOL_DATA', `${toolName} sent an answer this connector cannot read (${said})`);
  const unreachable = NETWORK_CODES.has(error.code ?? '') || ['TimeoutError', 'RequestTimeout', 'AbortError'].includes(name) || error.$fault === 'server';
  if (unreachable || !error.$fault) return new ConnectorError('TOOL_UNAVAILABLE', `${toolName} could not be reached or broke off its answer (${said})`);
  return new ConnectorError('TOOL_UNAVAILABLE', `${toolName} failed (${said})`);
}
