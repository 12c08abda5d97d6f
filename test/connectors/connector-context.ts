import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { ConnectorError } from '../../src/errors.js';
import type { ConnectorContext } from '../../src/connectors/types.js';

/** A connector context that records each announced wait, with a silent logger. */
export function testContext(signal?: AbortSignal): ConnectorContext & { waits: { ms: number; reason: string }[] } {
  const waits: { ms: number; reason: string }[] = [];
  return { logger: pino({ level: 'silent' }), signal, onWait: (ms, reason) => waits.push({ ms, reason }), waits };
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The ConnectorError a call fails with (a promise, or a function that throws or rejects); fails the test when it succeeds or throws anything else. */
export async function connectorErrorOf(work: Promise<unknown> | (() => unknown)): Promise<ConnectorError> {
  let outcome: unknown;
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (error) {
    outcome = error;
  }
  if (!(outcome instanceof ConnectorError)) {
    throw new Error(`expected a ConnectorError, got ${outcome === undefined ? 'success' : String(outcome)}`);
  }
  return outcome;
}

/** A URL on 127.0.0.1 where nothing listens (a port just released). */
export async function unreachableUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * Fast retries for tests: three attempts, 20 ms backoff, waits up to 3 s honoured in process. A request may take
 * 1 s (a loaded CI machine answered a fake's plain page in more than 400 ms); the slow-answer tests delay 2 s.
 */
export const FAST_RETRIES = { timeoutMs: 1_000, retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 3_000 } };
