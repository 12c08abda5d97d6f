import { execFile, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { SEARCH_ATTRIBUTE_NAMES } from '../search-attributes.js';
import { findFreePort, forEachLine, stopProcess, whenExited, type ProcessExit } from './processes.js';

const execFileAsync = promisify(execFile);

export const SEARCH_ATTRIBUTE_TYPES = ['Text', 'Keyword', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList'] as const;
export type SearchAttributeType = (typeof SEARCH_ATTRIBUTE_TYPES)[number];
export type TemporalLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'never';

/** The search attributes vulnsync's runs carry (src/search-attributes.ts), all Keyword, as the dev server registers them. */
export const VULNSYNC_SEARCH_ATTRIBUTES: Readonly<Record<string, SearchAttributeType>> = Object.fromEntries(
  SEARCH_ATTRIBUTE_NAMES.map((name) => [name, 'Keyword' as const]),
);

/**
 * Dynamic config vulnsync runs its dev servers with (temporal-dev.yml carries the same values; a test keeps them in
 * step). Measured with bench:fanout, 1,000 records: 62 s to 51 s for a connector sync (docs/scaling.md).
 * - Eager activity dispatch: an activity scheduled by a workflow task goes back to the worker in the task's
 *   answer, without a trip through the task queue (Temporal Cloud has it on).
 * - The search-attribute cache: start-dev otherwise reloads the attribute definitions from its database on
 *   every use, on every workflow start and visibility write. With the cache on, attributes registered on a
 *   running server are seen only after a restart, which startTemporalDevServer does when it registers any.
 */
const SEARCH_ATTRIBUTE_REFRESH = 'system.forceSearchAttributesCacheRefreshOnRead';
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, boolean>> = {
  'system.enableActivityEagerExecution': true,
  [SEARCH_ATTRIBUTE_REFRESH]: false,
};

/** What `temporal server start-dev` is asked to run; temporal-dev.yml's temporal service maps onto it. */
export interface TemporalDevServerSettings {
  /** SQLite file that keeps state across restarts; absent: in memory. */
  dbFilename?: string;
  ip: string;
  /** Front-end gRPC port; 0 picks a free one. */
  port: number;
  /** Web UI port; absent: the CLI's default (port + 1000); 0 picks a free one. Ignored when headless. */
  uiPort?: number;
  headless?: boolean;
  namespaces?: string[];
  searchAttributes?: Record<string, SearchAttributeType>;
  logLevel?: TemporalLogLevel;
  /** Closed-workflow retention set on every namespace after start, e.g. `30d`. */
  retention?: string;
  /** `--dynamic-config-value name=value` settings, e.g. DEV_SERVER_DYNAMIC_CONFIG. */
  dynamicConfig?: Readonly<Record<string, string | number | boolean>>;
  /** Further start-dev arguments passed through unchanged. */
  extraArgs?: string[];
}

export interface StartTemporalDevServerOptions extends TemporalDevServerSettings {
  cliPath: string;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** Own process group, so a terminal Ctrl-C reaches only the launcher, which stops the server last. */
  detached?: boolean;
  onOutput?: (line: string) => void;
}

export interface TemporalDevServer {
  readonly address: string;
  readonly uiUrl: string | undefined;
  readonly namespaces: string[];
  readonly pid: number;
  readonly exited: Promise<ProcessExit>;
  stop(): Promise<void>;
}

/** The `temporal server start-dev …` argument list for the settings, with every port already resolved. */
export function temporalDevServerArgs(settings: TemporalDevServerSettings): string[] {
  const args = ['server', 'start-dev', '--ip', settings.ip, '--port', String(settings.port)];
  if (settings.dbFilename) args.push('--db-filename', settings.dbFilename);
  if (settings.headless) args.push('--headless');
  else if (settings.uiPort !== undefined) args.push('--ui-port', String(settings.uiPort));
  for (const namespace of settings.namespaces ?? []) args.push('--namespace', namespace);
  for (const [name, type] of Object.entries(settings.searchAttributes ?? {})) args.push('--search-attribute', `${name}=${type}`);
  if (settings.logLevel) args.push('--log-level', settings.logLevel);
  for (const [name, value] of Object.entries(settings.dynamicConfig ?? {})) args.push('--dynamic-config-value', `${name}=${String(value)}`);
  args.push(...(settings.extraArgs ?? []));
  return args;
}

const CLIENT_FLAGS = ['--disable-config-env', '--disable-config-file', '--command-timeout', '30s'];

async function runCli(cliPath: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cliPath, [...args, ...CLIENT_FLAGS], { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stderr, stdout, message } = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`temporal ${args.slice(0, 3).join(' ')} failed: ${(stderr || stdout || message).trim()}`);
  }
}

function tcpAccepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** True when the front end at `address` answers the health check with SERVING. */
export async function isTemporalServing(cliPath: string, address: string): Promise<boolean> {
  const [host = '127.0.0.1', port = '7233'] = splitHostPort(address);
  if (!(await tcpAccepts(host, Number(port)))) return false;
  try {
    return (await runCli(cliPath, ['operator', 'cluster', 'health', '--address', address])).includes('SERVING');
  } catch {
    return false;
  }
}

function splitHostPort(address: string): [string, string] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at).replace(/^\[|\]$/g, ''), address.slice(at + 1)];
}

const indexedValueType = (type: SearchAttributeType) => `INDEXED_VALUE_TYPE_${type.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`;

