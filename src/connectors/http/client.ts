import { pipeline, Readable, Transform } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetch } from 'undici';
import { ConnectorError, type ErrorType } from '../../errors.js';
import type { ConnectorContext } from '../types.js';
import { redactSecrets, secretsIn, type Authenticator } from './auth.js';
import { defaultOutbound, outboundRefusalOf } from './outbound.js';
import {
  DEFAULT_RETRY_POLICY,
  backoffDelayMs,
  isRateLimited,
  isTransientStatus,
  serverDelayMs,
  type RetryPolicy,
} from './retry-policy.js';

export type QueryValue = string | number | boolean | null | undefined;

/** What a 404 means for one request: the record is gone, or the API is not where the location says. */
export type NotFoundMeaning = Extract<ErrorType, 'RECORD_MISSING' | 'CONFIG_INVALID'> | { type: ErrorType; message: string };

export interface HttpRequest {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A path under the base URL (`/api/v1/project`), or an absolute URL on the base URL's origin (a `Link` header's next page). */
  path: string;
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** A POST that only reads (a GraphQL query), so it is retried like a GET. */
  idempotent?: boolean;
  /** Overrides the client's per-attempt timeout (an unpaginated answer holding a whole project takes longer). */
  timeoutMs?: number;
  /** Default CONFIG_INVALID: a listing that is not there means the location is wrong. Record fetches say RECORD_MISSING. */
  notFound?: NotFoundMeaning;
  /**
   * Non-2xx statuses the caller interprets itself (GitHub's 404 "no analysis found", 403 "Dependabot alerts
   * are disabled"): answered as a response instead of thrown. Rate limits and 5xx are still retried first.
   */
  passStatuses?: readonly number[];
  /**
   * Hand a 2xx body over as a byte stream instead of parsing it (`HttpResponse.stream`), for answers too
   * large to hold at once. Error answers are still read and classified as usual.
   */
  stream?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** The URL that answered, after same-origin redirects. */
  url: URL;
  /** The parsed JSON body of a 2xx answer; for a passed-through error status, its JSON or text (null when empty). */
  body: unknown;
  /** With `stream`, the body of a 2xx answer, unread. */
  stream?: Readable;
}

export interface HttpClientOptions {
  /** The tool as operators know it, for messages: "Dependency-Track", "GitHub". */
  toolName: string;
  /** What the secret is, for messages: "API key", "token". */
  credentialName: string;
  /** Said after a 403: which permissions the tool wants (default: "the <credential> lacks a permission this needs"). */
  permissionHint?: string;
  baseUrl: string;
  authenticate: Authenticator;
  /** Sent with every request (Accept, API version, User-Agent). */
  headers?: Record<string, string>;
  /** Per attempt, connection to last body byte. Default 30 s. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** How much of a tool's answer is read (DEFAULT_RESPONSE_LIMITS when left out). */
  limits?: Partial<ResponseLimits>;
}

/**
 * The most of a tool's answer vulnsync reads. Going over is BAD_TOOL_DATA, so a broken or hostile tool
 * fails the sync instead of exhausting the worker's memory.
 */
export interface ResponseLimits {
  /** A parsed (JSON) answer: one page of a listing. */
  maxResponseBytes: number;
  /** A streamed answer, read piece by piece (a whole project's findings). */
  maxStreamedBytes: number;
}

export const DEFAULT_RESPONSE_LIMITS: ResponseLimits = { maxResponseBytes: 32 * 1024 * 1024, maxStreamedBytes: 256 * 1024 * 1024 };

/** Error answers are only ever quoted, shortened, so reading more than this of one serves nobody. */
export const ERROR_BODY_LIMIT_BYTES = 4096;

/** Connector-level tuning, passed through to every client a connector creates (tests shorten the waits). */
export interface HttpTuning {
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  limits?: Partial<ResponseLimits>;
}

