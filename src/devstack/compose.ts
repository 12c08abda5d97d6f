import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTE_TYPES, type SearchAttributeType, type TemporalDevServerSettings, type TemporalLogLevel } from './temporal-server.js';

/** A service of temporal-dev.yml as a local process: the same command, with the environment mapped to this host. */
export interface ServiceProcessPlan {
  command: string[];
  env: Record<string, string>;
}

/** The native equivalent of temporal-dev.yml, everything bound to 127.0.0.1. */
export interface NativeStackPlan {
  temporal: TemporalDevServerSettings;
  temporalAddress: string;
  temporalNamespace: string;
  temporalUiUrl: string | undefined;
  databaseUrl: string;
  apiUrl: string;
  worker: ServiceProcessPlan;
  api: ServiceProcessPlan;
}

export interface ComposePlanOptions {
  /** Where the repository is; a container volume such as `/data` becomes `<stateDir>/<service>/`. */
  repoRoot: string;
  /** Directory for service state; default `<repoRoot>/.dev`. */
  stateDir?: string;
  /** Variables for `${VAR}` interpolation, as Docker Compose takes them from the shell. */
  env?: NodeJS.ProcessEnv;
}

type ComposeService = {
  image?: string;
  command?: string | string[];
  /** What the native stack runs instead of `command` (which runs in the production image). */
  'x-dev-command'?: string | string[];
  environment?: Record<string, unknown> | string[];
  ports?: (string | number | { target?: number; published?: number | string })[];
  volumes?: (string | { target?: string })[];
};
type ComposeFile = { services?: Record<string, ComposeService> };

const LOOPBACK = '127.0.0.1';
const ANY_ADDRESS = '0.0.0.0';

/**
 * Expands `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `$VAR`
 * and `$$` the way Docker Compose does, so both runtimes read the same values from one file.
 */
export function interpolate(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced: string | undefined, operator: string | undefined, argument: string | undefined, bare: string | undefined) => {
      if (match === '$$') return '$';
      const name = (braced ?? bare)!;
      const current = env[name];
      const missing = operator?.startsWith(':') ? !current : current === undefined;
      if (operator?.endsWith('-')) return missing ? (argument ?? '') : current!;
      if (operator?.endsWith('?') && missing) throw new Error(`temporal-dev.yml needs ${name}: ${argument || 'it is not set'}`);
      return current ?? '';
    },
  );
}

function interpolateAll(node: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof node === 'string') return interpolate(node, env);
  if (Array.isArray(node)) return node.map((item) => interpolateAll(item, env));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, interpolateAll(value, env)]));
  }
  return node;
}

/** Splits a compose `command` string into words, honouring single and double quotes. */
function splitCommand(command: string | string[] | undefined): string[] {
  if (command === undefined) return [];
  if (Array.isArray(command)) return command.map(String);
  const words: string[] = [];
  for (const match of command.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) {
    words.push(match[1]?.replace(/\\(.)/g, '$1') ?? match[2] ?? match[3]!);
  }
  return words;
}

function environmentOf(service: ComposeService): Record<string, string> {
  const environment = service.environment ?? {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment.map((entry) => {
        const at = entry.indexOf('=');
        return at === -1 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, value === null || value === undefined ? '' : String(value)]));
}

/** container port -> host port, from short (`[ip:]published:target`) and long port syntax. */
function publishedPorts(service: ComposeService): Map<number, number> {
  const ports = new Map<number, number>();
  for (const entry of service.ports ?? []) {
    if (typeof entry === 'object') {
      if (entry.target !== undefined) ports.set(Number(entry.target), Number(entry.published ?? entry.target));
      continue;
    }
    const parts = String(entry).replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts.at(-1));
    const published = parts.length >= 2 ? Number(parts.at(-2)) : target;
    if (Number.isInteger(target) && Number.isInteger(published)) ports.set(target, published);
  }
  return ports;
}

