import { describe, expect, it } from '@jest/globals';
import { AWS_PUBLIC_ENDPOINTS, awsClientOptions, awsRetryStrategy, connectorErrorOfAws } from '../../src/connectors/http/aws-sdk.js';
import { createOutbound, OutboundRefusedError } from '../../src/connectors/http/outbound.js';
import { DEFAULT_RETRY_POLICY } from '../../src/connectors/http/retry-policy.js';
import { ConnectorError } from '../../src/errors.js';
import { testContext } from './connector-context.js';

/** An error shaped as the SDK's deserialisers throw them. */
const sdkError = (name: string, status?: number, headers: Record<string, string> = {}, message = 'the message') =>
  Object.assign(new Error(message), { name, $fault: status && status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, $response: { statusCode: status, headers } });

const hints = { permissionHint: 'the IAM identity needs securityhub:GetFindings', secrets: ['AKIAEXAMPLEKEY000001', 'exampleSecretAccessKey0000'] };

describe('AWS SDK errors as ConnectorErrors', () => {
  it.each([
    ['UnrecognizedClientException', 403, 'AUTH_REJECTED', 401],
    ['InvalidSignatureException', 403, 'AUTH_REJECTED', 401],
    ['InvalidClientTokenId', 403, 'AUTH_REJECTED', 401],
    ['AccessDeniedException', 403, 'AUTH_REJECTED', 403],
    ['AccessDenied', 403, 'AUTH_REJECTED', 403],
    ['InternalException', 500, 'TOOL_UNAVAILABLE', 500],
    ['InvalidInputException', 400, 'CONFIG_INVALID', 400],
    ['UnknownError', 404, 'CONFIG_INVALID', 404],
  ])('%s (%i) is %s with status %i', (name, status, type, reported) => {
    const error = connectorErrorOfAws('Tool', sdkError(name, status), hints);
    expect(error).toMatchObject({ type, details: { status: reported } });
  });

  it('a missing permission names what the identity needs; credentials in an answer are redacted', () => {
    const error = connectorErrorOfAws('Tool', sdkError('AccessDeniedException', 403, {}, `key AKIAEXAMPLEKEY000001 with exampleSecretAccessKey0000 may not`), hints);
    expect(error.message).toContain('needs securityhub:GetFindings');
    expect(error.message).toContain('key [redacted] with [redacted] may not');
  });

  it('throttling is RATE_LIMITED with the delay the answer names, or the fallback', () => {
    expect(connectorErrorOfAws('Tool', sdkError('LimitExceededException', 429, { 'Retry-After': '90' }), hints)).toMatchObject({ type: 'RATE_LIMITED', details: { retryAfterMs: 90_000 } });
    expect(connectorErrorOfAws('Tool', sdkError('ThrottlingException', 400), hints)).toMatchObject({ type: 'RATE_LIMITED', details: { retryAfterMs: DEFAULT_RETRY_POLICY.rateLimitFallbackMs } });
  });

  it('network failures are TOOL_UNAVAILABLE, a refused address CONFIG_INVALID, a ConnectorError stays as it is', () => {
    expect(connectorErrorOfAws('Tool', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), hints).type).toBe('TOOL_UNAVAILABLE');
    expect(connectorErrorOfAws('Tool', new Error('wrapped', { cause: new OutboundRefusedError('no metadata') }), hints).type).toBe('CONFIG_INVALID');
    const own = new ConnectorError('RECORD_MISSING', 'gone');
    expect(connectorErrorOfAws('Tool', own, hints)).toBe(own);
  });
});

describe('the SDK retry strategy with the project retry policy', () => {
  const policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 5_000 };

  it("waits the answer's Retry-After on throttling and announces it", async () => {
    const ctx = testContext();
    const strategy = awsRetryStrategy('Tool', policy, ctx);
    const first = await strategy.acquireInitialRetryToken('');
    const next = await strategy.refreshRetryTokenForRetry(first, { errorType: 'THROTTLING', error: sdkError('TooManyRequestsException', 429, { 'retry-after': '2' }) });
    expect([next.getRetryCount(), next.getRetryDelay()]).toEqual([1, 2_000]);
    expect(ctx.waits).toEqual([{ ms: 2_000, reason: 'Tool answered 429 (TooManyRequestsException)' }]);
  });

  it('backs off exponentially on 5xx, and gives up after maxAttempts', async () => {
    const strategy = awsRetryStrategy('Tool', policy, testContext());
    const error = sdkError('InternalException', 500);
    const second = await strategy.refreshRetryTokenForRetry(await strategy.acquireInitialRetryToken(''), { errorType: 'TRANSIENT', error });
    expect(second.getRetryDelay()).toBeGreaterThanOrEqual(50);
    expect(second.getRetryDelay()).toBeLessThanOrEqual(100);
    const third = await strategy.refreshRetryTokenForRetry(second, { errorType: 'SERVER_ERROR', error });
    expect(third.getRetryDelay()).toBeGreaterThanOrEqual(100);
    await expect(strategy.refreshRetryTokenForRetry(third, { errorType: 'TRANSIENT', error })).rejects.toBe(error);
  });

  it('never retries a client error, nor waits longer than maxDelayMs in process', async () => {
    const ctx = testContext();
    const strategy = awsRetryStrategy('Tool', policy, ctx);
    const token = await strategy.acquireInitialRetryToken('');
    const denied = sdkError('AccessDeniedException', 403);
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'CLIENT_ERROR', error: denied })).rejects.toBe(denied);
    const long = sdkError('TooManyRequestsException', 429, { 'Retry-After': '60' });
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING', error: long })).rejects.toBe(long);
    expect(ctx.waits).toEqual([]);
  });
});

describe('the SDK client options', () => {
  const options = (location: string, outbound = createOutbound()) => awsClientOptions('Tool', location, { ...testContext(), outbound }, {});

  it("leaves AWS's own regional endpoints to the SDK, overrides them with any other location", () => {
    expect(options(AWS_PUBLIC_ENDPOINTS).endpoint).toBeUndefined();
    expect(options('').endpoint).toBeUndefined();
    expect(options('https://vpce-0abc.securityhub.eu-central-1.vpce.amazonaws.com/').endpoint).toBe('https://vpce-0abc.securityhub.eu-central-1.vpce.amazonaws.com');
  });

  it('refuses a location that is not http(s), plain http where it is switched off, and a denied literal address', () => {
    const refusal = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return error as ConnectorError;
      }
      throw new Error('expected a refusal');
    };
    expect(refusal(() => options('ftp://example.com')).type).toBe('CONFIG_INVALID');
    expect(refusal(() => options('http://aws.internal', createOutbound({ allowHttp: false }))).message).toContain('https');
    expect(refusal(() => options('http://169.254.169.254')).message).toContain('169.254.0.0/16');
    expect(refusal(() => options('http://[fd00:ec2::254]')).message).toContain('fd00:ec2::254/128');
    expect(options('http://169.254.169.254', createOutbound({ allowHosts: ['169.254.169.254'] })).endpoint).toBe('http://169.254.169.254');
  });
});
