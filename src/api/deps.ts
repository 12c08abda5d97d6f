import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Outbound } from '../connectors/http/outbound.js';
import type { ToolRegistry } from '../connectors/index.js';
import type { SecretBox } from '../db/secrets.js';
import type { AuthFailureLimiter } from './auth.js';
import type { RunStarter } from '../temporal/runs.js';

/**
 * Everything the API needs, built once by server.ts (or a test). Nothing here is read from the
 * environment, so tests can build an app against their own database, task queue and connectors.
 */
export interface ApiDeps {
  orm: MikroORM;
  /** Temporal client: schedules, and readiness. */
  client: Client;
  /** Starts discover and sync runs (one Operation per run). */
  runs: RunStarter;
  /** Seals connector secrets on write and opens them for a check; a secret is never answered. */
  secrets: SecretBox;
  logger: Logger;
  taskQueue: string;
  temporalUiUrl: string;
  /** Connector schedules' jitter and catch-up window (Temporal duration strings such as `10m`). */
  schedule?: { jitter?: string; catchupWindow?: string };
  /** The connector types the API accepts; defaults to every connector vulnsync ships. */
  connectors?: ToolRegistry;
  /** Where a check's requests may go (and whether http locations are accepted); the defaults when left out. */
  outbound?: Outbound;
  /** How long `POST /connectors/:id/check` waits for the tool. Default 20 s. */
  checkTimeoutMs?: number;
  /** Largest accepted JSON body. Default `1mb`. */
  bodyLimit?: string;
  /** Slows down failed authentication per client address. Default: 20 failures a minute. */
  authFailures?: AuthFailureLimiter;
}
