import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';

/**
 * Temporal connection settings come from Temporal's standard environment configuration (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE and the TOML config file), so
 * the same build runs against a dev server, a self-hosted cluster with mTLS, or Temporal Cloud.
 */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env) {
  const overrides = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const config = loadClientConnectConfig({ overrideEnvVars: overrides });
  const connectionOptions = { ...config.connectionOptions, address: config.connectionOptions.address ?? '127.0.0.1:7233' };
  return { connectionOptions, namespace: config.namespace ?? 'default' };
}

export async function connectClient(env: NodeJS.ProcessEnv = process.env): Promise<{ client: Client; connection: Connection }> {
  const { connectionOptions, namespace } = temporalSettings(env);
  const connection = await Connection.connect(connectionOptions as Parameters<typeof Connection.connect>[0]);
  return { client: new Client({ connection, namespace }), connection };
}

export async function connectWorker(env: NodeJS.ProcessEnv = process.env): Promise<{ connection: NativeConnection; namespace: string }> {
  const { connectionOptions, namespace } = temporalSettings(env);
  return { connection: await NativeConnection.connect(connectionOptions), namespace };
}