async function listCustomSearchAttributes(cliPath: string, address: string, namespace: string): Promise<Record<string, string>> {
  const listed = JSON.parse(
    await runCli(cliPath, ['operator', 'search-attribute', 'list', '--address', address, '--namespace', namespace, '--output', 'json']),
  ) as { customAttributes?: Record<string, string> };
  return listed.customAttributes ?? {};
}

/**
 * Registers the search attributes a namespace lacks and returns their names. Needed because start-dev's
 * `--search-attribute` only takes effect when it creates the database file, so an existing
 * `.dev/temporal` file would miss attributes added later. An attribute registered with another type is
 * an error, never overwritten. Each `--name` gets its own `--type`: the CLI pairs them by position and
 * silently skips names without one.
 */
export async function registerSearchAttributes(
  cliPath: string,
  address: string,
  namespace: string,
  attributes: Record<string, SearchAttributeType>,
): Promise<string[]> {
  const existing = await listCustomSearchAttributes(cliPath, address, namespace);
  const missing: [string, SearchAttributeType][] = [];
  for (const [name, type] of Object.entries(attributes)) {
    const registered = existing[name];
    if (registered === undefined) missing.push([name, type]);
    else if (registered !== indexedValueType(type)) {
      throw new Error(`search attribute ${name} is registered as ${registered} in namespace ${namespace}; vulnsync needs ${type}`);
    }
  }
  if (missing.length === 0) return [];
  try {
    await runCli(cliPath, ['operator', 'search-attribute', 'create', '--address', address, '--namespace', namespace, ...missing.flatMap(([name, type]) => ['--name', name, '--type', type])]);
  } catch (error) {
    if (!/already exists/i.test((error as Error).message)) throw error;
  }
  const now = await listCustomSearchAttributes(cliPath, address, namespace);
  const stillMissing = missing.filter(([name]) => now[name] === undefined).map(([name]) => name);
  if (stillMissing.length > 0) throw new Error(`could not register search attributes ${stillMissing.join(', ')} in namespace ${namespace}`);
  return missing.map(([name]) => name);
}

/** Sets how long closed runs are kept; idempotent, so it runs at every start and follows temporal-dev.yml. */
export async function setNamespaceRetention(cliPath: string, address: string, namespace: string, retention: string): Promise<void> {
  await runCli(cliPath, ['operator', 'namespace', 'update', '--address', address, '--namespace', namespace, '--retention', retention]);
}

/**
 * Starts `temporal server start-dev` and resolves once it serves, has the requested search attributes
 * on every namespace and the retention set; the caller owns the returned handle and must `stop()` it.
 * A server that fails to come up is stopped and its last output is put in the error.
 */
export async function startTemporalDevServer(options: StartTemporalDevServerOptions): Promise<TemporalDevServer> {
  const ip = options.ip;
  const port = options.port === 0 ? await findFreePort(ip) : options.port;
  const uiPort = options.headless ? undefined : options.uiPort === 0 ? await findFreePort(ip) : options.uiPort;
  const settings: TemporalDevServerSettings = { ...options, port, uiPort };
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const address = `${host}:${port}`;
  const namespaces = [...new Set(['default', ...(options.namespaces ?? [])])];

  const recent: string[] = [];
  const onLine = (line: string) => {
    recent.push(line);
    if (recent.length > 40) recent.shift();
    options.onOutput?.(line);
  };
  const args = temporalDevServerArgs(settings);
  const failure = (reason: string) => new Error(`Temporal dev server on ${address} ${reason}\n${recent.map((l) => `  ${l}`).join('\n')}`);

  /** Spawns the server and waits until it serves; a server that does not come up is stopped. */
  async function launch() {
    const child = spawn(options.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
    child.on('error', (error) => onLine(`could not run ${options.cliPath}: ${error.message}`));
    forEachLine(child.stdout, onLine);
    forEachLine(child.stderr, onLine);
    const exited = whenExited(child);
    const stop = () => stopProcess(child, { timeoutMs: options.stopTimeoutMs ?? 10_000, processGroup: options.detached ?? false });
    try {
      const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
      let hasExited = false;
      void exited.then(() => (hasExited = true));
      while (!(await isTemporalServing(options.cliPath, address))) {
        if (hasExited) {
          const { code, signal } = await exited;
          throw failure(`exited (${signal ?? `code ${code}`}) before it was ready:`);
        }
        if (Date.now() > deadline) throw failure(`was not ready within ${options.readyTimeoutMs ?? 60_000} ms:`);
        await delay(200);
      }
    } catch (error) {
      await stop();
      throw error;
    }
    return { pid: child.pid!, exited, stop };
  }

  let server = await launch();
  try {
    let registered = 0;
    for (const namespace of namespaces) {
      if (options.searchAttributes) registered += (await registerSearchAttributes(options.cliPath, address, namespace, options.searchAttributes)).length;
      if (options.retention) await setNamespaceRetention(options.cliPath, address, namespace, options.retention);
    }
    // A server that caches attribute definitions would refuse runs carrying the new ones until it reloads them.
    // (A server in memory has its attributes from its flags and would lose everything in a restart.)
    if (registered > 0 && settings.dbFilename !== undefined && settings.dynamicConfig?.[SEARCH_ATTRIBUTE_REFRESH] === false) {
      await server.stop();
      server = await launch();
    }
  } catch (error) {
    await server.stop();
    throw error;
  }

  return {
    address,
    uiUrl: options.headless ? undefined : `http://${host}:${uiPort ?? port + 1000}`,
    namespaces,
    pid: server.pid,
    exited: server.exited,
    stop: server.stop,
  };
}
