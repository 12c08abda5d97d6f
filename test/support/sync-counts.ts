import type { TestStack } from './stack.js';

/** Runs one sync of a connector through the API, expects it to succeed, and answers the reimport's counts. */
export async function syncCounts(stack: TestStack, connectorId: string) {
  const started = await stack.call('POST', `/api/v1/connectors/${connectorId}/sync`);
  expect(started.status).toBe(202);
  const op = await stack.waitForOperation(started.body.operationId, 60_000);
  expect({ status: op.status, error: op.error ?? null }).toEqual({ status: 'succeeded', error: null });
  const { created, closed, untouched, reactivated, updated } = op.summary;
  return { created, closed, untouched, reactivated, updated };
}