export interface HttpClient {
  readonly toolName: string;
  readonly baseUrl: URL;
  request(request: HttpRequest, ctx: ConnectorContext): Promise<HttpResponse>;
  /** The ConnectorError for an answer the caller passed through and then decided it cannot handle. */
  failureFor(request: HttpRequest, response: HttpResponse): ConnectorError;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/**
 * The one HTTP requester every connector uses, over Node's global fetch. It guarantees:
 * - each attempt is bounded by a timeout and by the caller's cancellation signal;
 * - 429, rate-limit 403s, 408, 5xx, network errors and timeouts are retried a few times, waiting what the
 *   server asked for (Retry-After, RateLimit-Reset) or an exponential backoff, announcing each wait through
 *   `ctx.onWait` so a long wait keeps the activity heartbeating;
 * - every other failure becomes a ConnectorError typed as SPEC §2 classifies it, with a message an operator
 *   can act on that never contains the secret (no auth headers, no credentials in URLs);
 * - credentials never leave the base URL's origin: cross-origin redirects and next-page links are refused.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const baseUrl = parseBaseUrl(options.baseUrl, options.toolName);
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const tool = options.toolName;
  const limits: ResponseLimits = { ...DEFAULT_RESPONSE_LIMITS, ...options.limits };
  let secrets: string[] = [];

  const redact = (text: string): string => redactSecrets(text, secrets);

  function urlFor(request: HttpRequest): URL {
    const url = /^https?:\/\//i.test(request.path)
      ? new URL(request.path)
      : new URL(baseUrl.href.replace(/\/+$/, '') + (request.path.startsWith('/') ? '' : '/') + request.path);
    if (url.origin !== baseUrl.origin) {
      throw new ConnectorError(
        'BAD_TOOL_DATA',
        `${tool} pointed to another host (${url.origin}); vulnsync only sends credentials to ${baseUrl.origin}`,
        { url: displayUrl(url) },
      );
    }
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    return url;
  }

  function failure(type: ErrorType, message: string, url: URL, extra: { status?: number; retryAfterMs?: number } = {}) {
    return new ConnectorError(type, redact(message), { url: displayUrl(url), ...extra });
  }

  function statusFailure(request: HttpRequest, url: URL, status: number, body: unknown): ConnectorError {
    const at = `${request.method ?? 'GET'} ${url.pathname}`;
    const said = vendorMessage(body);
    const suffix = said ? `: ${said}` : '';
    if (status === 401) {
      return failure('AUTH_REJECTED', `${tool} rejected the ${options.credentialName} (401) at ${at}${suffix}`, url, { status });
    }
    if (status === 403) {
      return failure(
        'AUTH_REJECTED',
        `${tool} refused access (403) at ${at}${suffix} — ${options.permissionHint ?? `the ${options.credentialName} lacks a permission this needs`}`,
        url,
        { status },
      );
    }
    if (status === 404 || status === 410) {
      const meaning = request.notFound ?? 'CONFIG_INVALID';
      if (typeof meaning === 'object') return failure(meaning.type, meaning.message, url, { status });
      const message =
        meaning === 'RECORD_MISSING'
          ? `${tool} no longer has this record (${status} at ${at})`
          : `${tool} has nothing at ${at} (${status}); check the location (base URL) ${baseUrl.origin}${baseUrl.pathname.replace(/\/$/, '')}`;
      return failure(meaning, message, url, { status });
    }
    if (status === 429) {
      return failure('RATE_LIMITED', `${tool} is rate limiting requests (429 at ${at})${suffix}`, url, { status });
    }
    if (isTransientStatus(status)) {
      return failure('TOOL_UNAVAILABLE', `${tool} is unavailable (${status} at ${at})${suffix}`, url, { status });
    }
    return failure('CONFIG_INVALID', `${tool} rejected the request (${status}) at ${at}${suffix}`, url, { status });
  }

  async function attempt(request: HttpRequest, ctx: ConnectorContext): Promise<AttemptOutcome> {
    const method = request.method ?? 'GET';
    let url = urlFor(request);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const deadline = AbortSignal.timeout(request.timeoutMs ?? timeoutMs);
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, deadline]) : deadline;
    const outbound = ctx.outbound ?? defaultOutbound();
    try {
      for (let redirects = 0; ; redirects++) {
        const baseHeaders: Record<string, string> = {
          ...options.headers,
          ...request.headers,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        };
        const authHeaders = await options.authenticate({ method, url, headers: baseHeaders, body }, ctx);
        secrets = [...secretsIn(authHeaders), ...(options.authenticate.secrets ?? [])];
        if (url.protocol === 'http:' && !outbound.allowHttp) {
          throw failure('CONFIG_INVALID', `${tool} is at a plain http location and this server only connects over https (VULNSYNC_ALLOW_HTTP)`, url);
        }
        const response = await fetch(url, {
          method,
          headers: { ...baseHeaders, ...authHeaders },
          body,
          signal,
          redirect: 'manual',
          dispatcher: outbound.dispatcher,
        });
        const location = response.headers.get('location');
        if (response.status >= 300 && response.status < 400 && location) {
          await response.body?.cancel();
          const target = new URL(location, url);
          if (target.origin !== baseUrl.origin) {
            throw failure(
              'CONFIG_INVALID',
              `${tool} redirected ${method} ${url.pathname} to another host (${target.origin}); set the location to the API's own URL`,
              url,
              { status: response.status },
            );
          }
          if (redirects >= MAX_REDIRECTS) {
            throw failure('BAD_TOOL_DATA', `${tool} redirected ${method} ${url.pathname} more than ${MAX_REDIRECTS} times`, url);
          }
          url = target;
          continue;
        }
        // undici's Headers is the class Node's fetch uses; only the TypeScript declarations differ.
        const headers = response.headers as unknown as Headers;
        if (request.stream && response.ok && response.body) {
          const stream = limitedStream(response.body, limits.maxStreamedBytes, () =>
            failure('BAD_TOOL_DATA', `The answer to ${method} ${url.pathname} is larger than ${formatBytes(limits.maxStreamedBytes)}, the most vulnsync reads from ${tool}`, url),
          );
          return { kind: 'answer', url, status: response.status, headers, text: '', stream };
        }
        const limit = response.ok ? limits.maxResponseBytes : ERROR_BODY_LIMIT_BYTES;
        const { text, over } = await readCapped(response.body, limit);
        if (over && response.ok) {
          throw failure('BAD_TOOL_DATA', `The answer to ${method} ${url.pathname} is larger than ${formatBytes(limit)}, the most vulnsync reads from ${tool} at once`, url, {
            status: response.status,
          });
        }
        return { kind: 'answer', url, status: response.status, headers, text };
      }
    } catch (error) {
      if (error instanceof ConnectorError) throw error;
      const refused = outboundRefusalOf(error);
      if (refused) throw failure('CONFIG_INVALID', refused.message, url);
      if (ctx.signal?.aborted) throw ctx.signal.reason ?? error;
      const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
      return { kind: 'unreachable', url, timedOut, cause: networkCause(error) };
    }
  }

  async function request(request: HttpRequest, ctx: ConnectorContext): Promise<HttpResponse> {
    const method = request.method ?? 'GET';
    const maxAttempts = IDEMPOTENT_METHODS.has(method) || request.idempotent ? Math.max(1, policy.maxAttempts) : 1;
    let renewed = false;
    for (let attemptNo = 1; ; attemptNo++) {
      const outcome = await attempt(request, ctx).catch((error: unknown) => {
        // A request refused before it left (outbound policy) was never sent; a body over its limit was.
        if (error instanceof ConnectorError && error.details.status !== undefined) ctx.onToolCall?.(error.type);
        throw error;
      });
      const at = `${method} ${outcome.url.pathname}`;
      let retry: { type: ErrorType; delayMs: number; serverAsked: boolean; error: ConnectorError };

      if (outcome.kind === 'unreachable') {
        const what = outcome.timedOut
          ? `${tool} did not answer ${at} within ${formatMs(request.timeoutMs ?? timeoutMs)}`
          : `${tool} could not be reached at ${outcome.url.origin} (${outcome.cause})`;
        retry = {
          type: 'TOOL_UNAVAILABLE',
          delayMs: backoffDelayMs(policy, attemptNo),
          serverAsked: false,
          error: failure('TOOL_UNAVAILABLE', what, outcome.url),
        };
      } else {
        const { status, headers, text } = outcome;
        if (status >= 200 && status < 300) {
          ctx.onToolCall?.(null);
          if (outcome.stream) return { status, headers, url: outcome.url, body: undefined, stream: outcome.stream };
          return { status, headers, url: outcome.url, body: parseJson(text, headers, at) };
        }
        // A short-lived token the tool no longer takes: renewed once, and the same request tried again.
        if (status === 401 && !renewed && options.authenticate.renewAfterRejection?.()) {
          ctx.onToolCall?.('AUTH_REJECTED');
          renewed = true;
          attemptNo -= 1;
          continue;
        }
        const errorBody = parseLenient(text);
        const rateLimited = isRateLimited(status, headers, vendorMessage(errorBody));
        if (!rateLimited && !isTransientStatus(status)) {
          if (request.passStatuses?.includes(status)) {
            ctx.onToolCall?.(null);
            return { status, headers, url: outcome.url, body: errorBody };
          }
          const failed = statusFailure(request, outcome.url, status, errorBody);
          ctx.onToolCall?.(failed.type);
          throw failed;
        }
        const asked = serverDelayMs(headers, rateLimited);
        const type: ErrorType = rateLimited ? 'RATE_LIMITED' : 'TOOL_UNAVAILABLE';
        const delayMs = asked ?? (rateLimited && status !== 429 ? policy.rateLimitFallbackMs : backoffDelayMs(policy, attemptNo));
        const error = rateLimited
          ? failure('RATE_LIMITED', `${tool} is rate limiting requests (${status} at ${at})`, outcome.url, { status })
          : statusFailure(request, outcome.url, status, errorBody);
        retry = { type, delayMs, serverAsked: asked !== null, error };
      }
      ctx.onToolCall?.(retry.type);

      const exhausted = attemptNo >= maxAttempts;
      if (exhausted || retry.delayMs > Math.min(policy.maxDelayMs, ctx.maxWaitMs ?? Infinity)) {
        const note = exhausted && maxAttempts > 1 ? ` after ${attemptNo} attempts` : '';
        const wait = retry.serverAsked ? `; ${tool} asked to wait ${formatMs(retry.delayMs)}` : '';
        throw new ConnectorError(retry.type, `${retry.error.message}${note}${wait}`, {
          ...retry.error.details,
          retryAfterMs: retry.delayMs,
        });
      }
      const reason = `${retry.error.message}; retrying in ${formatMs(retry.delayMs)} (attempt ${attemptNo + 1} of ${maxAttempts})`;
      ctx.logger.warn({ tool, url: retry.error.details.url, status: retry.error.details.status, waitMs: retry.delayMs }, reason);
      ctx.onWait?.(retry.delayMs, reason);
      await pause(retry.delayMs, ctx.signal);
    }
  }

  return {
    toolName: tool,
    baseUrl,
    request,
    failureFor: (req, response) => statusFailure(req, response.url, response.status, response.body),
  };
}

type AttemptOutcome =
  | { kind: 'answer'; url: URL; status: number; headers: Headers; text: string; stream?: Readable }
  | { kind: 'unreachable'; url: URL; timedOut: boolean; cause: string };

/** Waits, ending early with the caller's own cancellation reason (a Temporal CancelledFailure stays one). */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  } catch (error) {
    throw signal?.aborted ? (signal.reason ?? error) : error;
  }
}

