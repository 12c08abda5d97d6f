import type { Logger } from 'pino';
import { openConnectorSecret, type SecretBox } from '../db/secrets.js';
import { ConnectorError } from '../errors.js';
import type { Outbound } from './http/outbound.js';
import { connectorFor, connectors, type ToolRegistry } from './index.js';
import type { ConnectorContext, ToolConnection, ToolConnector } from './types.js';

/** What a stored connector needs for a call to its tool. */
export interface StoredConnector {
  id: string;
  tool: string;
  location: string;
  secretEncrypted: string;
  settings: Record<string, unknown>;
}

export interface OpenedConnector {
  tool: ToolConnector;
  /** The tool's calls with this connector's settings parsed (once, here) and its secret opened (held in memory only). */
  connection: ToolConnection;
}

/**
 * Opens a stored connector for a call to its tool: the tool that implements it, its settings parsed, its
 * secret opened. The API's check and the worker's runs both come here, so each failure is the same typed
 * CONFIG_INVALID for both — fixed by a person, never by retrying.
 */
export function openConnector(connector: StoredConnector, secrets: SecretBox, registry: ToolRegistry = connectors): OpenedConnector {
  const tool = connectorFor(connector.tool, registry);
  return { tool, connection: tool.open({ location: connector.location, secret: openConnectorSecret(secrets, connector), settings: connector.settings ?? {} }) };
}

/**
 * The tool's one cheap authenticated call (SPEC §2 `check`), given at most `timeoutMs`: a tool that does not
 * answer is TOOL_UNAVAILABLE, and the call is aborted.
 */
export async function checkConnector(
  opened: OpenedConnector,
  context: { logger: Logger; outbound?: Outbound },
  timeoutMs: number,
): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const ctx: ConnectorContext = { logger: context.logger, signal: controller.signal, outbound: context.outbound };
  try {
    await Promise.race([
      opened.connection.check(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new ConnectorError('TOOL_UNAVAILABLE', `${opened.tool.displayName} did not answer the check within ${timeoutMs / 1000}s`));
        }, timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
