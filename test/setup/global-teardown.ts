import type { TemporalDevServer } from '../../src/devstack/temporal-server.js';

/** Stops the run's Temporal dev server (started by global-setup.ts) and waits until its process is gone. */
export default async function globalTeardown(): Promise<void> {
  const handles = globalThis as Record<symbol, TemporalDevServer | undefined>;
  const key = Symbol.for('vulnsync.test.temporal');
  await handles[key]?.stop();
  handles[key] = undefined;
}