function parseBaseUrl(location: string, tool: string): URL {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new ConnectorError('CONFIG_INVALID', `The ${tool} location "${location}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConnectorError('CONFIG_INVALID', `The ${tool} location must be an http(s) URL, not ${url.protocol}`);
  }
  if (url.username || url.password) {
    throw new ConnectorError('CONFIG_INVALID', `The ${tool} location must not contain credentials; put them in the secret`);
  }
  url.search = '';
  url.hash = '';
  return url;
}

/**
 * Reads at most `limit` bytes of a body, then stops reading: cancelling the body closes the connection,
 * so the rest of an oversized or endless answer is never received.
 */
async function readCapped(body: ReadableStream<Uint8Array> | null, limit: number): Promise<{ text: string; over: boolean }> {
  if (!body) return { text: '', over: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: Buffer.concat(chunks).toString('utf8'), over: false };
    if (size + value.length > limit) {
      chunks.push(value.subarray(0, limit - size));
      await reader.cancel();
      return { text: Buffer.concat(chunks).toString('utf8'), over: true };
    }
    chunks.push(value);
    size += value.length;
  }
}

/** The body as a Node stream that fails with `tooLarge()` past `limit` bytes, closing the connection. */
function limitedStream(body: ReadableStream<Uint8Array>, limit: number, tooLarge: () => Error): Readable {
  let seen = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > limit) callback(tooLarge());
      else callback(null, chunk);
    },
  });
  // pipeline destroys the source when the limiter fails; the error reaches whoever reads the limiter.
  return pipeline(Readable.fromWeb(body), limiter, () => undefined);
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round(bytes / (1024 * 1024))} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

/** Origin and path only: queries may carry filters, and nothing after the path is needed to locate a failure. */
function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function parseJson(text: string, headers: Headers, at: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const type = headers.get('content-type') ?? 'no content type';
    throw new ConnectorError('BAD_TOOL_DATA', `The answer to ${at} is not valid JSON (${type}, ${text.length} bytes)`);
  }
}

function parseLenient(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The tool's own explanation from an error body (`{ message }`, Black Duck's `{ errorMessage }`, `{ error }`, `{ errors: [...] }`, or plain text), shortened. */
export function vendorMessage(body: unknown): string | null {
  let said: unknown = null;
  if (typeof body === 'string') said = body;
  else if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    // `msg`: SonarQube's `{ errors: [{ msg }] }`; `errorMessage`: Black Duck's.
    said = record.message ?? record.errorMessage ?? record.error_description ?? record.error ?? record.detail ?? record.title ?? record.msg ?? null;
    if (said === null && Array.isArray(record.errors)) said = record.errors.map((e) => vendorMessage(e) ?? '').join('; ');
  }
  if (typeof said !== 'string') return null;
  // Bounded input and a tag pattern that cannot rescan: `<[^>]*>` over a run of `<` was quadratic.
  const oneLine = said.slice(0, 2000).replace(/<[^<>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  if (!oneLine) return null;
  return oneLine.length > 200 ? `${oneLine.slice(0, 197)}...` : oneLine;
}

function networkCause(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s` : `${ms} ms`;
}