class HostMapping {
  constructor(private readonly services: Record<string, ComposeService>) {}

  /** The host port that reaches `port` of `service`, as Docker publishes it; unpublished ports stay as they are. */
  port(service: string, port: number): number {
    return publishedPorts(this.services[service] ?? {}).get(port) ?? port;
  }

  /** Rewrites a value naming a service host (URL or host:port) or 0.0.0.0 to the loopback address. */
  value(value: string): string {
    if (value === ANY_ADDRESS) return LOOPBACK;
    const hostPort = /^([A-Za-z0-9_.-]+):(\d+)$/.exec(value);
    if (hostPort) {
      const [, host, port] = hostPort as unknown as [string, string, string];
      if (Object.hasOwn(this.services, host)) return `${LOOPBACK}:${this.port(host, Number(port))}`;
      return host === ANY_ADDRESS ? `${LOOPBACK}:${port}` : value;
    }
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return value;
    }
    if (Object.hasOwn(this.services, url.hostname)) {
      const port = url.port ? this.port(url.hostname, Number(url.port)) : undefined;
      url.hostname = LOOPBACK;
      if (port !== undefined) url.port = String(port);
      return url.toString().replace(/\/$/, value.endsWith('/') ? '/' : '');
    }
    if (url.hostname === ANY_ADDRESS) {
      url.hostname = LOOPBACK;
      return url.toString().replace(/\/$/, value.endsWith('/') ? '/' : '');
    }
    return value;
  }
}

function requireService(services: Record<string, ComposeService>, name: string): ComposeService {
  const service = services[name];
  if (!service) throw new Error(`temporal-dev.yml has no "${name}" service`);
  return service;
}

function temporalCliWords(service: ComposeService): string[] {
  const words = splitCommand(service.command);
  return words[0] === 'temporal' || words[0]?.endsWith('/temporal') ? words.slice(1) : words;
}

function volumeTargets(service: ComposeService): string[] {
  return (service.volumes ?? [])
    .map((volume) => (typeof volume === 'string' ? volume.split(':')[1] : volume.target))
    .filter((target): target is string => Boolean(target));
}

/** Maps the temporal service's `server start-dev` command onto settings for a local dev server. */
function temporalSettings(name: string, service: ComposeService, hosts: HostMapping, stateDir: string): TemporalDevServerSettings {
  const words = temporalCliWords(service);
  if (words[0] !== 'server' || words[1] !== 'start-dev') {
    throw new Error(`temporal-dev.yml: the ${name} service must run "server start-dev", not "${words.join(' ')}"`);
  }
  const localPath = (path: string) => {
    for (const target of volumeTargets(service)) {
      const relative = posix.relative(target, path);
      if (!relative.startsWith('..') && !posix.isAbsolute(relative)) return join(stateDir, name, ...relative.split('/'));
    }
    return path;
  };
  const settings: TemporalDevServerSettings = { ip: LOOPBACK, port: 7233, namespaces: [], searchAttributes: {}, extraArgs: [] };
  let uiPort: number | undefined;
  const rest = words.slice(2);
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    const eq = word.indexOf('=');
    const flag = word.startsWith('--') && eq !== -1 ? word.slice(0, eq) : word;
    const takeValue = () => {
      const value = flag !== word ? word.slice(eq + 1) : rest[++i];
      if (value === undefined) throw new Error(`temporal-dev.yml: ${flag} in the ${name} service's command has no value`);
      return value;
    };
    switch (flag) {
      case '--db-filename':
      case '-f':
        settings.dbFilename = localPath(takeValue());
        break;
      case '--ip':
        settings.ip = hosts.value(takeValue());
        break;
      case '--port':
      case '-p':
        settings.port = Number(takeValue());
        break;
      case '--ui-port':
        uiPort = Number(takeValue());
        break;
      case '--headless':
        settings.headless = true;
        break;
      case '--namespace':
      case '-n':
        settings.namespaces!.push(takeValue());
        break;
      case '--search-attribute': {
        const [attribute = '', type = ''] = takeValue().split('=');
        if (!(SEARCH_ATTRIBUTE_TYPES as readonly string[]).includes(type)) {
          throw new Error(`temporal-dev.yml: search attribute ${attribute} has unknown type "${type}"`);
        }
        settings.searchAttributes![attribute] = type as SearchAttributeType;
        break;
      }
      case '--log-level':
        settings.logLevel = takeValue() as TemporalLogLevel;
        break;
      case '--dynamic-config-value': {
        const setting = takeValue();
        const at = setting.indexOf('=');
        if (at <= 0) throw new Error(`temporal-dev.yml: --dynamic-config-value ${setting} in the ${name} service's command is not name=value`);
        const value = setting.slice(at + 1);
        settings.dynamicConfig = { ...settings.dynamicConfig, [setting.slice(0, at)]: value === 'true' ? true : value === 'false' ? false : value };
        break;
      }
      default:
        settings.extraArgs!.push(word === ANY_ADDRESS ? LOOPBACK : word);
    }
  }
  const containerPort = settings.port;
  settings.port = hosts.port(name, containerPort);
  if (!settings.headless) settings.uiPort = hosts.port(name, uiPort ?? containerPort + 1000);
  return settings;
}

