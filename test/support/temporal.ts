import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';

/** The address of the Temporal dev server test/setup/global-setup.ts started for this run. */
export function testTemporalAddress(): string {
  const address = process.env.VULNSYNC_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('VULNSYNC_TEST_TEMPORAL_ADDRESS is not set: run tests with `npm test`, whose global setup starts Temporal');
  return address;
}

/** A task queue no other test uses, so workers of parallel test files never take each other's tasks. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

export interface TestTemporalClient {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

/** A client of the run's Temporal server; the caller awaits `close()` in its teardown. */
export async function connectTestClient(options: { namespace?: string } = {}): Promise<TestTemporalClient> {
  const connection = await Connection.connect({ address: testTemporalAddress() });
  const client = new Client({ connection, namespace: options.namespace ?? 'default' });
  return { client, connection, close: () => connection.close() };
}
