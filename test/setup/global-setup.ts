import { tsImport } from 'tsx/esm/api';
import type * as Postgres from '../../src/devstack/postgres.js';
import type * as TemporalCli from '../../src/devstack/temporal-cli.js';
import type * as TemporalServer from '../../src/devstack/temporal-server.js';

/** Base URL of the PostgreSQL server tests create their databases on. */
const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Jest imports this file with Node's own ESM loader (not ts-jest), which neither maps `.js` specifiers to
 * `.ts` files nor transpiles the sources, so the devstack modules come in through tsx.
 */
const load = <T>(specifier: string): Promise<T> => tsImport(specifier, import.meta.url) as Promise<T>;

/**
 * Starts one in-memory Temporal dev server for the whole run on free ports, with vulnsync's search
 * attributes, and makes sure PostgreSQL is up. Its address goes into process.env, which Jest's worker
 * processes inherit, so every test file connects to the same server and isolates itself by task queue.
 * The handle is kept under Symbol.for('vulnsync.test.temporal') for global-teardown.
 */
export default async function globalSetup(): Promise<void> {
  const [{ ensurePostgres }, { ensureTemporalCli }, { DEV_SERVER_DYNAMIC_CONFIG, startTemporalDevServer, VULNSYNC_SEARCH_ATTRIBUTES }] = await Promise.all([
    load<typeof Postgres>('../../src/devstack/postgres.ts'),
    load<typeof TemporalCli>('../../src/devstack/temporal-cli.ts'),
    load<typeof TemporalServer>('../../src/devstack/temporal-server.ts'),
  ]);
  const databaseUrl = process.env.VULNSYNC_TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
  const cliPath = await ensureTemporalCli();
  await ensurePostgres(databaseUrl);
  // The Web UI only when screenshots are asked for (the playbook's pictures of it); tests never need it.
  const withUi = process.env.VULNSYNC_UI_SCREENSHOTS === '1';
  const server = await startTemporalDevServer({
    cliPath,
    ip: '127.0.0.1',
    port: 0,
    headless: !withUi,
    uiPort: withUi ? 0 : undefined,
    searchAttributes: { ...VULNSYNC_SEARCH_ATTRIBUTES },
    logLevel: 'error',
    dynamicConfig: DEV_SERVER_DYNAMIC_CONFIG,
  });
  (globalThis as Record<symbol, unknown>)[Symbol.for('vulnsync.test.temporal')] = server;
  process.env.VULNSYNC_TEST_DATABASE_URL = databaseUrl;
  process.env.VULNSYNC_TEST_TEMPORAL_ADDRESS = server.address;
  if (server.uiUrl) process.env.VULNSYNC_TEST_TEMPORAL_UI_URL = server.uiUrl;
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.TEMPORAL_NAMESPACE = 'default';
}