/** `--retention` from the one-shot service that runs `operator namespace update` against the dev server. */
function retentionFrom(services: Record<string, ComposeService>): string | undefined {
  for (const service of Object.values(services)) {
    const words = temporalCliWords(service);
    if (words.slice(0, 3).join(' ') !== 'operator namespace update') continue;
    const at = words.indexOf('--retention');
    if (at !== -1 && words[at + 1]) return words[at + 1];
  }
  return undefined;
}

function processPlan(service: ComposeService, hosts: HostMapping): ServiceProcessPlan {
  const env = Object.fromEntries(Object.entries(environmentOf(service)).map(([key, value]) => [key, hosts.value(value)]));
  return { command: splitCommand(service['x-dev-command'] ?? service.command), env };
}

/**
 * Reads temporal-dev.yml into the plan `npm run dev` runs without Docker. The compose file stays the only
 * place ports, flags and environment are written; this mapping is what makes the two runtimes agree.
 */
export function planFromCompose(yamlText: string, options: ComposePlanOptions): NativeStackPlan {
  const document = interpolateAll(parse(yamlText, { merge: true }), options.env ?? process.env) as ComposeFile;
  const services = document.services ?? {};
  const hosts = new HostMapping(services);
  const stateDir = options.stateDir ?? join(options.repoRoot, '.dev');

  const temporal = { ...temporalSettings('temporal', requireService(services, 'temporal'), hosts, stateDir), retention: retentionFrom(services) };
  const worker = processPlan(requireService(services, 'worker'), hosts);
  const api = processPlan(requireService(services, 'api'), hosts);
  const databaseUrl = worker.env.DATABASE_URL ?? api.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('temporal-dev.yml: the worker service sets no DATABASE_URL');

  return {
    temporal,
    temporalAddress: worker.env.TEMPORAL_ADDRESS ?? `${temporal.ip}:${temporal.port}`,
    temporalNamespace: worker.env.TEMPORAL_NAMESPACE ?? 'default',
    temporalUiUrl: temporal.headless ? undefined : `http://${temporal.ip}:${temporal.uiPort}`,
    databaseUrl,
    apiUrl: `http://${api.env.VULNSYNC_API_HOST ?? LOOPBACK}:${api.env.VULNSYNC_API_PORT ?? '8080'}`,
    worker,
    api,
  };
}

/** Reads and maps a compose file; see {@link planFromCompose}. */
export async function readComposePlan(file: string, options: ComposePlanOptions): Promise<NativeStackPlan> {
  return planFromCompose(await readFile(file, 'utf8'), options);
}
